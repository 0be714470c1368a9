// The evm rail's refusals, each its own code in the catalogue (protocol's error-codes.ts, which
// gives the HTTP status) and a message that says what to do. A payment by transaction is
// refused for exactly one reason, the first that holds in the order the node checks
// (docs/settlement.md).
import { httpStatusOfCode } from '@hansa/protocol'
import { BillingRequestError } from '../errors.js'

export const EVM_ERROR_CODES = [
  'HANSA_PAYMENT_TX_MALFORMED',
  'HANSA_PAYMENT_TX_UNKNOWN',
  'HANSA_PAYMENT_UNCONFIRMED',
  'HANSA_PAYMENT_REVERTED',
  'HANSA_PAYMENT_CONTRACT',
  'HANSA_PAYMENT_NODE',
  'HANSA_PAYMENT_QUOTE',
  'HANSA_PAYMENT_AMOUNT',
  'HANSA_PAYMENT_REUSED',
  'HANSA_CHAIN_UNAVAILABLE',
  'HANSA_CHEQUE_CHEQUEBOOK',
  'HANSA_CHEQUE_BOUNCED',
  'HANSA_CHEQUE_UNCOVERED',
] as const

export type EvmErrorCode = (typeof EVM_ERROR_CODES)[number]

export const evmRefusal = (code: EvmErrorCode, message: string) =>
  new BillingRequestError(httpStatusOfCode(code), code, message)
