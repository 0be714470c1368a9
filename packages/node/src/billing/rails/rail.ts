// Settlement rails: how money behind a cheque or a subscription payment actually moves. The
// accounting (swap-accounts.ts, subscriptions.ts, books.ts) never asks which rail it runs on;
// it asks a rail two things, so the hard mode and other rails slot in without changing it:
//
//   chequeIssuer(chequebook)  who may sign cheques drawn on this chequebook
//                             ledger: the chequebook is the payer's own address, so itself
//                             evm:    the owner of the chequebook contract (read on chain),
//                                     refused when its deposit cannot cover the payout
//   settle(cheque, rise)      a cheque was verified and credited; what happens to the money
//                             ledger / mock: nothing — kept on trust, never cashed
//                             evm / hard:    queue it and cash the latest cheque per chequebook
//                                            through the chequebook contract
//
// and, for subscriptions, one of two ways (`subscriptionPayment`):
//
//   'cheque'  the payment is a cheque raising the cumulative payout by the quoted amount,
//             verified and credited by the cheque desk like any other (ledger)
//   'proof'   verifySubscriptionPayment(quote, proof) checks a proof the rail understands and
//             answers what it paid (evm: a PaymentRouter transaction; lightning, planned: the
//             preimage of the node's invoice — docs/settlement.md, "A lightning rail")
//
// A rail that takes cheques for subscriptions refuses a proof with HANSA_PAYMENT_PROOF, so the
// subscription route calls the interface and never a rail's own class.
import type { RailName, SignedCheque } from '@hansa/protocol'

/** `code`: the refusal's own code (evm: HANSA_CHEQUE_CHEQUEBOOK, …); HANSA_CHEQUE_SIGNER by default. */
export type IssuerAnswer = { issuer: string } | { refused: string; code?: string }

export type SettleOutcome =
  /** Kept on trust (ledger rail, mock mode): never cashed. */
  | { status: 'kept' }
  /** Queued to be cashed on chain (hard mode). */
  | { status: 'queued' }
  | { status: 'cashed'; reference: string }

/** What a subscription payment must be for (the quote the node issued). */
export type ExpectedPayment = {
  quote: string
  service: string
  periods: number
  /** The pubkeys the payment covers (the owner's first). */
  pubkeys: string[]
  amount: bigint
}

/** A subscription payment a rail verified. */
export type VerifiedPayment = {
  /** What identifies the payment on the rail (evm: the transaction hash); used once. */
  reference: string
  payer: string
  amount: bigint
  /** The dev tax the rail itself paid to the dev fund with it (evm: the router's split). */
  devTaxPaid: bigint
}

export interface SettlementRail {
  readonly name: RailName
  /** How a subscription is paid on this rail (see the header). */
  readonly subscriptionPayment: 'cheque' | 'proof'
  /**
   * Checks a subscription payment's proof against the quote; throws a BillingRequestError with
   * the refusal's own code. A rail whose subscriptions are paid by cheque refuses every proof.
   */
  verifySubscriptionPayment(expected: ExpectedPayment, proof: unknown): Promise<VerifiedPayment>
  /** The reference a proof names, when it can be read without the rail (a reuse is refused early). */
  proofReference?(proof: unknown): string | null
  /** Who may sign cheques drawn on `chequebook` (an Ethereum address, any case). */
  chequeIssuer(chequebook: string): Promise<IssuerAnswer>
  /** A verified cheque was credited with `rise`; move the money (or not). */
  settle(cheque: SignedCheque, rise: bigint): Promise<SettleOutcome>
  /** Hard mode: throws (a BillingRequestError) when the chequebook cannot cover the payout. */
  checkCover?(chequebook: string, cumulativePayout: bigint): Promise<void>
  /** Background work (the evm rail: router terms, cash-outs to resume). */
  start?(): Promise<void>
  close?(): Promise<void>
}
