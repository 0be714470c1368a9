// Reopening a broken PostgreSQL LISTEN connection: the first try after `delay` ms, each
// failure doubling the wait up to 10 s, until one succeeds or the owner has stopped. Both
// LISTEN connections of a node process (the store's live events, postgres-live.ts, and
// billing's changes, billing/pg-listener.ts) reconnect this way.

/** The longest wait between two tries. */
const MAX_DELAY_MS = 10_000

export function reconnectWithBackoff(options: {
  /** The wait before the first try (ms). */
  delay: number
  stopped: () => boolean
  /** One try: resolves once connected and listening again. */
  connect: () => Promise<void>
  /** Called once a try succeeded. */
  onConnected?: () => void
}): void {
  let delay = options.delay
  const retry = () => {
    if (options.stopped()) return
    options.connect().then(
      () => options.onConnected?.(),
      () => {
        delay = Math.min(delay * 2, MAX_DELAY_MS)
        setTimeout(retry, delay).unref()
      },
    )
  }
  setTimeout(retry, delay).unref()
}
