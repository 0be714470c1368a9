// The federation API's refusals: each has a stable code (the protocol's HANSA_MANIFEST_* codes
// where a protocol rule was broken, the codes below for what only the node can decide) and an
// HTTP status. Every refusal reaches the client as `{ error: { code, message } }`.
import { HansaError, httpStatusOfCode } from '@hansa/protocol'

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
  | 'HANSA_REGISTRY_NONE'
  | 'HANSA_REGISTRY_SIGNATURE'

/** A federation request the node refuses for a reason only the node can judge. */
export class FederationRequestError extends HansaError {
  override name = 'FederationRequestError'
  readonly status: number
  constructor(code: FederationRequestCode, status: number, message: string, details?: string) {
    super(code, message, details === undefined ? {} : { details })
    this.status = status
  }
}

/** The HTTP status a refusal is sent with: its own, else the catalogue's (docs/errors.md). */
export function httpStatusOf(error: HansaError): number {
  if (error instanceof FederationRequestError) return error.status
  return httpStatusOfCode(error.code)
}
