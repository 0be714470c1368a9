// The evm rail's options (billing.evm.*), declared beside the rail; billing/options.ts puts
// them in the node's schema, so they validate, map to HANSA_BILLING_EVM_* variables and appear
// in docs/configuration.md like every other option.
import type { Static } from '@sinclair/typebox'
import { option } from '../../config/option.js'

export const evmOptions = option.section({
  rpcUrl: option.string(
    '',
    'evm rail: JSON-RPC URL of the chain (billing.chainId must be its chain id).',
  ),
  token: option.string('', 'evm rail: the ERC-20 every price is paid in.'),
  router: option.string(
    '',
    'evm rail: the PaymentRouter subscriptions are paid through (it splits the dev tax on chain).',
  ),
  chequebookFactory: option.string(
    '',
    'evm rail: the ChequebookFactory; hard mode credits cheques only from chequebooks it deployed (empty: subscriptions only, cheques refused).',
  ),
  registry: option.string(
    '',
    "evm rail: the FederationRegistry, named in the terms; the node gathers guardians' signatures for it (POST /federation/registry-signatures). Empty: none.",
  ),
  confirmations: option.integer(1, {
    description: 'evm rail: blocks a payment needs (its own included) before it is accepted.',
    min: 1,
  }),
  payout: option.string(
    '',
    "evm rail: where income goes (set on the router by the node at start). Empty: the node key's address.",
  ),
  cashOutGasMultiple: option.number(10, {
    description:
      'evm rail, hard mode: cash a chequebook once what is uncashed is worth more than this multiple of the gas a cash-out costs.',
    min: 0,
  }),
  unitsPerEth: option.string(
    '0',
    'evm rail: base units of billing.unit one ether is worth, to price gas (0: gas is free, cash every cheque).',
  ),
  cashOutIntervalSeconds: option.integer(30, {
    description:
      'evm rail, hard mode: how often failed cash-outs are retried and pending ones looked at again.',
    min: 1,
  }),
})

export type EvmConfig = Static<typeof evmOptions>
