// The relay engine: NIP-01 over WebSocket as a pipeline of named stages (docs/architecture.md
// gives each a paragraph).
//
//   EVENT: parse → shape → rate → policy → verify → service hooks → write (batched) → OK → fan-out
//   REQ:   parse → rate → validate filters → service hooks → query → EOSE → live subscription
//
// Every buffer a client can fill has a bound (docs/security.md): a client that stops reading
// has its subscriptions closed past `limits.maxSendBufferBytes` queued for it and is dropped at
// four times that; stored results are sent in steps within it; a subscription's backlog holds
// at most `limits.maxBacklog` live events; REQ/COUNT and AUTH are rate-limited per connection,
// its queries in flight and its authenticated keys are capped. Live events find their
// subscriptions through an index (subscription-index.ts), not by trying every filter.
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
  eventJsonForms,
  eventShapeError,
  filterError,
  kindClass,
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
import { type StoredFrames, frameStoredEvents } from './stored-frames.js'
import { SubscriptionIndex, compileFilter } from './subscription-index.js'
import { StoreBusyError, StoreTimeoutError } from '../store/event-store.js'

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

/** Bytes of accepted events waiting for the writer past which new ones are refused. */
const MAX_WRITE_QUEUE_BYTES = 64 * 1024 * 1024

