// Query: REQ, COUNT and CLOSE against the store. A request is held to the connection's and
// the address's query rates, its filters are checked (count, fields, value lists), the
// subscription count is capped, the services' onReq hooks may refuse it, and a connection's
// queries are read a few at a time. A REQ's subscription goes live (fan-out.ts) before the
// store is read, so an event committed during the read waits in its backlog and follows EOSE:
// none is lost or sent twice. Stored results go out in steps within the send-buffer bound —
// as ready frames where the socket takes them (stored-frames.ts: built by the store's reader
// thread where it can), else a string per event.
import {
  type Filter,
  HansaError,
  countMessage,
  eoseMessage,
  filterError,
  relayEventMessage,
} from '@hansa/protocol'
import type { QueryResult } from '../store/event-store.js'
import { StoreBusyError, StoreTimeoutError } from '../store/event-store.js'
import type { Connection, Subscription } from './connection.js'
import type { FanOut } from './fan-out.js'
import type { QueryOutcome, QueryRequest } from './messages.js'
import type { TokenBucket } from './rate-limiter.js'
import { type Refusal, refuse } from './refusal.js'
import type { StageContext } from './stage-context.js'
import {
  type StoredFrames,
  eventIdOf,
  frameEventStrings,
  readEventFrames,
} from './stored-frames.js'
import { compileFilter } from './subscription-index.js'

/** How long a REQ's stored results wait for a client to read before its subscription closes. */
const DRAIN_WAIT_MS = 10_000

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref()
  })

export class Query {
  constructor(
    private readonly ctx: StageContext,
    private readonly fanOut: FanOut,
    /** The REQ and COUNT budget of an address (admission keeps it). */
    private readonly ipQueryBudget: (ip: string) => TokenBucket,
  ) {}

  /** CLOSE: the subscription ends, silently. */
  close(conn: Connection, subId: string): void {
    this.fanOut.drop(conn, subId)
  }

  /** A connection closed: its queries waiting for their turn give up. */
  closed(conn: Connection): void {
    for (const wake of conn.queryWaiters.splice(0)) wake()
  }

  async request(conn: Connection, request: QueryRequest): Promise<QueryOutcome> {
    const { subId, type: verb } = request
    const { limits } = this.ctx.config
    const peer = this.ctx.isMember(conn)
    const cost = queryCost(request.filters, limits.queriesPerSecond)
    if (!peer && !conn.queryBudget.take(this.ctx.clock.nowMs(), cost)) {
      conn.throttle(1000)
      return refused(
        refuse(
          'rate-limited',
          'query-rate',
          `slow down: at most ${limits.queriesPerSecond} REQ and COUNT filters a second`,
        ),
      )
    }
    if (!peer && !this.ipQueryBudget(conn.ip).take(this.ctx.clock.nowMs(), cost)) {
      conn.throttle(1000)
      return refused(
        refuse(
          'rate-limited',
          'ip-query-rate',
          'slow down: too many REQ and COUNT from your address',
        ),
      )
    }
    const rawFilters = request.filters
    if (rawFilters.length > limits.maxFilters) {
      return refused(
        refuse('invalid', 'too-many-filters', `more than ${limits.maxFilters} filters`),
      )
    }
    for (const f of rawFilters) {
      const error = filterError(f, { maxValues: limits.maxFilterValues })
      if (error) return refused(refuse('invalid', 'bad-filter', error))
    }
    const filters = rawFilters as Filter[]
    if (
      verb === 'REQ' &&
      !conn.subscriptions.has(subId) &&
      conn.subscriptions.size >= limits.maxSubscriptions
    ) {
      return refused(
        refuse(
          'rate-limited',
          'too-many-subscriptions',
          `too many open subscriptions (at most ${limits.maxSubscriptions}); CLOSE one first`,
        ),
      )
    }
    const refusal = await this.requestRefusal(filters, conn, verb)
    if (refusal) return refused(refusal)
    // A connection's queries are read a few at a time; the rest wait their turn, in a queue
    // as long as its subscription limit.
    if (conn.queriesInFlight >= limits.maxQueriesInFlight) {
      if (conn.queryWaiters.length >= limits.maxSubscriptions) {
        return refused(
          refuse(
            'rate-limited',
            'queries-in-flight',
            `wait for your other queries: ${conn.queryWaiters.length} are waiting already`,
          ),
        )
      }
      await new Promise<void>((resolve) => conn.queryWaiters.push(resolve))
      if (conn.closed) return { type: 'ended' }
    }
    conn.queriesInFlight++
    try {
      return verb === 'COUNT'
        ? await this.count(conn, subId, filters)
        : await this.subscribe(conn, subId, filters)
    } finally {
      conn.queriesInFlight--
      conn.queryWaiters.shift()?.()
    }
  }

