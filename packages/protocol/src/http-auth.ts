// NIP-98 HTTP auth: a request that needs an identity carries a signed kind-27235 Nostr event,
// base64 in `Authorization: Nostr <base64>`, whose `u` tag is the request's absolute URL, whose
// `method` tag is its method, whose created_at is close to now, and whose `payload` tag is the
// sha256 of the request body. This module checks all of that except the signature: the caller
// owns the verifier (as for NIP-42 in auth.ts), so `httpAuthEvent` returns the event to verify.
//
// Decisions NIP-98 leaves open, taken here:
// - The window is 60 seconds either way (NIP-98 suggests "a reasonable window, e.g. 60s").
// - A request with a body must carry a `payload` tag equal to the sha256 (lowercase hex) of the
//   body's exact bytes: otherwise a captured header could be replayed with another body.
//   nostr-tools' `nip98.getToken(url, method, sign, true, payload)` hashes
//   `JSON.stringify(payload)`, so a client sends exactly that string as the body.
// - URLs compare by scheme-less host and port, path and query (a node behind a TLS proxy sees
//   http:// where the client signed https://); the caller passes every URL it answers to.
import { base64 } from '@scure/base'
import { HansaError } from './errors.js'
import { type NostrEvent, eventShapeError, tagValue } from './event.js'

export const HTTP_AUTH_KIND = 27235
/** How far a NIP-98 event's created_at may stray from the server's clock, in seconds. */
export const HTTP_AUTH_WINDOW_SECONDS = 60
/** Largest Authorization header read (a NIP-98 event is a few hundred bytes). */
export const HTTP_AUTH_MAX_HEADER_LENGTH = 16_384

/** The rule a NIP-98 header broke, for programs; the message says it for people. */
export type HttpAuthRule =
  | 'missing'
  | 'scheme'
  | 'encoding'
  | 'shape'
  | 'kind'
  | 'created_at'
  | 'url'
  | 'method'
  | 'payload'
  | 'signature'
  | 'replay'

/** A request's NIP-98 authorization is missing or does not fit the request. */
export class HttpAuthError extends HansaError {
  override name = 'HttpAuthError'
  override readonly code = 'HANSA_HTTP_AUTH'
  readonly rule: HttpAuthRule
  constructor(rule: HttpAuthRule, reason: string) {
    super('HANSA_HTTP_AUTH', `NIP-98 authorization refused: ${reason}`)
    this.rule = rule
  }
}

export type HttpAuthExpectation = {
  /** Absolute URLs this request answers to (e.g. the public URL and the Host header's). */
  urls: readonly string[]
  method: string
  /** Unix seconds. */
  now: number
  /** sha256 (lowercase hex) of the request body, or null when it has none. */
  bodySha256: string | null
}

/** Decodes `Authorization: Nostr <base64 event>`. Throws HttpAuthError naming the problem. */
export function parseHttpAuthHeader(header: string | undefined): NostrEvent {
  if (header === undefined || header.trim() === '') {
    throw new HttpAuthError(
      'missing',
      'this request needs an Authorization header: "Nostr " and a base64 kind-27235 event (NIP-98)',
    )
  }
  if (header.length > HTTP_AUTH_MAX_HEADER_LENGTH) {
    throw new HttpAuthError('encoding', `the header is longer than ${HTTP_AUTH_MAX_HEADER_LENGTH}`)
  }
  const match = /^Nostr\s+(\S+)\s*$/i.exec(header.trim())
  if (match === null) {
    throw new HttpAuthError('scheme', 'the Authorization scheme must be "Nostr" (NIP-98)')
  }
  let event: unknown
  try {
    event = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64.decode(match[1]!)))
  } catch {
    throw new HttpAuthError('encoding', 'the token is not base64 of a JSON event')
  }
  const shape = eventShapeError(event)
  if (shape !== null) throw new HttpAuthError('shape', shape)
  return event as NostrEvent
}

function comparableUrl(url: string): string | null {
  try {
    const u = new URL(url)
    const path = u.pathname.replace(/\/+$/, '') || '/'
    return `${u.host}${path}${u.search}`
  } catch {
    return null
  }
}

/**
 * Why a (shape-checked) NIP-98 event does not authorize this request, as an HttpAuthError, or
 * null when it does. The signature is not checked here.
 */
export function httpAuthEventError(
  event: NostrEvent,
  expected: HttpAuthExpectation,
): HttpAuthError | null {
  if (event.kind !== HTTP_AUTH_KIND) {
    return new HttpAuthError('kind', `the event must be kind ${HTTP_AUTH_KIND} (got ${event.kind})`)
  }
  if (Math.abs(event.created_at - expected.now) > HTTP_AUTH_WINDOW_SECONDS) {
    return new HttpAuthError(
      'created_at',
      `created_at ${event.created_at} is more than ${HTTP_AUTH_WINDOW_SECONDS} s from the server's clock (${expected.now})`,
    )
  }
  const u = tagValue(event, 'u')
  const signed = u === undefined ? null : comparableUrl(u)
  const accepted = expected.urls.map(comparableUrl)
  if (signed === null || !accepted.includes(signed)) {
    return new HttpAuthError(
      'url',
      `the u tag must be this request's absolute URL (${expected.urls[0] ?? '?'}); got ${u === undefined ? 'none' : JSON.stringify(u)}`,
    )
  }
  const method = tagValue(event, 'method')
  if (method === undefined || method.toUpperCase() !== expected.method.toUpperCase()) {
    return new HttpAuthError(
      'method',
      `the method tag must be ${expected.method.toUpperCase()}; got ${method === undefined ? 'none' : JSON.stringify(method)}`,
    )
  }
  const payload = tagValue(event, 'payload')
  if (expected.bodySha256 !== null && payload !== expected.bodySha256) {
    return new HttpAuthError(
      'payload',
      payload === undefined
        ? 'a request with a body needs a payload tag: the sha256 (hex) of the exact body bytes'
        : 'the payload tag is not the sha256 of this request body',
    )
  }
  return null
}
