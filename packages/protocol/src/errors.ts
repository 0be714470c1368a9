// Hansa's error base: a short message, optional details and cause, and a stable code
// (HANSA_*) that programs can match on while the wording stays free to improve.

import type { HansaErrorCode } from './error-codes.js'

export type { HansaErrorCode } from './error-codes.js'

export type HansaErrorOptions = {
  details?: string
  cause?: unknown
}

export class HansaError extends Error {
  override name = 'HansaError'
  /** A code from the catalogue (error-codes.ts, docs/errors.md). */
  readonly code: HansaErrorCode
  readonly shortMessage: string
  readonly details: string | undefined

  constructor(code: HansaErrorCode, shortMessage: string, options: HansaErrorOptions = {}) {
    super(
      options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = code
    this.shortMessage = shortMessage
    this.details = options.details
  }
}
