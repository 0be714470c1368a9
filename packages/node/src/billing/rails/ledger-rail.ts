// The ledger rail, built in: payments are cheques credited on trust (SWAP's mock mode). A
// payer's chequebook is her own Ethereum address — there is no contract and no deposit — so
// the chequebook's issuer is the address itself, and a credited cheque is kept in the books
// (the `cheques` table), never cashed. It is what a federation runs before it picks a chain,
// and what tests and the devnet run.
import type { SignedCheque } from '@hansa/protocol'
import type { IssuerAnswer, SettleOutcome, SettlementRail } from './rail.js'

export class LedgerRail implements SettlementRail {
  readonly name = 'ledger' as const

  async chequeIssuer(chequebook: string): Promise<IssuerAnswer> {
    return { issuer: chequebook }
  }

  async settle(_cheque: SignedCheque, _rise: bigint): Promise<SettleOutcome> {
    return { status: 'kept' }
  }
}
