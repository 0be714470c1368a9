// AUTH (NIP-42): every connection is sent a challenge when it opens; a client answers with a
// signed kind-22242 event naming the challenge and this relay's URL, checked by the same
// verifier as events. A connection may speak for several pubkeys, up to `limits.maxAuthKeys`,
// and its AUTH messages have their own rate (`limits.authPerSecond`).
import {
  type NostrEvent,
  authChallengeMessage,
  authEventError,
  eventShapeError,
} from '@hansa/protocol'
import type { Connection } from './connection.js'
import type { AuthOutcome } from './messages.js'
import { checkSignature } from './signature.js'
import type { StageContext } from './stage-context.js'

export class Auth {
  constructor(private readonly ctx: StageContext) {}

  /** Sends a new connection its challenge. */
  challenge(conn: Connection): void {
    conn.send(authChallengeMessage(conn.challenge))
  }

  async authenticate(conn: Connection, value: unknown): Promise<AuthOutcome> {
    const shapeError = eventShapeError(value)
    if (shapeError) return { type: 'malformed', text: `invalid: AUTH ${shapeError}` }
    const event = value as NostrEvent
    const { limits } = this.ctx.config
    if (!conn.authBudget.take(this.ctx.clock.nowMs())) {
      return {
        type: 'refused',
        id: event.id,
        text: `rate-limited: at most ${limits.authPerSecond} AUTH a second`,
      }
    }
    if (!conn.authed.has(event.pubkey) && conn.authed.size >= limits.maxAuthKeys) {
      return {
        type: 'refused',
        id: event.id,
        text: `restricted: this connection is already authenticated as ${limits.maxAuthKeys} keys; open another`,
      }
    }
    const error = authEventError(event, {
      challenge: conn.challenge,
      relayUrl: this.ctx.relayUrl(),
      now: this.ctx.now(),
    })
    if (error) return { type: 'refused', id: event.id, text: `invalid: ${error}` }
    const check = await checkSignature(this.ctx, event)
    if (check !== 'ok') {
      const text =
        check === 'unavailable'
          ? 'error: could not check the signature; try again'
          : 'invalid: AUTH event signature or id is wrong'
      return { type: 'refused', id: event.id, text }
    }
    conn.authed.add(event.pubkey)
    return { type: 'authenticated', id: event.id, pubkey: event.pubkey }
  }
}
