// NIP-98 on the node's HTTP routes (federation, billing, order book): the protocol's checks
// (protocol/http-auth.ts: header, kind, time, URL, method, payload hash) plus the signature —
// on this thread, or by the node's verifier pool — and two rules of the node's own:
// - The `u` tag must name the node's configured public URL (`publicUrl`, in its http/https
//   form), never a URL built from the request's Host header, which the client chooses: a
//   token signed for another node (a member coordinator replaying its users' tokens) is
//   refused. A node with no public URL configured accepts NIP-98 only from loopback, against
//   the URL it listens on (it warns at start).
// - Each token is accepted once: its signature is kept until its created_at window has passed.
//   The signature, not the id: two requests alike within one second have the same event id,
//   but each signing draws fresh randomness, and BIP-340 signatures cannot be altered and stay
//   valid — so a captured header is refused while a client re-signing the same request is not.
// Refusals are HttpAuthErrors; each route set maps them to its own error (`refused`).
import { createHash } from 'node:crypto'
import {
  HTTP_AUTH_WINDOW_SECONDS,
  HttpAuthError,
  type NostrEvent,
  httpAuthEventError,
  parseHttpAuthHeader,
} from '@hansa/protocol'
import { verifyEvent } from 'nostr-tools/pure'

export type AuthRequest = {
  method: string
  url: string
  headers: { authorization?: string | undefined }
  /** The exact body bytes, or undefined without a body. */
  rawBody: string | undefined
  /** The peer's address (request.ip: behind a trusted proxy, the client's). */
  ip: string | undefined
}

/** Checks an event's id and signature; the node passes its verifier pool (off the main thread). */
export type EventSignatureCheck = (event: NostrEvent) => Promise<boolean>

/** Maps a refusal to the route set's own error; anything else passes unchanged. */
export type RefusalMapper = (error: HttpAuthError) => Error

export type Nip98AuthOptions = {
  /** The configured public URL (ws://, wss://, http:// or https://), or '' when none is. */
  publicUrl: string
  /** The URL the node listens on (known after listen): used for loopback only, without publicUrl. */
  listenUrl: () => string
  now: () => number
  /** The node's verifier pool; without it signatures are checked on this thread. */
  verify?: EventSignatureCheck
  /** Token ids remembered at most (default 100 000, about 10 MB); past it new tokens wait. */
  maxRemembered?: number
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/

export const isLoopback = (ip: string | undefined): boolean => ip !== undefined && LOOPBACK.test(ip)

const httpForm = (url: string) => url.replace(/^ws/i, 'http').replace(/\/+$/, '')

export class Nip98Auth {
  /** Signatures of accepted (or in-flight) tokens, with the unix second after which they expire anyway. */
  private readonly seen = new Map<string, number>()
  private readonly max: number

  constructor(private readonly options: Nip98AuthOptions) {
    this.max = options.maxRemembered ?? 100_000
  }

  /** Whether a public URL is configured (without one, NIP-98 works from loopback only). */
  get hasPublicUrl(): boolean {
    return this.options.publicUrl !== ''
  }

  /** The request's NIP-98 event, checked in every way but its signature. Throws HttpAuthError. */
  private checked(request: AuthRequest): NostrEvent {
    const event = parseHttpAuthHeader(request.headers.authorization)
    let base: string
    if (this.hasPublicUrl) base = httpForm(this.options.publicUrl)
    else if (isLoopback(request.ip)) base = httpForm(this.options.listenUrl())
    else {
      throw new HttpAuthError(
        'url',
        'this node has no public URL configured (publicUrl), so it accepts NIP-98 only from its own machine',
      )
    }
    const body = request.rawBody
    const now = this.options.now()
    const error = httpAuthEventError(event, {
      urls: [`${base}${request.url}`],
      method: request.method,
      now,
      bodySha256:
        body === undefined || body === '' ? null : createHash('sha256').update(body).digest('hex'),
    })
    if (error) throw error
    this.reserve(event, now)
    return event
  }

  /** Marks the token used; a second use within its window is a replay. */
  private reserve(event: NostrEvent, now: number): void {
    if (this.seen.has(event.sig)) {
      throw new HttpAuthError('replay', 'this NIP-98 token was already used; sign a new one')
    }
    if (this.seen.size >= this.max) {
      for (const [sig, until] of this.seen) if (until < now) this.seen.delete(sig)
      if (this.seen.size >= this.max) {
        throw new HttpAuthError('replay', 'too many NIP-98 tokens in flight; try again shortly')
      }
    }
    this.seen.set(event.sig, event.created_at + HTTP_AUTH_WINDOW_SECONDS + 1)
  }

  /** Forgets tokens whose window has passed (the maintenance timer). */
  sweep(): void {
    const now = this.options.now()
    for (const [sig, until] of this.seen) if (until < now) this.seen.delete(sig)
  }

  /**
   * The pubkey that signed the request's NIP-98 header, its signature checked by the verifier
   * pool (or on this thread). Throws HttpAuthError, or what `refused` maps it to.
   */
  async pubkey(request: AuthRequest, refused?: RefusalMapper): Promise<string> {
    let event: NostrEvent | undefined
    try {
      event = this.checked(request)
      const valid = this.options.verify ? await this.options.verify(event) : verifyEvent(event)
      if (!valid) throw new HttpAuthError('signature', 'the event signature is not valid')
      return event.pubkey
    } catch (error) {
      // A token refused for its signature is not spent (its signature was not its signer's).
      if (event && error instanceof HttpAuthError && error.rule === 'signature') {
        this.seen.delete(event.sig)
      }
      throw error instanceof HttpAuthError && refused ? refused(error) : error
    }
  }
}
