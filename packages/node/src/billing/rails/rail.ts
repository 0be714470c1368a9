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
// Subscriptions are paid with a cheque too (it raises the cumulative payout by the quoted
// amount), except on the evm rail, where Billing hands the proof (a PaymentRouter transaction)
// to EvmRail.verifyTransaction. A rail without cheques (lightning: a paid invoice) will add the
// method that checks its proof together with the route that calls it.
import type { RailName, SignedCheque } from '@hansa/protocol'

/** `code`: the refusal's own code (evm: HANSA_CHEQUE_CHEQUEBOOK, …); HANSA_CHEQUE_SIGNER by default. */
export type IssuerAnswer = { issuer: string } | { refused: string; code?: string }

export type SettleOutcome =
  /** Kept on trust (ledger rail, mock mode): never cashed. */
  | { status: 'kept' }
  /** Queued to be cashed on chain (hard mode). */
  | { status: 'queued' }
  | { status: 'cashed'; reference: string }

export interface SettlementRail {
  readonly name: RailName
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