/** How long a REQ's stored results wait for a client to read before its subscription closes. */
const DRAIN_WAIT_MS = 10_000

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref()
  })

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
  /** Every open subscription, indexed for fan-out. */
  private readonly index = new SubscriptionIndex<Subscription>()
  private readonly writer: EventWriter
  private readonly ipBudgets = new Map<string, TokenBucket>()
  private readonly ipQueryBudgets = new Map<string, TokenBucket>()
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
      {
        eventsPerSecond: config.limits.eventsPerSecond,
        queriesPerSecond: config.limits.queriesPerSecond,
        authPerSecond: config.limits.authPerSecond,
      },
      this.options.clock.nowMs(),
      config.limits.maxSendBufferBytes * 4,
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
      // Back-pressure: a connection whose messages are still being worked on (verify, write,
      // query) past a count or a size is not read from until they are answered, so a flood
      // waits in its own TCP buffers, not in the node's memory.
      conn.inProgress++
      conn.inProgressBytes += frame.length
      conn.reconsiderReading()
      // The frame's length is its size in bytes: no need to measure the decoded text again.
      this.track(
        this.onMessage(conn, frame.toString('utf8'), frame.length).finally(() => {
          conn.inProgress--
          conn.inProgressBytes -= frame.length
          conn.reconsiderReading()
        }),
      )
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
    for (const sub of conn.subscriptions.values()) this.index.remove(sub)
    conn.subscriptions.clear()
    for (const wake of conn.queryWaiters.splice(0)) wake()
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
    // A flood of events is refused before it is parsed: the buckets are checked on the raw
    // frame, and the id for OK is read from its first bytes.
    // An event costs one token per started 2 KiB, so a flood of large or tag-heavy events is
    // held to a byte rate; a client past its budget is also not read from for a second.
    // Member nodes that replicate are not rate-limited (replication/).
    if (text.startsWith('["EVENT"') && !this.replicationPeer(conn)) {
      const nowMs = this.options.clock.nowMs()
      const cost = 1 + Math.floor(bytes / 2048)
      const limited = !conn.eventBudget.take(nowMs, cost)
        ? 'slow down: too many events from this connection'
        : !this.ipBudget(conn.ip).take(nowMs, cost)
          ? 'slow down: too many events from your address'
          : null
      if (limited) {
        conn.throttle(1000)
        const r = refuse('rate-limited', 'event-rate', limited)
        this.countRefusal(r)
        const id = /"id"\s*:\s*"([0-9a-f]{64})"/.exec(text)?.[1]
        if (id) conn.send(okMessage(id, false, refusalText(r)))
        else this.notice(conn, 'event-rate', refusalText(r))
        return
      }
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
        this.dropSubscription(conn, m.subId)
        return
      case 'AUTH':
        return this.onAuth(conn, m.event)
    }
  }

  /** Forgets a subscription (CLOSE, a replacing REQ, a refusal); false when there was none. */
  private dropSubscription(conn: Connection, subId: string, only?: Subscription): boolean {
    const sub = conn.subscriptions.get(subId)
    if (!sub || (only !== undefined && sub !== only)) return false
    conn.subscriptions.delete(subId)
    this.index.remove(sub)
    this.options.metrics.subscriptions.dec()
    return true
  }

  /** Closes a subscription with a reason the client sees (CLOSED). */
  private closeSubscription(conn: Connection, sub: Subscription, rule: string, text: string): void {
    if (!this.dropSubscription(conn, sub.id, sub)) return
    this.options.metrics.queriesRefused.inc({ prefix: text.slice(0, text.indexOf(':')), rule })
    conn.send(closedMessage(sub.id, text))
  }

  /** A client that does not read: its subscriptions are closed, so nothing more queues for it. */
  private slowReader(conn: Connection): void {
    const max = this.options.config.limits.maxSendBufferBytes
    for (const sub of [...conn.subscriptions.values()]) {
      this.closeSubscription(
        conn,
        sub,
        'slow-reader',
        `error: you are not reading: more than ${max} bytes wait to be sent to you; subscriptions closed`,
      )
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
    // (The connection's and the address's event buckets were taken in onMessage, unparsed.)
    const now = this.now()
    const policy = policyRefusal(event, this.options.config, now)
    if (policy) return answer(event.id, policy)

    // Serialised once, here: the preimage for the verify stage, raw for the store and readers.
    const forms = eventJsonForms(event)
    const check = await this.checkSignature(event, forms.preimage)
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
    const raw = forms.raw
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
    if (this.writer.queuedBytes > MAX_WRITE_QUEUE_BYTES) {
      return answer(
        event.id,
        refuse('rate-limited', 'write-queue', 'the node is busy writing; try again shortly'),
      )
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

  private ipQueryBudget(ip: string): TokenBucket {
    let bucket = this.ipQueryBudgets.get(ip)
    if (!bucket) {
      const rate = this.options.config.limits.queriesPerSecondPerIp
      bucket = new TokenBucket(rate, rate * 2, this.options.clock.nowMs())
      this.ipQueryBudgets.set(ip, bucket)
    }
    return bucket
  }

  /** Forgets full IP buckets of addresses with no open connection (maintenance timer). */
  sweepIdleBudgets(): void {
    const now = this.options.clock.nowMs()
    for (const budgets of [this.ipBudgets, this.ipQueryBudgets]) {
      for (const [ip, bucket] of budgets) {
        if (!this.ipConnections.has(ip) && bucket.idle(now)) budgets.delete(ip)
      }
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
    if (this.index.size === 0) return
    const { maxSendBufferBytes, maxBacklog } = this.options.config.limits
    for (const sub of this.index.matching(event)) {
      const conn = sub.conn
      if (conn.closed || !this.canRead(event, conn)) continue
      const message = relayEventMessage(sub.id, raw)
      if (sub.backlog) {
        if (sub.backlog.length >= maxBacklog) {
          this.closeSubscription(
            conn,
            sub,
            'backlog',
            `error: more than ${maxBacklog} new events arrived while your stored events were read; subscribe again with a narrower filter`,
          )
          continue
        }
        sub.backlog.push({ id: event.id, message })
        continue
      }
      if (conn.buffered > maxSendBufferBytes) {
        this.slowReader(conn)
        continue
      }
      conn.send(message)
    }
  }

  /**
   * Sends a REQ's stored results in steps, each within the send-buffer bound, waiting for the
   * client to read between them. False when the subscription ended meanwhile (closed,
   * replaced, or the client stopped reading: then it is closed with a reason).
   */
  private async sendStored(
    conn: Connection,
    sub: Subscription,
    steps: ReadonlyArray<() => void>,
  ): Promise<boolean> {
    const max = this.options.config.limits.maxSendBufferBytes
    let i = 0
    while (i < steps.length) {
      if (conn.closed || conn.subscriptions.get(sub.id) !== sub) return false
      if (conn.buffered > max / 2) {
        const deadline = Date.now() + DRAIN_WAIT_MS
        while (conn.buffered > max / 2 && !conn.closed && Date.now() < deadline) await sleep(20)
        if (conn.buffered > max / 2) {
          this.slowReader(conn)
          return false
        }
        continue
      }
      steps[i++]!()
    }
    return !conn.closed && conn.subscriptions.get(sub.id) === sub
  }

  /** Messages grouped into steps of about a quarter of the send-buffer bound, one write each. */
  private messageSteps(conn: Connection, messages: readonly string[]): Array<() => void> {
    const quarter = this.options.config.limits.maxSendBufferBytes / 4
    const steps: Array<() => void> = []
    let i = 0
    while (i < messages.length) {
      const step: string[] = []
      let bytes = 0
      while (i < messages.length && bytes < quarter) {
        const m = messages[i++]!
        step.push(m)
        bytes += m.length
      }
      steps.push(() => conn.sendMany(step))
    }
    return steps
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
    const peer = this.replicationPeer(conn)
    if (!peer && !conn.queryBudget.take(this.options.clock.nowMs())) {
      conn.throttle(1000)
      return close(
        refuse(
          'rate-limited',
          'query-rate',
          `slow down: at most ${limits.queriesPerSecond} REQ and COUNT a second`,
        ),
      )
    }
    if (!peer && !this.ipQueryBudget(conn.ip).take(this.options.clock.nowMs())) {
      conn.throttle(1000)
      return close(
        refuse(
          'rate-limited',
          'ip-query-rate',
          'slow down: too many REQ and COUNT from your address',
        ),
      )
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
    // A connection's queries are read a few at a time; the rest wait their turn, in a queue
    // as long as its subscription limit.
    if (conn.queriesInFlight >= limits.maxQueriesInFlight) {
      if (conn.queryWaiters.length >= limits.maxSubscriptions) {
        return close(
          refuse(
            'rate-limited',
            'queries-in-flight',
            `wait for your other queries: ${conn.queryWaiters.length} are waiting already`,
          ),
        )
      }
      await new Promise<void>((resolve) => conn.queryWaiters.push(resolve))
      if (conn.closed) return
    }
    conn.queriesInFlight++
    try {
      await this.answerQuery(conn, subId, filters, verb, close)
    } finally {
      conn.queriesInFlight--
      conn.queryWaiters.shift()?.()
    }
  }

  /** Why a query failed, for the client. */
  private queryFailure(err: unknown): Refusal {
    if (err instanceof StoreBusyError) {
      return refuse('rate-limited', 'busy', 'the node is busy; try again shortly')
    }
    if (err instanceof StoreTimeoutError) {
      return refuse(
        'error',
        'query-timeout',
        `the query took longer than ${err.ms} ms and was stopped; narrow the filter`,
      )
    }
    return refuse('error', 'store', 'the query failed; try again')
  }

  private async answerQuery(
    conn: Connection,
    subId: string,
    filters: Filter[],
    verb: 'REQ' | 'COUNT',
    close: (r: Refusal) => void,
  ): Promise<void> {
    const { metrics, store } = this.options
    const { limits } = this.options.config
    const access = { ...this.readAccess(conn), client: conn.ip }
    const now = this.now()
    const stop = metrics.querySeconds.startTimer()
    metrics.queries.inc({ verb })
    if (verb === 'COUNT') {
      try {
        const count = await store.count(filters, { ...access, now })
        stop()
        conn.send(countMessage(subId, count))
        if (this.hooks.onServed.length > 0) {
          this.served(conn, { verb: 'COUNT', filters, events: count, bytes: 0 })
        }
        return
      } catch (err) {
        stop()
        if (!(err instanceof StoreBusyError || err instanceof StoreTimeoutError)) {
          this.options.log.error({ err, subId }, 'count failed')
        }
        return close(this.queryFailure(err))
      }
    }
    // The subscription is live before the store is read: events committed while the read
    // runs wait in its backlog and follow EOSE, so none falls between the two.
    // A REQ with the id of an open subscription replaces it (NIP-01).
    this.dropSubscription(conn, subId)
    const sub: Subscription = {
      id: subId,
      conn,
      filters,
      compiled: filters.map(compileFilter),
      backlog: [],
    }
    metrics.subscriptions.inc()
    conn.subscriptions.set(subId, sub)
    this.index.add(sub)
    const single = filters.length === 1 ? filters[0]! : undefined
    // One filter, a store that keeps raw JSON, a socket that takes ready frames: the stored
    // bytes go out as they are (stored-frames.ts). Otherwise a string per event.
    const framed = single !== undefined && store.queryRaw !== undefined && conn.canWriteFrames()
    let results: QueryResult | undefined
    let frames: StoredFrames | undefined
    try {
      const maxBytes = Math.floor(limits.maxResultBytes / filters.length)
      const options = { ...access, limit: limits.maxLimit, now, maxBytes }
      if (single !== undefined) {
        const one = {
          ...options,
          limit: Math.min(single.limit ?? limits.defaultLimit, limits.maxLimit),
        }
        if (framed) {
          const raw = await store.queryRaw!(single, one)
          frames = frameStoredEvents(subId, raw, limits.maxSendBufferBytes / 4)
        } else results = await store.query(single, one)
      } else results = await this.queryMany(filters, options)
      stop()
    } catch (err) {
      stop()
      if (!(err instanceof StoreBusyError || err instanceof StoreTimeoutError)) {
        this.options.log.error({ err, subId }, 'query failed')
      }
      if (this.dropSubscription(conn, subId, sub)) close(this.queryFailure(err))
      return
    }
    // Closed, or replaced by a newer REQ with the same id, while it was read: say nothing.
    if (conn.closed || conn.subscriptions.get(subId) !== sub) return
    let steps: Array<() => void>
    if (frames) {
      steps = frames.steps.map((bytes) => () => conn.writeFrames(bytes))
    } else {
      const messages = results!.events.map((raw) => relayEventMessage(subId, raw))
      messages.push(eoseMessage(subId))
      steps = this.messageSteps(conn, messages)
    }
    if (!(await this.sendStored(conn, sub, steps))) return
    // The backlog (live events that arrived meanwhile, bounded) follows EOSE, less repeats.
    const backlog = sub.backlog ?? []
    sub.backlog = null
    if (backlog.length > 0) {
      const sent = new Set(frames ? frames.ids() : results!.events.map(eventIdOf))
      conn.sendMany(backlog.filter((live) => !sent.has(live.id)).map((live) => live.message))
    }
    if (this.hooks.onServed.length > 0) {
      this.served(conn, {
        verb: 'REQ',
        filters,
        events: frames ? frames.count : results!.events.length,
        bytes: frames ? frames.bytes : results!.bytes,
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
  private async checkSignature(
    event: NostrEvent,
    preimage = eventIdPreimage(event),
  ): Promise<CheckResult | 'unavailable'> {
    try {
      return await this.options.verifier.check({
        id: event.id,
        pubkey: event.pubkey,
        sig: event.sig,
        serialized: preimage,
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
    const { limits } = this.options.config
    if (!conn.authBudget.take(this.options.clock.nowMs())) {
      conn.send(
        okMessage(event.id, false, `rate-limited: at most ${limits.authPerSecond} AUTH a second`),
      )
      return
    }
    if (!conn.authed.has(event.pubkey) && conn.authed.size >= limits.maxAuthKeys) {
      conn.send(
        okMessage(
          event.id,
          false,
          `restricted: this connection is already authenticated as ${limits.maxAuthKeys} keys; open another`,
        ),
      )
      return
    }
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
    for (const conn of this.connections) {
      // A paused socket would never read the client's close frame, and close() would wait.
      conn.released = true
      conn.reconsiderReading()
      conn.socket.close(1001, 'node shutting down')
    }
  }
}