  /** The onReq hooks' verdict on a request (REQ, COUNT, or a NIP-77 NEG-OPEN as REQ). */
  async requestRefusal(
    filters: readonly Filter[],
    conn: Connection,
    verb: 'REQ' | 'COUNT',
  ): Promise<Refusal | undefined> {
    for (const hook of this.ctx.hooks.onReq) {
      const refusal = await hook(filters, conn, verb)
      if (refusal) return refusal
    }
    return undefined
  }

  /** What a connection may read of the private kinds: its own, or all for a member node. */
  readAccess(conn: Connection): { privateKinds: number[]; readerPubkeys: string[] } {
    if (this.ctx.isMember(conn)) return { privateKinds: [], readerPubkeys: [] }
    return { privateKinds: [...this.ctx.privateKinds], readerPubkeys: [...conn.authed] }
  }

  /** COUNT (NIP-45): the same filters, counted. */
  private async count(conn: Connection, subId: string, filters: Filter[]): Promise<QueryOutcome> {
    const { metrics, store } = this.ctx
    const access = { ...this.readAccess(conn), client: conn.ip }
    const now = this.ctx.now()
    const stop = metrics.querySeconds.startTimer()
    metrics.queries.inc({ verb: 'COUNT' })
    try {
      const count = await store.count(filters, { ...access, now })
      stop()
      conn.send(countMessage(subId, count))
      return { type: 'served', served: { verb: 'COUNT', filters, events: count, bytes: 0 } }
    } catch (err) {
      stop()
      if (!expectedFailure(err)) this.ctx.log.error({ err, subId }, 'count failed')
      return refused(queryFailure(err))
    }
  }

