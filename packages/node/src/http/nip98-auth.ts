// NIP-98 on the node's HTTP routes (federation, billing, order book): the protocol's checks
// (protocol/http-auth.ts: header, kind, time, URL, method, payload hash) plus the signature —
// on this thread, or by the node's verifier pool. The URL may be the node's public URL or the
// one the request reached (a node behind a proxy sees both). Refusals are HttpAuthErrors;
// each route set maps them to its own error (`refused` turns them into a caller's error).
import { createHash } from 'node:crypto'
import {
  HttpAuthError,
  type NostrEvent,
  httpAuthEventError,
  parseHttpAuthHeader,
} from '@hansa/protocol'
import { verifyEvent } from 'nostr-tools/pure'

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

/** Maps a refusal to the route set's own error; anything else passes unchanged. */
export type RefusalMapper = (error: HttpAuthError) => Error

const mapped = (error: unknown, refused: RefusalMapper | undefined): unknown =>
  error instanceof HttpAuthError && refused ? refused(error) : error

/**
 * The pubkey that signed the request's NIP-98 header, its signature checked on this thread
 * (about 2 ms with the JS verifier). Throws HttpAuthError, or what `refused` maps it to.
 */
export function nip98Pubkey(
  request: AuthRequest,
  options: { publicHttpUrl: string; now: number; refused?: RefusalMapper },
): string {
  try {
    const event = checkedEvent(request, options)
    if (!verifyEvent(event))
      throw new HttpAuthError('signature', 'the event signature is not valid')
    return event.pubkey
  } catch (error) {
    throw mapped(error, options.refused)
  }
}

/** As nip98Pubkey, with the signature checked by `verify` (the node's verifier pool). */
export async function nip98PubkeyVerified(
  request: AuthRequest,
  options: {
    publicHttpUrl: string
    now: number
    verify: EventSignatureCheck
    refused?: RefusalMapper
  },
): Promise<string> {
  try {
    const event = checkedEvent(request, options)
    if (!(await options.verify(event))) {
      throw new HttpAuthError('signature', 'the event signature is not valid')
    }
    return event.pubkey
  } catch (error) {
    throw mapped(error, options.refused)
  }
}
