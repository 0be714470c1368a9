// NIP-42 AUTH: checks a kind-22242 event against the relay's challenge and URL.
// The signature itself is checked by the caller's verifier (the relay's hot path owns it).
import { type NostrEvent, tagValue } from './event.js'

export const AUTH_KIND = 22242
/** How far an AUTH event's created_at may stray from the relay's clock. */
export const AUTH_WINDOW_SECONDS = 600

/** Returns the reason an AUTH event is refused, or null when it answers the challenge. */
export function authEventError(
  e: NostrEvent,
  expected: { challenge: string; relayUrl: string; now: number },
): string | null {
  if (e.kind !== AUTH_KIND) return `AUTH event must be kind ${AUTH_KIND}`
  if (Math.abs(e.created_at - expected.now) > AUTH_WINDOW_SECONDS) {
    return 'AUTH event created_at is more than 10 minutes from now'
  }
  if (tagValue(e, 'challenge') !== expected.challenge) return 'AUTH challenge does not match'
  const relay = tagValue(e, 'relay')
  if (relay === undefined || !sameRelayUrl(relay, expected.relayUrl)) {
    return `AUTH relay tag must name this relay (${expected.relayUrl})`
  }
  return null
}

/** Relay URLs compared as NIP-42 suggests: by host (and port), ignoring a trailing slash. */
export function sameRelayUrl(a: string, b: string): boolean {
  try {
    const ua = new URL(a)
    const ub = new URL(b)
    return ua.host === ub.host && ua.pathname.replace(/\/$/, '') === ub.pathname.replace(/\/$/, '')
  } catch {
    return false
  }
}
