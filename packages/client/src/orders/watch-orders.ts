// watchOrders: the joint book, kept live. One subscription per order-book node stays open;
// every new version of an order, every node that answers or drops, and every pending order
// reaching its expires_at produces a new view for `onUpdate` (changes within a few
// milliseconds come as one). The first view comes once every node has answered, or after
// `timeoutMs` with the silent ones stale — a slow coordinator never holds the book back. A
// node that drops is retried with backoff; its orders stay, marked stale, until it answers.
import type { OrderBookClient } from './joint-book.js'
import { openBookFeeds } from './book-feeds.js'
import type { NodeFeed } from './node-feed.js'
import type { JointBook, OrderFilter } from './types.js'

export type WatchOrdersParameters = OrderFilter & {
  /** Called with each new view of the book. */
  onUpdate: (book: JointBook) => void
  /** Called when the watch could not start (the trusted coordinators could not be read). */
  onError?: (error: unknown) => void
}

export type WatchOrdersReturnType = {
  /** The book as it stands now. */
  current(): JointBook
  stop(): void
}

/** Coalesces changes into one view (milliseconds). */
const DEBOUNCE_MS = 15

export function watchOrders(
  client: OrderBookClient,
  parameters: WatchOrdersParameters,
): WatchOrdersReturnType {
  const { onUpdate, onError, ...filter } = parameters
  const feeds: NodeFeed[] = []
  let stopped = false
  let started = false
  let pending: ReturnType<typeof setTimeout> | undefined
  let expiry: ReturnType<typeof setTimeout> | undefined
  let first: ReturnType<typeof setTimeout> | undefined
  const current = () => client.state.view(filter, client.now())

  const emit = () => {
    if (stopped) return
    clearTimeout(pending)
    pending = undefined
    const view = current()
    onUpdate(view)
    // Wake up when the next pending order expires: it leaves the book on time.
    clearTimeout(expiry)
    const next = Math.min(
      ...view.orders.filter((o) => o.order.status === 'pending').map((o) => o.order.expiresAt),
    )
    if (Number.isFinite(next)) {
      const delay = Math.max(0, (next - client.now()) * 1000) + 5
      expiry = setTimeout(emit, Math.min(delay, 2 ** 31 - 1))
    }
  }
  const changed = () => {
    if (!started || stopped || pending !== undefined) return
    pending = setTimeout(emit, DEBOUNCE_MS)
  }
  const settled = () => {
    if (!started && feeds.every((f) => f.isSettled)) {
      started = true
      clearTimeout(first)
      emit()
    }
  }

  client
    .refreshCoordinators()
    .then(() => {
      if (stopped) return
      feeds.push(
        ...openBookFeeds(client, filter.status ?? ['pending'], {
          reconnect: true,
          onChange: changed,
          onSettled: settled,
        }),
      )
      first = setTimeout(() => {
        if (started) return
        for (const feed of feeds) feed.giveUp() // settles the silent ones, which emits
        if (!started) {
          started = true
          emit()
        }
      }, client.timeoutMs)
      // Terms come when they come; the next view carries them.
      const never = new Promise<void>(() => {})
      client.refreshTerms(never).then(changed, () => {})
      for (const feed of feeds) feed.start()
      settled()
    })
    .catch((error) => onError?.(error))

  return {
    current,
    stop() {
      stopped = true
      clearTimeout(pending)
      clearTimeout(expiry)
      clearTimeout(first)
      for (const feed of feeds) feed.stop()
    },
  }
}
