// Picks the settlement rail the configuration names. `evm` (ERC-20 payments through a router
// that splits dev tax on chain, cashable chequebooks: SWAP's hard mode) and `lightning` (paid
// invoices) have their place here and in rail.ts; until they are built, choosing one stops the
// node at start with a clear message rather than taking payments it cannot check.
import { ConfigError } from '../../config.js'
import { LedgerRail } from './ledger-rail.js'
import type { SettlementRail } from './rail.js'

export function createRail(name: string): SettlementRail {
  switch (name) {
    case 'ledger':
      return new LedgerRail()
    case 'evm':
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
export type {
  SettlementRail,
  IssuerAnswer,
  SettleOutcome,
} from './rail.js'
