// Refusals of the billing API: a stable code, an HTTP status and a message that names the fix.
// Cheques refused keep their protocol code (HANSA_CHEQUE_*, see @hansa/protocol).
import {
  type HansaErrorCode,
  type ChequeError,
  HansaError,
  type HttpAuthError,
} from '@hansa/protocol'

export type BillingErrorBody = { error: { code: string; message: string } }

export class BillingRequestError extends HansaError {
  override name = 'BillingRequestError'
  readonly status: number
  constructor(status: number, code: HansaErrorCode, message: string) {
    super(code, message)
    this.status = status
  }

  toJSON(): BillingErrorBody {
    return { error: { code: this.code, message: this.shortMessage } }
  }
}

const CHEQUE_STATUS: Record<string, number> = {
  HANSA_CHEQUE_MALFORMED: 400,
  HANSA_CHEQUE_CHAIN: 400,
  HANSA_CHEQUE_BENEFICIARY: 400,
  HANSA_CHEQUE_SIGNER: 403,
  HANSA_CHEQUE_REPLAY: 409,
  HANSA_CHEQUE_NOT_INCREASING: 409,
}

/** A refused cheque as an API error (its message starts "cheque refused: "). */
export const chequeRefused = (error: ChequeError): BillingRequestError =>
  new BillingRequestError(CHEQUE_STATUS[error.code] ?? 400, error.code, error.shortMessage)

export const badRequest = (message: string) =>
  new BillingRequestError(400, 'HANSA_BILLING_BAD_REQUEST', message)
export const notFound = (message: string) =>
  new BillingRequestError(404, 'HANSA_BILLING_NOT_FOUND', message)
export const forbidden = (message: string) =>
  new BillingRequestError(403, 'HANSA_BILLING_FORBIDDEN', message)

/** A refused NIP-98 header (401), with the protocol's code. */
export const unauthorized = (error: HttpAuthError) =>
  new BillingRequestError(401, error.code, error.shortMessage)
