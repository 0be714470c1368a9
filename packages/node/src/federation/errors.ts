// The federation API's refusals: each has a stable code (the protocol's HANSA_MANIFEST_* codes
// where a protocol rule was broken, the codes below for what only the node can decide) and an
// HTTP status. Every refusal reaches the client as `{ error: { code, message } }`.
import { HansaError } from '@hansa/protocol'

export type FederationRequestCode =
  | 'HANSA_REQUEST_INVALID'
  | 'HANSA_NOT_GUARDIAN'
  | 'HANSA_SIGNATURE_INVALID'
  | 'HANSA_PROPOSAL_NOT_FOUND'
  | 'HANSA_PROPOSALS_FULL'
  | 'HANSA_FEDERATION_NONE'
  | 'HANSA_FEDERATION_MISMATCH'
  | 'HANSA_FEDERATION_UNINVITED'
  | 'HANSA_RATE_LIMITED'

/** A federation request the node refuses for a reason only the node can judge. */
export class FederationRequestError extends HansaError {
  override name = 'FederationRequestError'
  readonly status: number
  constructor(code: FederationRequestCode, status: number, message: string, details?: string) {
    super(code, message, details === undefined ? {} : { details })
    this.status = status
  }
}

const STATUS: Record<string, number> = {
  HANSA_REQUEST_INVALID: 400,
  HANSA_CANONICAL_JSON: 400,
  HANSA_MANIFEST_INVALID: 400,
  HANSA_MANIFEST_EDIT: 400,
  HANSA_INVITE_INVALID: 400,
  HANSA_SETUP_CODE_INVALID: 400,
  HANSA_HTTP_AUTH: 401,
  HANSA_NOT_GUARDIAN: 403,
  HANSA_FEDERATION_UNINVITED: 403,
  HANSA_RATE_LIMITED: 429,
  HANSA_PROPOSAL_NOT_FOUND: 404,
  HANSA_MANIFEST_GENESIS: 409,
  HANSA_MANIFEST_VERSION: 409,
  HANSA_MANIFEST_PREVIOUS: 409,
  HANSA_MANIFEST_ROLLBACK: 409,
  HANSA_MANIFEST_FORK: 409,
  HANSA_FEDERATION_NONE: 409,
  HANSA_FEDERATION_MISMATCH: 409,
  HANSA_PROPOSALS_FULL: 409,
  HANSA_MANIFEST_THRESHOLD: 422,
  HANSA_MANIFEST_EXPIRED: 422,
  HANSA_SIGNATURE_INVALID: 422,
}

/** The HTTP status a refusal is sent with (400 for a code not listed). */
export function httpStatusOf(error: HansaError): number {
  if (error instanceof FederationRequestError) return error.status
  return STATUS[error.code] ?? 400
}