  /** REQ: the subscription goes live, the stored events are sent, EOSE, then its backlog. */
  private async subscribe(
    conn: Connection,
    subId: string,
    filters: Filter[],
  ): Promise<QueryOutcome> {
    const { metrics, store } = this.ctx
    const { limits } = this.ctx.config
    const access = { ...this.readAccess(conn), client: conn.ip }
    const now = this.ctx.now()
    const stop = metrics.querySeconds.startTimer()
    metrics.queries.inc({ verb: 'REQ' })
    // The subscription is live before the store is read: events committed while the read
    // runs wait in its backlog and follow EOSE, so none falls between the two.
    // A REQ with the id of an open subscription replaces it (NIP-01).
    this.fanOut.drop(conn, subId)
    const sub: Subscription = {
      id: subId,
      conn,
      filters,
      compiled: filters.map(compileFilter),
      backlog: [],
    }
    this.fanOut.add(conn, sub)
    const single = filters.length === 1 ? filters[0]! : undefined
    // A socket that takes ready frames gets the results framed in one buffer (stored-frames.ts):
    // by the store where its rows are read, for one filter, when it can (queryFrames), else
    // framed here from the events' strings. Otherwise (permessage-deflate) a message per event.
    const framed = conn.canWriteFrames()
    const stepBytes = limits.maxSendBufferBytes / 4
    let results: QueryResult | undefined
    let frames: StoredFrames | undefined
    try {
      const maxBytes = Math.floor(limits.maxResultBytes / filters.length)
      const maxEventBytes = limits.maxMessageBytes
      const options = { ...access, limit: limits.maxLimit, now, maxBytes, maxEventBytes }
      if (single !== undefined) {
        const one = {
          ...options,
          limit: Math.min(single.limit ?? limits.defaultLimit, limits.maxLimit),
        }
        if (framed && store.queryFrames !== undefined) {
          const packed = await store.queryFrames(single, { ...one, subId, stepBytes })
          frames = readEventFrames(packed, subId)
        } else results = await store.query(single, one)
      } else results = await this.queryMany(filters, options)
      if (framed && results) frames = frameEventStrings(subId, results.events, stepBytes)
      stop()
    } catch (err) {
      stop()
      if (!expectedFailure(err)) this.ctx.log.error({ err, subId }, 'query failed')
      if (this.fanOut.drop(conn, subId, sub)) return refused(queryFailure(err))
      return { type: 'ended' }
    }
    // Closed, or replaced by a newer REQ with the same id, while it was read: say nothing.
    if (conn.closed || conn.subscriptions.get(subId) !== sub) return { type: 'ended' }
    let steps: Array<() => void>
    if (frames) {
      steps = frames.steps.map((bytes) => () => conn.writeFrames(bytes))
    } else {
      const messages = results!.events.map((raw) => relayEventMessage(subId, raw))
      messages.push(eoseMessage(subId))
      steps = this.messageSteps(conn, messages)
    }
    if (!(await this.sendStored(conn, sub, steps))) return { type: 'ended' }
    // The backlog (live events that arrived meanwhile, bounded) follows EOSE, less repeats.
    const backlog = sub.backlog ?? []
    sub.backlog = null
    if (backlog.length > 0) {
      const sent = new Set(frames ? frames.ids() : results!.events.map(eventIdOf))
      const unsent = backlog.filter((live) => !sent.has(live.id))
      conn.sendMany(unsent.map((live) => live.message))
      // Live events are metered when sent, not when they queued (the subscription may close first).
      for (const live of unsent) if (live.metered) this.ctx.served(conn, live.metered)
    }
    return {
      type: 'served',
      served: {
        verb: 'REQ',
        filters,
        events: frames ? frames.count : results!.events.length,
        bytes: frames ? frames.bytes : results!.bytes,
      },
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
    const max = this.ctx.sendBufferBound(conn)
    let i = 0
    while (i < steps.length) {
      if (conn.closed || conn.subscriptions.get(sub.id) !== sub) return false
      if (conn.buffered > max / 2) {
        const deadline = Date.now() + DRAIN_WAIT_MS
        while (conn.buffered > max / 2 && !conn.closed && Date.now() < deadline) await sleep(20)
        if (conn.buffered > max / 2) {
          this.fanOut.slowReader(conn)
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
    const quarter = this.ctx.config.limits.maxSendBufferBytes / 4
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

  /** Several filters: each queried with its own limit, merged newest first, without repeats. */
  private async queryMany(
    filters: Filter[],
    options: { privateKinds: number[]; readerPubkeys: string[]; limit: number; now: number },
  ): Promise<QueryResult> {
    const { limits } = this.ctx.config
    const seen = new Set<string>()
    const rows: Array<{ createdAt: number; raw: string }> = []
    let bytes = 0
    for (const f of filters) {
      const limit = Math.min(f.limit ?? limits.defaultLimit, limits.maxLimit)
      const result = await this.ctx.store.query(f, { ...options, limit })
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
}

const refused = (refusal: Refusal): QueryOutcome => ({ type: 'refused', refusal })

/** The store closing under queries that still wait (the node stopping). */
const storeClosed = (err: unknown): boolean =>
  err instanceof HansaError && err.code === 'HANSA_STORE_CLOSED'

/** Failures the node expects under load or at shutdown: answered, not logged as errors. */
const expectedFailure = (err: unknown): boolean =>
  err instanceof StoreBusyError || err instanceof StoreTimeoutError || storeClosed(err)

/** Why a query failed, for the client. */
function queryFailure(err: unknown): Refusal {
  if (storeClosed(err)) {
    return refuse('error', 'shutting-down', 'the node is shutting down; try again shortly')
  }
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

/**
 * What a REQ or COUNT costs in query tokens: one per filter, and one more per started hundred
 * values in its filters' lists (ids, authors, kinds, #x), as an event costs one per started
 * 2 KiB. Each filter is its own scan (a COUNT with ten broad filters counts ten times, with no
 * limit to stop it), and a filter with a thousand tag values keeps a reader thread about a
 * thousand times as long as one with a single value. At most a second's worth (`perSecond`),
 * so every query can pass.
 */
export function queryCost(filters: readonly unknown[], perSecond: number): number {
  let values = 0
  for (const f of filters) {
    if (typeof f !== 'object' || f === null) continue
    for (const v of Object.values(f)) if (Array.isArray(v)) values += v.length
  }
  const cost = filters.length + Math.floor(values / 100)
  return Math.max(1, Math.min(cost, Math.floor(perSecond)))
}
