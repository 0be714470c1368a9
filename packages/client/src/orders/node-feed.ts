// One subscription to one node: REQ for the member coordinators' orders, then live updates.
// Until the node's EOSE, the orders it published are gathered aside; at EOSE they replace what
// the book knew of that node (what it no longer serves has left). A node that does not answer
// within `answerTimeoutMs`, refuses, or drops the connection is reported down, so the book
// shows its orders as stale instead of waiting; with `reconnect`, the feed tries again with
// backoff. The WebSocket implementation is passed in (`ws` in Node, the browser's own).
import type { Filter, NostrEvent } from '@hansa/protocol'
import type { BookState, Entry } from './book-state.js'
import { orderAddress } from '@hansa/protocol'

/** What the feed needs of a WebSocket (the browser's, or `ws`). */
export type WebSocketLike = {
  send(data: string): void
  close(): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: unknown) => void) | null
  onerror: ((event: unknown) => void) | null
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export type NodeFeedOptions = {
  url: string
  /** The member node behind `url`, or undefined for a relay the user added by hand. */
  nodePubkey: string | undefined
  filter: Filter
  state: BookState
  WebSocket: WebSocketConstructor
  /** How long to wait for EOSE before reporting the node down (it may still answer later). */
  answerTimeoutMs: number
  reconnect: boolean
  now: () => number
  /** The book changed (an order arrived, a node answered or went down). */
  onChange: () => void
  /** This connection's EOSE arrived, or the node was reported down: the node is settled. */
  onSettled: () => void
  /**
   * A member node read for the whole federation's book: after its complete answer, how it
   * stands with the nodes not asked (book-feeds.ts); the feed settles once that is known.
   */
  vouch?: () => Promise<void>
}

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000]

export class NodeFeed {
  private ws: WebSocketLike | undefined
  private fresh = new Map<string, Entry>()
  private answered = false
  private settled = false
  private stopped = false
  private attempts = 0
  private answerTimer: ReturnType<typeof setTimeout> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly subId = `book-${Math.random().toString(36).slice(2, 10)}`

  constructor(private readonly o: NodeFeedOptions) {}

  get isSettled(): boolean {
    return this.settled
  }

  start(): void {
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.answerTimer)
    clearTimeout(this.retryTimer)
    const ws = this.ws
    this.ws = undefined
    if (ws) {
      ws.onclose = null
      ws.onmessage = null
      ws.onopen = null
      ws.onerror = () => {} // closing a socket that is still connecting reports an error
      try {
        ws.close()
      } catch {
        // already closed
      }
    }
  }

  /** Reports the node down if it has not answered yet (the caller stops waiting). */
  giveUp(): void {
    if (this.settled) return
    if (this.answered)
      this.settle() // answered; only its word on the others is late
    else this.down(`no answer from ${this.o.url} within ${this.o.answerTimeoutMs} ms`)
  }

  private settle(): void {
    if (this.settled) return
    this.settled = true
    this.o.onSettled()
  }

  private down(reason: string): void {
    if (this.o.nodePubkey !== undefined) this.o.state.down(this.o.nodePubkey, reason)
    this.o.onChange()
    this.settle()
  }

  private connect(): void {
    if (this.stopped) return
    this.fresh = new Map()
    this.answered = false
    let ws: WebSocketLike
    try {
      ws = new this.o.WebSocket(this.o.url)
    } catch (error) {
      this.down(`cannot connect to ${this.o.url}: ${(error as Error).message}`)
      this.retry()
      return
    }
    this.ws = ws
    clearTimeout(this.answerTimer)
    this.answerTimer = setTimeout(() => {
      if (!this.answered)
        this.down(`no answer from ${this.o.url} within ${this.o.answerTimeoutMs} ms`)
    }, this.o.answerTimeoutMs)
    ws.onopen = () => {
      ws.send(JSON.stringify(['REQ', this.subId, this.o.filter]))
    }
    ws.onmessage = (message) => this.onMessage(message.data)
    ws.onerror = () => {} // onclose follows with the outcome
    ws.onclose = () => {
      if (this.ws !== ws || this.stopped) return
      this.ws = undefined
      clearTimeout(this.answerTimer)
      this.down(`${this.o.url} closed the connection`)
      this.retry()
    }
  }

  private retry(): void {
    if (!this.o.reconnect || this.stopped) return
    const delay = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)]!
    this.attempts++
    clearTimeout(this.retryTimer)
    this.retryTimer = setTimeout(() => this.connect(), delay)
  }

  private onMessage(data: unknown): void {
    let message: unknown
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data))
    } catch {
      return
    }
    if (!Array.isArray(message)) return
    const [verb, subId, payload] = message as [unknown, unknown, unknown]
    if (subId !== this.subId) return
    const { state, nodePubkey, url } = this.o
    if (verb === 'EVENT') {
      const entry = state.accept(payload as NostrEvent, url)
      if (entry === undefined) return
      if (!this.answered && entry.event.pubkey === nodePubkey) {
        // Part of the node's complete answer: replaces what was known of it at EOSE.
        const address = orderAddress(entry.event)
        const known = this.fresh.get(address)
        if (known === undefined || entry.event.created_at >= known.event.created_at) {
          this.fresh.set(address, entry)
        }
        return
      }
      if (state.merge(entry)) this.o.onChange()
      if (nodePubkey !== undefined) state.seen(nodePubkey, this.o.now())
    } else if (verb === 'EOSE') {
      this.answered = true
      this.attempts = 0
      clearTimeout(this.answerTimer)
      if (nodePubkey !== undefined) state.answered(nodePubkey, this.fresh, this.o.now())
      this.fresh = new Map()
      this.o.onChange()
      const vouch = this.o.vouch
      if (vouch === undefined) this.settle()
      else {
        void vouch().finally(() => {
          if (this.stopped) return
          this.o.onChange()
          this.settle()
        })
      }
    } else if (verb === 'CLOSED') {
      this.answered = true
      clearTimeout(this.answerTimer)
      this.down(`${url} refused the subscription: ${String(payload)}`)
    }
  }
}
