// The relay engine: NIP-01 over WebSocket as a pipeline of named stages (docs/architecture.md
// gives each a paragraph).
//
//   EVENT: parse → shape → rate → policy → verify → service hooks → write (batched) → OK → fan-out
//   REQ:   parse → validate filters → service hooks → query → EOSE → live subscription
//
// Services never change this file: they add hooks (onConnect, onAuth, onEvent, onReq,
// onClose) and declare private kinds through their ServiceContext. NIP-77 frames (NEG-*) go
// to relay/negentropy.ts; member nodes that replicate are recognised by `replicationPeer`
// (replication/): they are not rate-limited and read every private event.
import type { IncomingMessage } from 'node:http'
import {
  type Filter,
  type NostrEvent,
  authChallengeMessage,
  authEventError,
  closedMessage,
  countMessage,
  eoseMessage,
  eventIdPreimage,
  eventShapeError,
  filterError,
  kindClass,
  matchFilters,
  noticeMessage,
  okMessage,
  parseClientMessage,
  relayEventMessage,
  serializeEvent,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { WebSocket } from 'ws'
import type { Clock } from '../clock.js'
import type { NodeConfig } from '../config.js'
import type { NodeMetrics } from '../metrics.js'
import type { HookName, Hooks, Served } from '../services/service.js'
import type { EventStore, QueryResult, WriteOutcome } from '../store/event-store.js'
import { Connection, type Subscription } from './connection.js'
import { policyRefusal } from './event-policy.js'
import { EventWriter } from './event-writer.js'
import { TokenBucket } from './rate-limiter.js'
import { type Refusal, refusalText, refuse } from './refusal.js'

import type { CheckResult, Verifier } from '../verify/event-verifier.js'

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

/** The id of a stored event: serializeEvent puts `{"id":"<64 hex>"` first. */
const eventIdOf = (raw: string): string => raw.slice(7, 71)

/** NIP-77 frames, told apart before parsing: `["NEG-OPEN", …` and its kin. */
const NEG_FRAME = /^\[\s*"NEG-/

/** A connection whose send buffer grows past this is too slow to follow; it is closed. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024

export class Relay {
  readonly connections = new Set<Connection>()
  private readonly hooks: { [K in HookName]: Hooks[K][] } = {
    onConnect: [],
    onAuth: [],
    onEvent: [],
    onReq: [],
    onClose: [],
    onServed: [],
  }
  private readonly privateKinds = new Set<number>()
  private readonly writer: EventWriter
  private readonly ipBudgets = new Map<string, TokenBucket>()
  private readonly ipConnections = new Map<string, number>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private accepting = true
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
    this.writer = new EventWriter(options.store, options.metrics.writeSeconds)
    // A store shared by several processes (PostgreSQL) hands over the events they accepted.
    options.store.onRemoteEvent?.((event, raw) => this.fanOut(event, raw))
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

  /** Takes a new WebSocket. Returns false (and closes it) when the IP has too many. */
  accept(socket: WebSocket, request: IncomingMessage): boolean {
    const { config, metrics, log } = this.options
    const ip = request.socket.remoteAddress ?? 'unknown'
    const open = this.ipConnections.get(ip) ?? 0
    if (!this.accepting) {
      socket.close(1001, 'shutting down')
      return false
    }
    if (open >= config.limits.maxConnectionsPerIp) {
      socket.send(noticeMessage('rate-limited: too many connections from your address'))
      socket.close(1008, 'too many connections')
      return false
    }
    this.ipConnections.set(ip, open + 1)
    const conn = new Connection(
      socket,
      ip,
      config.limits.eventsPerSecond,
      this.options.clock.nowMs(),
    )
    this.connections.add(conn)
    metrics.connections.inc()
    metrics.connectionsTotal.inc()
    socket.on('message', (data) => {
      const frame = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data)
      // The frame's length is its size in bytes: no need to measure the decoded text again.
      this.track(this.onMessage(conn, frame.toString('utf8'), frame.length))
    })
    socket.on('close', () => this.onSocketClose(conn))
    socket.on('error', (err) => log.debug({ err, conn: conn.id }, 'socket error'))
    conn.send(authChallengeMessage(conn.challenge))
    for (const hook of this.hooks.onConnect) this.track(Promise.resolve(hook(conn)))
    return true
  }

  private onSocketClose(conn: Connection): void {
    if (conn.closed) return
    conn.closed = true
    this.connections.delete(conn)
    const open = (this.ipConnections.get(conn.ip) ?? 1) - 1
    if (open <= 0) this.ipConnections.delete(conn.ip)
    else this.ipConnections.set(conn.ip, open)
    this.options.metrics.connections.dec()
    this.options.metrics.subscriptions.dec(conn.subscriptions.size)
    conn.subscriptions.clear()
    for (const hook of this.hooks.onClose) this.track(Promise.resolve(hook(conn)))
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err) => this.options.log.error({ err }, 'internal error'))
    this.inFlight.add(tracked)
    tracked.finally(() => this.inFlight.delete(tracked))
  }

  // ---- parse ------------------------------------------------------------------------

  private async onMessage(conn: Connection, text: string, bytes: number): Promise<void> {
    const { limits } = this.options.config
    if (this.negentropy && NEG_FRAME.test(text)) return this.negentropy.onMessage(conn, text, bytes)
    if (bytes > limits.maxMessageBytes) {
      const reason = `invalid: message is larger than ${limits.maxMessageBytes} bytes`
      const id = /"id"\s*:\s*"([0-9a-f]{64})"/.exec(text)?.[1]
      if (text.startsWith('["EVENT"') && id) {
        this.countRefusal(refuse('invalid', 'message-too-large', ''))
        conn.send(okMessage(id, false, reason))
      } else this.notice(conn, 'message-too-large', reason)
      return
    }
    const parsed = parseClientMessage(text)
    if (!parsed.ok) {
      if (parsed.subId) conn.send(closedMessage(parsed.subId, `invalid: ${parsed.reason}`))
      else this.notice(conn, 'malformed', `invalid: ${parsed.reason}`)
      return
    }
    const m = parsed.message
    switch (m.type) {
      case 'EVENT':
        return this.onEvent(conn, m.event)
      case 'REQ':
        return this.onReq(conn, m.subId, m.filters, 'REQ')
      case 'COUNT':
        return this.onReq(conn, m.subId, m.filters, 'COUNT')
      case 'CLOSE':
        if (conn.subscriptions.delete(m.subId)) this.options.metrics.subscriptions.dec()
        return
      case 'AUTH':
        return this.onAuth(conn, m.event)
    }
  }

  private notice(conn: Connection, rule: string, text: string): void {
    this.options.metrics.notices.inc({ rule })
    conn.send(noticeMessage(text))
  }

  private countRefusal(r: Refusal): void {
    this.options.metrics.eventsRefused.inc({ prefix: r.prefix, rule: r.rule })
  }

  // ---- EVENT ------------------------------------------------------------------------

  private async onEvent(conn: Connection, value: unknown): Promise<void> {
    const { metrics } = this.options
    const started = performance.now()
    metrics.eventsReceived.inc()
    const answer = (id: string, refusal: Refusal | null, okText = '') => {
      if (refusal) this.countRefusal(refusal)
      conn.send(okMessage(id, refusal === null, refusal ? refusalText(refusal) : okText))
      metrics.okSeconds.observe((performance.now() - started) / 1000)
    }
    const shapeError = eventShapeError(value)
    if (shapeError) {
      const id = (value as { id?: unknown } | null)?.id
      const r = refuse('invalid', 'shape', shapeError)
      if (typeof id === 'string' && id.length <= 64) answer(id, r)
      else {
        this.countRefusal(r)
        this.notice(conn, 'shape', refusalText(r))
      }
      return
    }
    const event = value as NostrEvent
    if (!this.accepting)
      return answer(event.id, refuse('error', 'shutdown', 'node is shutting down'))
    const nowMs = this.options.clock.nowMs()
    const peer = this.replicationPeer(conn)
    if (!peer && !conn.eventBudget.take(nowMs)) {
      return answer(
        event.id,
        refuse(
          'rate-limited',
          'connection-rate',
          'slow down: too many events from this connection',
        ),
      )
    }
    if (!peer && !this.ipBudget(conn.ip).take(nowMs)) {
      return answer(
        event.id,
        refuse('rate-limited', 'ip-rate', 'slow down: too many events from your address'),
      )
    }
    const now = this.now()
    const policy = policyRefusal(event, this.options.config, now)
    if (policy) return answer(event.id, policy)

    const check = await this.checkSignature(event)
    if (check === 'bad-id') {
      return answer(event.id, refuse('invalid', 'bad-id', 'event id does not match its content'))
    }
    if (check === 'bad-sig') {
      return answer(event.id, refuse('invalid', 'bad-signature', 'signature verification failed'))
    }
    if (check === 'unavailable') {
      return answer(
        event.id,
        refuse('error', 'verifier', 'could not check the signature; try again'),
      )
    }
    if (event.kind === 22242) {
      return answer(
        event.id,
        refuse(
          'invalid',
          'auth-as-event',
          'AUTH events (kind 22242) are sent with AUTH, not EVENT',
        ),
      )
    }

    for (const hook of this.hooks.onEvent) {
      const refusal = await hook(event, conn)
      if (refusal) return answer(event.id, refusal)
    }

    const cls = kindClass(event.kind)
    const raw = serializeEvent(event)
    const accepted = () => {
      metrics.eventsStored.inc({ kind_class: cls })
      answer(event.id, null)
      this.fanOut(event, raw)
      if (this.hooks.onServed.length > 0) {
        this.served(conn, { verb: 'EVENT', event, bytes: Buffer.byteLength(raw) })
      }
    }
    if (cls === 'ephemeral') {
      this.shareEphemeral(raw)
      return accepted()
    }
    let outcome: Awaited<ReturnType<EventWriter['write']>>
    try {
      outcome = await this.writer.write({ event, raw, receivedAt: now })
    } catch (err) {
      this.options.log.error({ err, id: event.id }, 'write failed')
      return answer(event.id, refuse('error', 'store', 'could not store the event; try again'))
    }
    switch (outcome.status) {
      case 'stored':
        return accepted()
      case 'duplicate':
        metrics.eventsDuplicate.inc()
        return answer(event.id, null, 'duplicate: already have this event')
      case 'superseded':
        metrics.eventsStored.inc({ kind_class: cls })
        return answer(event.id, null, 'duplicate: a newer version of this event is already stored')
      case 'deleted':
        return answer(
          event.id,
          refuse('blocked', 'deleted', 'this event was deleted by its author'),
        )
    }
  }

  /**
   * Stores an event the node made itself (signed with its key) and sends it to matching
   * subscriptions, as an accepted event is; no stage before the write runs. Resolves once it
   * is committed.
   */
  async publishOwn(event: NostrEvent): Promise<WriteOutcome['status']> {
    const cls = kindClass(event.kind)
    const raw = serializeEvent(event)
    if (cls === 'ephemeral') this.shareEphemeral(raw)
    const outcome =
      cls === 'ephemeral'
        ? { status: 'stored' as const }
        : await this.writer.write({ event, raw, receivedAt: this.now() })
    if (outcome.status === 'stored') {
      this.options.metrics.eventsStored.inc({ kind_class: cls })
      this.fanOut(event, raw)
    }
    return outcome.status
  }

  /** Ephemeral events reach the other processes of the node too; best effort, never stored. */
  private shareEphemeral(raw: string): void {
    this.options.store
      .shareEphemeral?.(raw)
      .catch((err) => this.options.log.warn({ err }, 'could not share an ephemeral event'))
  }

  private ipBudget(ip: string): TokenBucket {
    let bucket = this.ipBudgets.get(ip)
    if (!bucket) {
      const rate = this.options.config.limits.eventsPerSecondPerIp
      bucket = new TokenBucket(rate, rate * 2, this.options.clock.nowMs())
      this.ipBudgets.set(ip, bucket)
    }
    return bucket
  }

  /** Forgets full IP buckets of addresses with no open connection (maintenance timer). */
  sweepIdleBudgets(): void {
    const now = this.options.clock.nowMs()
    for (const [ip, bucket] of this.ipBudgets) {
      if (!this.ipConnections.has(ip) && bucket.idle(now)) this.ipBudgets.delete(ip)
    }
  }

  // ---- fan-out ----------------------------------------------------------------------

  private canRead(event: NostrEvent, conn: Connection): boolean {
    if (!this.privateKinds.has(event.kind) || this.replicationPeer(conn)) return true
    for (const tag of event.tags) {
      if (tag[0] === 'p' && tag[1] !== undefined && conn.authed.has(tag[1])) return true
    }
    return false
  }

  private fanOut(event: NostrEvent, raw: string): void {
    for (const conn of this.connections) {
      if (conn.subscriptions.size === 0) continue
      for (const [subId, sub] of conn.subscriptions) {
        if (matchFilters(sub.filters, event) && this.canRead(event, conn)) {
          const message = relayEventMessage(subId, raw)
          if (sub.backlog) {
            sub.backlog.push({ id: event.id, message })
            continue
          }
          if (conn.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
            conn.socket.close(1008, 'too slow to follow the subscription')
            break
          }
          conn.send(message)
        }
      }
    }
  }

  // ---- REQ and COUNT ----------------------------------------------------------------

  private async onReq(
    conn: Connection,
    subId: string,
    rawFilters: unknown[],
    verb: 'REQ' | 'COUNT',
  ): Promise<void> {
    const { config, metrics, store } = this.options
    const { limits } = config
    const close = (r: Refusal) => {
      metrics.queriesRefused.inc({ prefix: r.prefix, rule: r.rule })
      conn.send(closedMessage(subId, refusalText(r)))
    }
    if (rawFilters.length > limits.maxFilters) {
      return close(refuse('invalid', 'too-many-filters', `more than ${limits.maxFilters} filters`))
    }
    for (const f of rawFilters) {
      const error = filterError(f, { maxValues: limits.maxFilterValues })
      if (error) return close(refuse('invalid', 'bad-filter', error))
    }
    const filters = rawFilters as Filter[]
    if (
      verb === 'REQ' &&
      !conn.subscriptions.has(subId) &&
      conn.subscriptions.size >= limits.maxSubscriptions
    ) {
      return close(
        refuse(
          'rate-limited',
          'too-many-subscriptions',
          `too many open subscriptions (at most ${limits.maxSubscriptions}); CLOSE one first`,
        ),
      )
    }
    const refusal = await this.requestRefusal(filters, conn, verb)
    if (refusal) return close(refusal)
    const access = this.readAccess(conn)
    const now = this.now()
    const stop = metrics.querySeconds.startTimer()
    metrics.queries.inc({ verb })
    if (verb === 'COUNT') {
      try {
        let count = 0
        for (const f of filters) count += await store.count(f, { ...access, now })
        stop()
        conn.send(countMessage(subId, count))
        if (this.hooks.onServed.length > 0) {
          this.served(conn, { verb: 'COUNT', filters, events: count, bytes: 0 })
        }
        return
      } catch (err) {
        stop()
        this.options.log.error({ err, subId }, 'count failed')
        return close(refuse('error', 'store', 'the count failed; try again'))
      }
    }
    // The subscription is live before the store is read: events committed while the read
    // runs wait in its backlog and follow EOSE, so none falls between the two.
    const sub: Subscription = { filters, backlog: [] }
    if (!conn.subscriptions.has(subId)) metrics.subscriptions.inc()
    conn.subscriptions.set(subId, sub)
    let results: QueryResult
    try {
      const options = { ...access, limit: limits.maxLimit, now }
      results =
        filters.length === 1
          ? await store.query(filters[0]!, {
              ...options,
              limit: Math.min(filters[0]!.limit ?? limits.defaultLimit, limits.maxLimit),
            })
          : await this.queryMany(filters, options)
      stop()
    } catch (err) {
      stop()
      this.options.log.error({ err, subId }, 'query failed')
      if (conn.subscriptions.get(subId) === sub) {
        conn.subscriptions.delete(subId)
        metrics.subscriptions.dec()
      }
      return close(refuse('error', 'store', 'the query failed; try again'))
    }
    // Closed, or replaced by a newer REQ with the same id, while it was read: say nothing.
    if (conn.closed || conn.subscriptions.get(subId) !== sub) return
    const messages = results.events.map((raw) => relayEventMessage(subId, raw))
    messages.push(eoseMessage(subId))
    if (sub.backlog && sub.backlog.length > 0) {
      const sent = new Set(results.events.map(eventIdOf))
      for (const live of sub.backlog) if (!sent.has(live.id)) messages.push(live.message)
    }
    sub.backlog = null
    conn.sendMany(messages)
    if (this.hooks.onServed.length > 0) {
      this.served(conn, {
        verb: 'REQ',
        filters,
        events: results.events.length,
        bytes: results.bytes,
      })
    }
  }

  /** The onReq hooks' verdict on a request (REQ, COUNT, or a NIP-77 NEG-OPEN as REQ). */
  async requestRefusal(
    filters: readonly Filter[],
    conn: Connection,
    verb: 'REQ' | 'COUNT',
  ): Promise<Refusal | undefined> {
    for (const hook of this.hooks.onReq) {
      const refusal = await hook(filters, conn, verb)
      if (refusal) return refusal
    }
    return undefined
  }

  /** What a connection may read of the private kinds: its own, or all for a member node. */
  readAccess(conn: Connection): { privateKinds: number[]; readerPubkeys: string[] } {
    if (this.replicationPeer(conn)) return { privateKinds: [], readerPubkeys: [] }
    return { privateKinds: [...this.privateKinds], readerPubkeys: [...conn.authed] }
  }

  /** Several filters: each queried with its own limit, merged newest first, without repeats. */
  private async queryMany(
    filters: Filter[],
    options: { privateKinds: number[]; readerPubkeys: string[]; limit: number; now: number },
  ): Promise<QueryResult> {
    const { limits } = this.options.config
    const seen = new Set<string>()
    const rows: Array<{ createdAt: number; raw: string }> = []
    let bytes = 0
    for (const f of filters) {
      const limit = Math.min(f.limit ?? limits.defaultLimit, limits.maxLimit)
      const result = await this.options.store.query(f, { ...options, limit })
      bytes += result.bytes
      for (const raw of result.events) {
        const id = eventIdOf(raw)
        if (seen.has(id)) {
          bytes -= Buffer.byteLength(raw)
          continue
        }
        seen.add(id)
        const createdAt = Number(/"created_at":(\d+)/.exec(raw)?.[1] ?? 0)
        rows.push({ createdAt, raw })
      }
    }
    rows.sort((a, b) => b.createdAt - a.createdAt)
    return { events: rows.map((r) => r.raw), bytes }
  }

  /** Tells the onServed hooks (metering) what was served; callers skip it when there are none. */
  private served(conn: Connection, served: Served): void {
    for (const hook of this.hooks.onServed) {
      try {
        hook(served, conn)
      } catch (err) {
        this.options.log.error({ err }, 'onServed hook failed')
      }
    }
  }

  /** The verify stage; a failing verifier (a crashed worker) is an answer, not a throw. */
  private async checkSignature(event: NostrEvent): Promise<CheckResult | 'unavailable'> {
    try {
      return await this.options.verifier.check({
        id: event.id,
        pubkey: event.pubkey,
        sig: event.sig,
        serialized: eventIdPreimage(event),
      })
    } catch (err) {
      this.options.log.error({ err, id: event.id }, 'signature check failed')
      return 'unavailable'
    }
  }

  // ---- AUTH -------------------------------------------------------------------------

  private async onAuth(conn: Connection, value: unknown): Promise<void> {
    const shapeError = eventShapeError(value)
    if (shapeError) return this.notice(conn, 'auth-shape', `invalid: AUTH ${shapeError}`)
    const event = value as NostrEvent
    const error = authEventError(event, {
      challenge: conn.challenge,
      relayUrl: this.relayUrl,
      now: this.now(),
    })
    if (error) {
      conn.send(okMessage(event.id, false, `invalid: ${error}`))
      return
    }
    const check = await this.checkSignature(event)
    if (check !== 'ok') {
      const text =
        check === 'unavailable'
          ? 'error: could not check the signature; try again'
          : 'invalid: AUTH event signature or id is wrong'
      conn.send(okMessage(event.id, false, text))
      return
    }
    conn.authed.add(event.pubkey)
    conn.send(okMessage(event.id, true, ''))
    for (const hook of this.hooks.onAuth) await hook(conn, event.pubkey)
  }

  // ---- shutdown ---------------------------------------------------------------------

  /** Stops taking events, finishes what was accepted (every OK is sent), closes sockets. */
  async shutdown(): Promise<void> {
    this.accepting = false
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    await this.writer.drain()
    for (const conn of this.connections) conn.socket.close(1001, 'node shutting down')
  }
}
