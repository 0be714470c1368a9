// NIP-98 on the billing routes: the protocol's checks (http-auth.ts: header, kind, time, URL,
// method, payload hash) plus the signature, which is the caller's to verify. The URL may be the
// node's public URL or the one the request reached (a node behind a proxy sees both).
import { createHash } from 'node:crypto'
import {
  HttpAuthError,
  type NostrEvent,
  httpAuthEventError,
  parseHttpAuthHeader,
} from '@hansa/protocol'
import { verifyEvent } from 'nostr-tools/pure'
import { BillingRequestError } from './errors.js'

export type AuthRequest = {
  method: string
  url: string
  headers: { authorization?: string | undefined; host?: string | undefined }
  /** The exact body bytes, or undefined without a body. */
  rawBody: string | undefined
}

/** Checks an event's id and signature; the node passes its verifier pool (off the main thread). */
export type EventSignatureCheck = (event: NostrEvent) => Promise<boolean>

/** The request's NIP-98 event, checked in every way but its signature. Throws HttpAuthError. */
function checkedEvent(request: AuthRequest, options: { publicHttpUrl: string; now: number }) {
  const event = parseHttpAuthHeader(request.headers.authorization)
  const urls = [`${options.publicHttpUrl.replace(/\/$/, '')}${request.url}`]
  if (request.headers.host) urls.push(`http://${request.headers.host}${request.url}`)
  const body = request.rawBody
  const error = httpAuthEventError(event, {
    urls,
    method: request.method,
    now: options.now,
    bodySha256:
      body === undefined || body === '' ? null : createHash('sha256').update(body).digest('hex'),
  })
  if (error) throw error
  return event
}

const refused = (error: unknown): unknown =>
  error instanceof HttpAuthError
    ? new BillingRequestError(401, error.code, error.shortMessage)
    : error

/**
 * The pubkey that signed the request's NIP-98 header, its signature checked on this thread
 * (about 2 ms with the JS verifier). Throws BillingRequestError (401).
 */
export function nip98Pubkey(
  request: AuthRequest,
  options: { publicHttpUrl: string; now: number },
): string {
  try {
    const event = checkedEvent(request, options)
    if (!verifyEvent(event))
      throw new HttpAuthError('signature', 'the event signature is not valid')
    return event.pubkey
  } catch (error) {
    throw refused(error)
  }
}

/** As nip98Pubkey, with the signature checked by `verify` (the node's verifier pool). */
export async function nip98PubkeyVerified(
  request: AuthRequest,
  options: { publicHttpUrl: string; now: number; verify: EventSignatureCheck },
): Promise<string> {
  try {
    const event = checkedEvent(request, options)
    if (!(await options.verify(event))) {
      throw new HttpAuthError('signature', 'the event signature is not valid')
    }
    return event.pubkey
  } catch (error) {
    throw refused(error)
  }
}
