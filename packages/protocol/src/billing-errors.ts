// Paid access's error catalogue: signed terms and cheques. Each error has a stable code
// (HANSA_TERMS_*, HANSA_CHEQUE_*) that programs match on and a message that says what is wrong
// in words a payer can act on: which field, which address, which payout.
import { HansaError } from './errors.js'

export type BillingErrorCode =
  | 'HANSA_TERMS_INVALID'
  | 'HANSA_TERMS_SIGNATURE'
  | 'HANSA_CHEQUE_MALFORMED'
  | 'HANSA_CHEQUE_CHAIN'
  | 'HANSA_CHEQUE_BENEFICIARY'
  | 'HANSA_CHEQUE_SIGNER'
  | 'HANSA_CHEQUE_REPLAY'
  | 'HANSA_CHEQUE_NOT_INCREASING'

/** Every code above, for documentation and for tests that pin the catalogue. */
export const BILLING_ERROR_CODES: readonly BillingErrorCode[] = [
  'HANSA_TERMS_INVALID',
  'HANSA_TERMS_SIGNATURE',
  'HANSA_CHEQUE_MALFORMED',
  'HANSA_CHEQUE_CHAIN',
  'HANSA_CHEQUE_BENEFICIARY',
  'HANSA_CHEQUE_SIGNER',
  'HANSA_CHEQUE_REPLAY',
  'HANSA_CHEQUE_NOT_INCREASING',
]

/** One structural problem in a terms document, located by a path such as `services.inbox.price`. */
export type TermsIssue = { path: string; message: string }

const formatIssue = (i: TermsIssue) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)

/** The terms (or their signed envelope) do not have the shape docs/paid-access.md gives them. */
export class TermsInvalidError extends HansaError {
  override name = 'TermsInvalidError'
  override readonly code = 'HANSA_TERMS_INVALID'
  readonly issues: readonly TermsIssue[]
  constructor(issues: readonly TermsIssue[]) {
    const first = issues[0] ?? { path: '', message: 'unknown problem' }
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problems)` : ''
    super('HANSA_TERMS_INVALID', `Terms are invalid: ${formatIssue(first)}${more}`, {
      details: issues.length > 1 ? issues.map(formatIssue).join('; ') : undefined,
    })
    this.issues = issues
  }
}

/** The terms are not signed by the node they name. */
export class TermsSignatureError extends HansaError {
  override name = 'TermsSignatureError'
  override readonly code = 'HANSA_TERMS_SIGNATURE'
  constructor(node: string) {
    super(
      'HANSA_TERMS_SIGNATURE',
      `Terms are not validly signed by the node they name (${node.slice(0, 16)}…); do not pay on them`,
    )
  }
}

export type ChequeErrorCode = Extract<BillingErrorCode, `HANSA_CHEQUE_${string}`>

/**
 * A cheque refused, with its reason. `rule` is the code's last part in lower case
 * (`malformed`, `chain`, `beneficiary`, `signer`, `replay`, `not-increasing`).
 */
export class ChequeError extends HansaError {
  override name = 'ChequeError'
  override readonly code: ChequeErrorCode
  readonly rule: string
  constructor(code: ChequeErrorCode, reason: string) {
    super(code, `cheque refused: ${reason}`)
    this.code = code
    this.rule = code.slice('HANSA_CHEQUE_'.length).toLowerCase().replace(/_/g, '-')
  }
}
