// The ledger rail, built in: payments are cheques credited on trust (SWAP's mock mode). A
// payer's chequebook is her own Ethereum address — there is no contract and no deposit — so
// the chequebook's issuer is the address itself, and a credited cheque is kept in the books
// (the `cheques` table), never cashed. It is what a federation runs before it picks a chain,
// and what tests and the devnet run. Subscriptions are paid with a cheque too, so a proof of
// any other kind is refused (HANSA_PAYMENT_PROOF).
import { type SignedCheque, httpStatusOfCode } from '@hansa/protocol'
import { BillingRequestError } from '../errors.js'
import type {
  ExpectedPayment,
  IssuerAnswer,
  SettleOutcome,
  SettlementRail,
  VerifiedPayment,
} from './rail.js'

export class LedgerRail implements SettlementRail {
  readonly name = 'ledger' as const
  readonly subscriptionPayment = 'cheque' as const

  async verifySubscriptionPayment(
    expected: ExpectedPayment,
    _proof: unknown,
  ): Promise<VerifiedPayment> {
    throw new BillingRequestError(
      httpStatusOfCode('HANSA_PAYMENT_PROOF'),
      'HANSA_PAYMENT_PROOF',
      `the ledger rail takes no payment proof: pay quote ${expected.quote} with a cheque, proof { "rail": "ledger", "cheque": … } raising your cumulative payout by ${expected.amount}`,
    )
  }

  async chequeIssuer(chequebook: string): Promise<IssuerAnswer> {
    return { issuer: chequebook }
  }

  async settle(_cheque: SignedCheque, _rise: bigint): Promise<SettleOutcome> {
    return { status: 'kept' }
  }
}
