// Picks the settlement rail the configuration names: `ledger` (cheques on trust) or `evm`
// (ERC-20 payments through a router that splits dev tax on chain, cashable chequebooks:
// SWAP's hard mode). `lightning` (paid invoices) has its place here and in rail.ts; until it
// is built, choosing it stops the node at start rather than taking payments it cannot check.
import { ConfigError } from '../../config.js'
import { EvmRail, type EvmRailOptions } from './evm-rail.js'
import { LedgerRail } from './ledger-rail.js'
import type { SettlementRail } from './rail.js'

export function createRail(name: string, evm?: EvmRailOptions): SettlementRail {
  switch (name) {
    case 'ledger':
      return new LedgerRail()
    case 'evm':
      if (!evm) throw new ConfigError('billing.rail evm needs billing.evm.*')
      return new EvmRail(evm)
    case 'lightning':
      throw new ConfigError(
        `billing.rail ${name} is not built yet; use ledger (cheques credited on trust)`,
        'docs/paid-access.md, "Settlement rails", says where the evm and lightning rails go.',
      )
    default:
      throw new ConfigError(`billing.rail must be ledger, evm or lightning; got ${name}`)
  }
}

export { LedgerRail } from './ledger-rail.js'
export { EvmRail } from './evm-rail.js'
export { EVM_ERROR_CODES } from './evm-errors.js'
export type {
  SettlementRail,
  IssuerAnswer,
  SettleOutcome,
  ExpectedPayment,
  VerifiedPayment,
} from './rail.js'
