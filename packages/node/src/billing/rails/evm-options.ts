// The evm rail's options (billing.evm.*), kept beside the rail; config.ts lists them with the
// rest so they validate, map to HANSA_BILLING_EVM_* variables and appear in
// docs/configuration.md like every other option.
import type { OptionSpec } from '../../config.js'

export type EvmConfig = {
  rpcUrl: string
  token: string
  router: string
  chequebookFactory: string
  registry: string
  confirmations: number
  payout: string
  cashOutGasMultiple: number
  unitsPerEth: string
  cashOutIntervalSeconds: number
}

const o = (
  key: string,
  type: OptionSpec['type'],
  value: unknown,
  description: string,
  extra: Partial<OptionSpec> = {},
): OptionSpec => ({ key, type, default: value, description, restart: true, ...extra })

export const EVM_OPTIONS: readonly OptionSpec[] = [
  o(
    'billing.evm.rpcUrl',
    'string',
    '',
    'evm rail: JSON-RPC URL of the chain (billing.chainId must be its chain id).',
  ),
  o('billing.evm.token', 'string', '', 'evm rail: the ERC-20 every price is paid in.'),
  o(
    'billing.evm.router',
    'string',
    '',
    'evm rail: the PaymentRouter subscriptions are paid through (it splits the dev tax on chain).',
  ),
  o(
    'billing.evm.chequebookFactory',
    'string',
    '',
    'evm rail: the ChequebookFactory; hard mode credits cheques only from chequebooks it deployed (empty: subscriptions only, cheques refused).',
  ),
  o(
    'billing.evm.registry',
    'string',
    '',
    'evm rail: the FederationRegistry, named in the terms (empty: none).',
  ),
  o(
    'billing.evm.confirmations',
    'integer',
    1,
    'evm rail: blocks a payment needs (its own included) before it is accepted.',
    { min: 1 },
  ),
  o(
    'billing.evm.payout',
    'string',
    '',
    "evm rail: where income goes (set on the router by the node at start). Empty: the node key's address.",
  ),
  o(
    'billing.evm.cashOutGasMultiple',
    'number',
    10,
    'evm rail, hard mode: cash a chequebook once what is uncashed is worth more than this multiple of the gas a cash-out costs.',
    { min: 0 },
  ),
  o(
    'billing.evm.unitsPerEth',
    'string',
    '0',
    'evm rail: base units of billing.unit one ether is worth, to price gas (0: gas is free, cash every cheque).',
  ),
  o(
    'billing.evm.cashOutIntervalSeconds',
    'integer',
    30,
    'evm rail, hard mode: how often failed cash-outs are retried and pending ones looked at again.',
    { min: 1 },
  ),
]
