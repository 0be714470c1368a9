// The node's clock, passed in (never read from a module global), so tests can set the time:
// rate limits, NIP-40 expiry, retention, AUTH and NIP-98 windows all read it.
export interface Clock {
  /** Unix time in whole seconds (what Nostr's created_at counts). */
  now(): number
  /** Milliseconds since the epoch, for the token buckets' sub-second refills. */
  nowMs(): number
}

export const systemClock: Clock = {
  now: () => Math.floor(Date.now() / 1000),
  nowMs: () => Date.now(),
}

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.now()) {}
  now(): number {
    return Math.floor(this.ms / 1000)
  }
  nowMs(): number {
    return this.ms
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms
  }
  /** Sets the clock to `seconds` (unix). */
  set(seconds: number): void {
    this.ms = seconds * 1000
  }
}

/**
 * A clock from a seconds function (the older `now` option): unix seconds from it, while the
 * token buckets' milliseconds stay the system's, as they were before the clock was passed in.
 */
export const clockFrom = (now: () => number): Clock => ({ now, nowMs: () => Date.now() })
