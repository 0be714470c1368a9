// The evm rail's refusals: each its own stable code, an HTTP status and a message that says
// what to do. A payment by transaction is refused for exactly one reason, the first that holds
// in the order the node checks (docs/settlement.md).
import { BillingRequestError } from '../errors.js'

export const EVM_ERRORS = {
  /** proof.tx is not a transaction hash. */
  HANSA_PAYMENT_TX_MALFORMED: 400,
  /** The chain knows no such transaction. */
  HANSA_PAYMENT_TX_UNKNOWN: 404,
  /** Not mined yet, or fewer confirmations than the node asks. */
  HANSA_PAYMENT_UNCONFIRMED: 409,
  /** Mined, but it reverted: nothing moved. */
  HANSA_PAYMENT_REVERTED: 402,
  /** It is not a payment through this node's PaymentRouter (or in another token). */
  HANSA_PAYMENT_CONTRACT: 402,
  /** It pays another node. */
  HANSA_PAYMENT_NODE: 402,
  /** It pays for another quote, service, number of periods or set of pubkeys. */
  HANSA_PAYMENT_QUOTE: 402,
  /** It pays another amount than the quote's. */
  HANSA_PAYMENT_AMOUNT: 402,
  /** This transaction already paid for a subscription here. */
  HANSA_PAYMENT_REUSED: 409,
  /** The chain's RPC did not answer: nothing was credited, try again. */
  HANSA_CHAIN_UNAVAILABLE: 503,
  /** Hard mode: the chequebook was not deployed by the factory the terms name. */
  HANSA_CHEQUE_CHEQUEBOOK: 403,
  /** Hard mode: the chequebook bounced a cheque before; it is not taken any more. */
  HANSA_CHEQUE_BOUNCED: 403,
  /** Hard mode: the chequebook's balance and hard deposit do not cover what is uncashed. */
  HANSA_CHEQUE_UNCOVERED: 402,
} as const

export type EvmErrorCode = keyof typeof EVM_ERRORS

export const evmRefusal = (code: EvmErrorCode, message: string) =>
  new BillingRequestError(EVM_ERRORS[code], code, message)
