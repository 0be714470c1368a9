// The relay engine: NIP-01 over WebSocket, assembled from its named stages
// (docs/architecture.md gives each a paragraph; messages.ts types what passes between them).
//
//   admission.ts  each connection's limits; a frame → a ClientMessage, or a refusal
//   ingest.ts     EVENT: shape → policy → verify → service hooks → write (batched) → OK
//   query.ts      REQ / COUNT / CLOSE: rate → filters → service hooks → store → EOSE → live
//   fan-out.ts    every open subscription; each stored event to those it matches
//   auth.ts       NIP-42: the challenge, the AUTH event
//
// This file only wires them: it routes each verdict to the next stage and says to the client
// what a stage decided. Every buffer a client can fill has a bound (docs/security.md).
// Services never change the engine: they add hooks (onConnect, onAuth, onEvent, onReq,
// onClose, onServed) and declare private kinds through their ServiceContext. NIP-77 frames
// (NEG-*) go to relay/negentropy.ts; member nodes that replicate are recognised by
// `replicationPeer` (replication/): they are not rate-limited and read every private event.
import type { IncomingMessage } from 'node:http'
import {
  type Filter,
  type NostrEvent,
  closedMessage,
  noticeMessage,
  okMessage,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import type { Clock } from '../clock.js'
import type { NodeConfig } from '../config.js'
import type { NodeMetrics } from '../metrics.js'
import type { HookName, Hooks, Served } from '../services/service.js'
import type { EventStore, WriteOutcome } from '../store/event-store.js'
import type { Verifier } from '../verify/event-verifier.js'
import { Admission } from './admission.js'
import { Auth } from './auth.js'
import type { Connection, ConnectionInfo } from './connection.js'
import { FanOut } from './fan-out.js'
import { Ingest } from './ingest.js'
import type { ClientMessage, IngestOutcome } from './messages.js'
import { Query } from './query.js'
import { type Refusal, refusalText } from './refusal.js'
import type { HookLists, StageContext } from './stage-context.js'

export type RelayOptions = {
  config: NodeConfig
  store: EventStore
  verifier: Pick<Verifier, 'check'>
  log: Logger
  metrics: NodeMetrics
  /** The URL clients must name in NIP-42 AUTH. */
  relayUrl: string
  /** Time for rate limits, policy, expiry and AUTH. */
  clock: Clock
}

export class Relay {
  readonly connections = new Set<Connection>()
  private readonly hooks: HookLists = {
    onConnect: [],
    onAuth: [],
    onEvent: [],
    onReq: [],
    onClose: [],
    onDeliver: [],
    onServed: [],
  }
  private readonly privateKinds = new Set<number>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private accepting = true
  private readonly admission: Admission
  private readonly ingest: Ingest
  private readonly query: Query
  private readonly fanOut: FanOut
  private readonly auth: Auth
  /** Unix seconds, from the node's clock. */
  readonly now: () => number
  /** The URL clients must name in NIP-42 AUTH. */
  relayUrl: string
  /** The NIP-77 server (relay/negentropy.ts): takes every NEG-* frame. */
  negentropy: { onMessage(conn: Connection, text: string, bytes: number): Promise<void> } | null =
    null
  /** A member node replicating (replication/): no rate limit, every private event readable. */
  replicationPeer: (conn: Connection) => boolean = () => false

  constructor(private readonly options: RelayOptions) {
    this.now = () => options.clock.now()
    this.relayUrl = options.relayUrl
    const ctx: StageContext = {
      config: options.config,
      store: options.store,
      verifier: options.verifier,
      log: options.log,
      metrics: options.metrics,
      clock: options.clock,
      hooks: this.hooks,
      privateKinds: this.privateKinds,
      now: this.now,
      isMember: (conn) => this.replicationPeer(conn),
      accepting: () => this.accepting,
      relayUrl: () => this.relayUrl,
      track: (work) => this.track(work),
      sendBufferBound: (conn) => this.admission.sendBufferBound(conn),
      served: (conn, served) => this.served(conn, served),
    }
    this.admission = new Admission(ctx)
    this.fanOut = new FanOut(ctx)
    this.ingest = new Ingest(ctx)
    this.query = new Query(ctx, this.fanOut, (ip) => this.admission.ipQueryBudget(ip))
    this.auth = new Auth(ctx)
    // A store shared by several processes (PostgreSQL) hands over the events they accepted.
    options.store.onRemoteEvent?.((event, raw) => this.fanOut.deliver({ event, raw }))
  }

  get config(): NodeConfig {
    return this.options.config
  }

  addHook<K extends HookName>(name: K, fn: Hooks[K]): void {
    const list = this.hooks[name]
    if (!list) throw new Error(`unknown hook "${String(name)}"`)
    list.push(fn)
  }

  addPrivateKinds(kinds: readonly number[]): void {
    for (const k of kinds) this.privateKinds.add(k)
  }

  // ---- connections ------------------------------------------------------------------

  /**
   * Takes a new WebSocket. Returns false (and closes it) when its address has too many;
   * `address` is the key per-address limits count it under (see Admission.open).
   */
  accept(socket: WebSocket, request: IncomingMessage, address?: string): boolean {
    const conn = this.admission.open(socket, request, address)
    if (!conn) return false
    this.connections.add(conn)
    this.admission.receive(conn, (text, bytes) => this.onFrame(conn, text, bytes))
    socket.on('close', () => this.onSocketClose(conn))
    socket.on('error', (err) => this.options.log.debug({ err, conn: conn.id }, 'socket error'))
    this.auth.challenge(conn)
    for (const hook of this.hooks.onConnect) this.track(Promise.resolve(hook(conn)))
    return true
  }

  private onSocketClose(conn: Connection): void {
    if (conn.closed) return
    conn.closed = true
    this.connections.delete(conn)
    this.admission.closed(conn)
    this.fanOut.dropAll(conn)
    this.query.closed(conn)
    for (const hook of this.hooks.onClose) this.track(Promise.resolve(hook(conn)))
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err) => this.options.log.error({ err }, 'internal error'))
    this.inFlight.add(tracked)
    tracked.finally(() => this.inFlight.delete(tracked))
  }

  // ---- routing ----------------------------------------------------------------------

  private async onFrame(conn: Connection, text: string, bytes: number): Promise<void> {
    const verdict = this.admission.admit(conn, text, bytes, this.negentropy !== null)
    switch (verdict.type) {
      case 'negentropy':
        return this.negentropy!.onMessage(conn, text, bytes)
      case 'refused':
        return this.admission.answer(conn, verdict.answer)
      case 'message':
        return this.route(conn, verdict.message)
    }
  }

  private async route(conn: Connection, m: ClientMessage): Promise<void> {
    switch (m.type) {
      case 'EVENT':
        return this.onEvent(conn, m.event)
      case 'REQ':
      case 'COUNT':
        return this.onQuery(conn, m)
      case 'CLOSE':
        return this.query.close(conn, m.subId)
      case 'AUTH':
        return this.onAuth(conn, m.event)
    }
  }

  /** EVENT: ingest decides, the client hears it (OK), a stored event goes on to fan-out. */
  private async onEvent(conn: Connection, value: unknown): Promise<void> {
    const { metrics } = this.options
    const started = performance.now()
    const outcome = await this.ingest.ingest(conn, value)
    const ok = (id: string, accepted: boolean, text: string) => {
      conn.send(okMessage(id, accepted, text))
      metrics.okSeconds.observe((performance.now() - started) / 1000)
    }
    switch (outcome.type) {
      case 'stored': {
        const { event, raw } = outcome
        ok(event.id, true, '')
        this.fanOut.deliver(outcome, conn)
        if (this.hooks.onServed.length > 0) {
          this.served(conn, { verb: 'EVENT', event, bytes: Buffer.byteLength(raw) })
        }
        return
      }
      case 'duplicate':
        return ok(outcome.id, true, outcome.message)
      case 'refused':
        this.countRefusal(outcome.refusal)
        return ok(outcome.id, false, refusalText(outcome.refusal))
      case 'malformed':
        this.countRefusal(outcome.refusal)
        this.options.metrics.notices.inc({ rule: 'shape' })
        conn.send(noticeMessage(refusalText(outcome.refusal)))
        return
    }
  }

  /** REQ and COUNT: the query stage answers; a refusal is a CLOSED, what it served is metered. */
  private async onQuery(
    conn: Connection,
    request: Extract<ClientMessage, { type: 'REQ' | 'COUNT' }>,
  ): Promise<void> {
    const outcome = await this.query.request(conn, request)
    switch (outcome.type) {
      case 'refused': {
        const r = outcome.refusal
        this.options.metrics.queriesRefused.inc({ prefix: r.prefix, rule: r.rule })
        conn.send(closedMessage(request.subId, refusalText(r)))
        return
      }
      case 'served':
        if (this.hooks.onServed.length > 0) this.served(conn, outcome.served)
        return
      case 'ended':
        return
    }
  }

  /** AUTH: the stage decides, the client hears it (OK), then the onAuth hooks run. */
  private async onAuth(conn: Connection, value: unknown): Promise<void> {
    const outcome = await this.auth.authenticate(conn, value)
    switch (outcome.type) {
      case 'malformed':
        this.options.metrics.notices.inc({ rule: 'auth-shape' })
        conn.send(noticeMessage(outcome.text))
        return
      case 'refused':
        conn.send(okMessage(outcome.id, false, outcome.text))
        return
      case 'authenticated':
        conn.send(okMessage(outcome.id, true, ''))
        for (const hook of this.hooks.onAuth) await hook(conn, outcome.pubkey)
        return
    }
  }

  private countRefusal(r: Refusal): void {
    this.options.metrics.eventsRefused.inc({ prefix: r.prefix, rule: r.rule })
  }

  /** Tells the onServed hooks (metering) what was served; callers skip it when there are none. */
  private served(conn: ConnectionInfo, served: Served): void {
    for (const hook of this.hooks.onServed) {
      try {
        hook(served, conn)
      } catch (err) {
        this.options.log.error({ err }, 'onServed hook failed')
      }
    }
  }

  // ---- for the node and its services ------------------------------------------------

  /**
   * Events a member node holds and this one lacks (replication's catch-up), handed over in
   * process instead of through a WebSocket to itself: each passes the ingest stage like any
   * EVENT — shape, policy, signature, the services' hooks — as if sent on a connection
   * authenticated as `from` (a member node), all at once, so the verifier checks them in
   * batches and the writer commits many per transaction; what is stored goes on to fan-out
   * and the onServed hooks, as an EVENT does. The outcomes are in the order of `values`.
   */
  async ingestBatch(values: readonly unknown[], from: ConnectionInfo): Promise<IngestOutcome[]> {
    return Promise.all(
      values.map(async (value) => {
        const outcome = await this.ingest.ingest(from, value)
        if (outcome.type === 'stored') {
          this.fanOut.deliver(outcome, from)
          if (this.hooks.onServed.length > 0) {
            this.served(from, {
              verb: 'EVENT',
              event: outcome.event,
              bytes: Buffer.byteLength(outcome.raw),
            })
          }
        } else if (outcome.type === 'refused' || outcome.type === 'malformed') {
          this.countRefusal(outcome.refusal)
        }
        return outcome
      }),
    )
  }

  /**
   * Stores an event the node made itself (signed with its key) and sends it to matching
   * subscriptions, as an accepted event is; no stage before the write runs. Resolves once it
   * is committed.
   */
  async publishOwn(event: NostrEvent): Promise<WriteOutcome['status']> {
    const { status, raw } = await this.ingest.writeOwn(event)
    if (status === 'stored') this.fanOut.deliver({ event, raw })
    return status
  }

  /** The onReq hooks' verdict on a request (REQ, COUNT, or a NIP-77 NEG-OPEN as REQ). */
  requestRefusal(
    filters: readonly Filter[],
    conn: Connection,
    verb: 'REQ' | 'COUNT',
  ): Promise<Refusal | undefined> {
    return this.query.requestRefusal(filters, conn, verb)
  }

  /** What a connection may read of the private kinds: its own, or all for a member node. */
  readAccess(conn: Connection): { privateKinds: number[]; readerPubkeys: string[] } {
    return this.query.readAccess(conn)
  }

  /** Forgets full IP buckets of addresses with no open connection (maintenance timer). */
  sweepIdleBudgets(): void {
    this.admission.sweepIdleBudgets()
  }

  /** Stops taking events, finishes what was accepted (every OK is sent), closes sockets. */
  async shutdown(): Promise<void> {
    this.accepting = false
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    await this.ingest.drain()
    for (const conn of this.connections) {
      // A paused socket would never read the client's close frame, and close() would wait.
      conn.released = true
      conn.reconsiderReading()
      conn.socket.close(1001, 'node shutting down')
    }
  }
}
