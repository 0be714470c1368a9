// One WebSocket client: its subscriptions, the pubkeys it has proven (NIP-42), its AUTH
// challenge and its budgets (events, queries, AUTH). Services see it read-only, as
// ConnectionInfo.
import { randomBytes } from 'node:crypto'
import type { Filter, NostrEvent } from '@hansa/protocol'
import type { WebSocket } from 'ws'
import { TokenBucket } from './rate-limiter.js'
import type { CompiledFilter } from './subscription-index.js'

/** An open REQ. */
export type Subscription = {
  id: string
  conn: Connection
  filters: Filter[]
  /** The filters as sets, for matching live events (subscription-index.ts). */
  compiled: CompiledFilter[]
  /**
   * Live events that matched while the stored ones were still being read (on a reader
   * thread); they are sent after EOSE, so nothing committed meanwhile is missed. `metered`
   * (when services meter what is served) is what onServed is told once one is sent.
   */
  backlog: Array<{ id: string; message: string; metered?: LiveDelivery }> | null
}

/** An event sent live to an open subscription, as the onServed hooks learn of it. */
export type LiveDelivery = { verb: 'LIVE'; event: NostrEvent; bytes: number }

export type ConnectionInfo = {
  readonly id: number
  readonly ip: string
  readonly challenge: string
  /** Pubkeys this connection has authenticated as. */
  readonly authed: ReadonlySet<string>
}

let nextId = 1

export class Connection implements ConnectionInfo {
  readonly id = nextId++
  readonly challenge = randomBytes(16).toString('hex')
  readonly authed = new Set<string>()
  readonly subscriptions = new Map<string, Subscription>()
  readonly eventBudget: TokenBucket
  /** REQ and COUNT together. */
  readonly queryBudget: TokenBucket
  readonly authBudget: TokenBucket
  /** Queries of this connection being read now, and those waiting for their turn. */
  queriesInFlight = 0
  readonly queryWaiters: Array<() => void> = []
  /** Messages received and not yet answered, and their bytes (the socket pauses past a bound). */
  inProgress = 0
  inProgressBytes = 0
  /** Until when (ms) the socket is not read because the client went past a rate limit. */
  throttledUntil = 0
  /** Never paused again (the node is shutting down: it must read the client's close frame). */
  released = false

  /**
   * Pauses or resumes reading from the client: paused while too much of what it sent is still
   * being worked on, or while it is throttled for going past a rate limit — so a flood waits
   * in its own TCP buffers, and costs the node nothing, instead of being read and refused.
   */
  reconsiderReading(): void {
    if (this.closed) return
    if (this.released) {
      if (this.socket.isPaused) this.socket.resume()
      return
    }
    const busy = this.inProgress > 64 || this.inProgressBytes > 1 << 20
    const calm = this.inProgress <= 32 && this.inProgressBytes <= 1 << 19
    const throttled = Date.now() < this.throttledUntil
    if (!this.socket.isPaused && (busy || throttled)) this.socket.pause()
    else if (this.socket.isPaused && calm && !throttled) this.socket.resume()
  }

  /** Stops reading from the client for `ms` (it went past a rate limit). */
  throttle(ms: number): void {
    const until = Date.now() + ms
    if (until <= this.throttledUntil) return
    this.throttledUntil = until
    this.reconsiderReading()
    setTimeout(() => this.reconsiderReading(), ms + 1).unref()
  }
  closed = false

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    budgets: { eventsPerSecond: number; queriesPerSecond: number; authPerSecond: number },
    /** The clock's time in milliseconds when the connection opened: the buckets start full. */
    openedMs: number,
    /** Bytes queued for the client past which the connection is dropped at once. */
    private readonly hardBufferLimit = Number.POSITIVE_INFINITY,
  ) {
    const bucket = (rate: number) => new TokenBucket(rate, Math.max(1, rate * 2), openedMs)
    this.eventBudget = bucket(budgets.eventsPerSecond)
    this.queryBudget = bucket(budgets.queriesPerSecond)
    this.authBudget = bucket(budgets.authPerSecond)
  }

  /** Bytes queued for this client and not yet taken by the kernel. */
  get buffered(): number {
    return this.socket.bufferedAmount
  }

  send(text: string): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > this.hardBufferLimit) {
      // It does not read: drop it now rather than hold more for it (close() would wait).
      this.socket.terminate()
      return
    }
    this.corkUntilTick()
    this.socket.send(text)
  }

  /**
   * Whether ready-made frames (stored-frames.ts) may be written to this socket directly: no
   * compression was agreed and `ws` holds no frame back in its queue, so frames written
   * straight to the TCP socket land whole and in order between those `ws` writes.
   */
  canWriteFrames(): boolean {
    const ws = this.socket as unknown as {
      _extensions?: Record<string, unknown>
      _sender?: { _queue?: unknown[]; _state?: number }
    }
    return (
      this.tcp() !== undefined &&
      ws._extensions !== undefined &&
      Object.keys(ws._extensions).length === 0 &&
      ws._sender?._state === 0 &&
      ws._sender._queue?.length === 0
    )
  }

  /** Writes ready-made WebSocket frames (checked with canWriteFrames) in this turn's write. */
  writeFrames(bytes: Uint8Array): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > this.hardBufferLimit) {
      this.socket.terminate()
      return
    }
    this.corkUntilTick()
    ;(this.tcp() as unknown as { write(b: Uint8Array): void }).write(bytes)
  }

  private corked = false

  /**
   * Holds this turn's messages and writes them in one system call: a commit answers a whole
   * batch of events at once, and an OK each written alone cost a write (and a wake-up of
   * the reader) per event. The socket is uncorked once the current callbacks and their
   * promise continuations are done (process.nextTick runs after them), so nothing waits
   * for a later turn.
   */
  private corkUntilTick(): void {
    if (this.corked) return
    const tcp = this.tcp()
    if (!tcp) return
    this.corked = true
    tcp.cork()
    process.nextTick(() => {
      this.corked = false
      tcp.uncork()
    })
  }

  private tcp(): { cork(): void; uncork(): void } | undefined {
    return (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket
  }

  /**
   * Sends several messages in one socket write: the TCP socket under `ws` is corked around
   * them, so a REQ answered with 100 events costs one system call, not 100. (`ws` keeps the
   * socket in `_socket`; it corks it the same way itself for multi-part frames.)
   */
  sendMany(texts: readonly string[]): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > this.hardBufferLimit) {
      this.socket.terminate()
      return
    }
    this.corkUntilTick()
    for (const text of texts) this.socket.send(text)
  }
}
