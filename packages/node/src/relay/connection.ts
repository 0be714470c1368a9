// One WebSocket client: its subscriptions, the pubkeys it has proven (NIP-42), its AUTH
// challenge and its publishing budget. Services see it read-only, as ConnectionInfo.
import { randomBytes } from 'node:crypto'
import type { Filter } from '@hansa/protocol'
import type { WebSocket } from 'ws'
import { TokenBucket } from './rate-limiter.js'

/** An open REQ. */
export type Subscription = {
  filters: Filter[]
  /**
   * Live events that matched while the stored ones were still being read (on a reader
   * thread); they are sent after EOSE, so nothing committed meanwhile is missed.
   */
  backlog: Array<{ id: string; message: string }> | null
}

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
  closed = false

  constructor(
    readonly socket: WebSocket,
    readonly ip: string,
    eventsPerSecond: number,
    /** The clock's time in milliseconds when the connection opened: the bucket starts full. */
    openedMs: number,
  ) {
    this.eventBudget = new TokenBucket(eventsPerSecond, eventsPerSecond * 2, openedMs)
  }

  send(text: string): void {
    if (!this.closed && this.socket.readyState === this.socket.OPEN) this.socket.send(text)
  }

  /**
   * Sends several messages in one socket write: the TCP socket under `ws` is corked around
   * them, so a REQ answered with 100 events costs one system call, not 100. (`ws` keeps the
   * socket in `_socket`; it corks it the same way itself for multi-part frames.)
   */
  sendMany(texts: readonly string[]): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    const tcp = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket
    tcp?.cork()
    for (const text of texts) this.socket.send(text)
    tcp?.uncork()
  }
}
