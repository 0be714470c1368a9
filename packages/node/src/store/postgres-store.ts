// The event store on PostgreSQL, for coordinators who run several node processes on one
// database. Same interface and rules as the SQLite store: a batch is one transaction (one
// call of `hansa_write_batch`, see postgres-schema.ts), answered only once committed; reads
// are one query per filter (postgres-query.ts). Every process LISTENs for the events the
// others accept (postgres-live.ts), so a subscriber sees them wherever they were published.
import { createHash, randomBytes } from 'node:crypto'
import {
  type Filter,
  type NostrEvent,
  dTagOf,
  expirationOf,
  HansaError,
  kindClass,
} from '@hansa/protocol'
// pg is loaded only when a PostgreSQL store opens: a SQLite node never pays for it.
import type pg from 'pg'
import type {
  EventStore,
  QueryOptions,
  QueryResult,
  ReadAccess,
  StoredEventInput,
  SyncItems,
  SyncItemsOptions,
  WriteOutcome,
} from './event-store.js'
import { utf8Bytes } from './event-store.js'
import { FIXED_PLAN_SESSION, countQuery, filterQuery, syncQuery } from './postgres-query.js'
import { PipelinedReads } from './pipelined-reads.js'
import { type LiveListener, PostgresLive } from './postgres-live.js'
import { LIVE_CHANNEL, NOTIFY_PAYLOAD_LIMIT, migrateDatabase } from './postgres-schema.js'

export type PostgresStoreOptions = {
  url: string
  /** The most connections in each pool (main: writes and the rest of the state; reads). */
  poolSize?: number
  /**
   * A read replica for REQ and COUNT (optional). Writes, deletions and the live feed stay on
   * `url`; a replica that lags answers without the newest events, which live subscribers
   * still receive through the feed.
   */
  readUrl?: string
  /** A statement running longer is cancelled by the server; 0 means no limit. */
  statementTimeoutMs?: number
  /** Receive the events other processes accept (LISTEN). Off for one-shot tools. */
  live?: boolean
  /** The first delay before the LISTEN connection is reopened after a break (100 ms). */
  liveReconnectDelayMs?: number
  /** Observes each query's duration, for metrics. */
  onQuery?: (op: 'write' | 'query' | 'count' | 'other', seconds: number) => void
}

/** Error codes after which a batch is retried: deadlock, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001'])
const MAX_ATTEMPTS = 5
/** Tags longer than this are not indexed (as in the SQLite store). */
const MAX_TAG_VALUE = 1024

/**
 * PostgreSQL text cannot hold U+0000, which a hostile event may put in a tag: a d tag is
 * stored escaped (one rule for writes and NIP-09 addresses), and tag values holding it are not
 * indexed (no filter can ask for them either: postgres-query.ts drops such values). Without
 * this, one such event would fail its whole batch.
 */
const NUL = '\u0000'
const escapeD = (d: string): string =>
  d.includes(NUL) || d.includes('\\') ? d.replaceAll('\\', '\\\\').replaceAll(NUL, '\\0') : d

/** A 64-bit advisory lock key for a string (an event id or an address). */
const lockKey = (text: string): string =>
  BigInt.asIntN(
    64,
    BigInt(`0x${createHash('sha256').update(text).digest('hex').slice(0, 16)}`),
  ).toString()

/**
 * How many pipelined connections carry the reads marked `fixedPlan`. One process's event loop
 * answers some thousands of REQs a second, and one backend serves about as many of these
 * reads: the second connection takes the turns that come while the first is busy.
 */
const FIXED_PLAN_CONNECTIONS = 2

/**
 * The connections for reads marked `fixedPlan` (postgres-query.ts), pipelined
 * (pipelined-reads.ts): on the replica when there is one, each set as FIXED_PLAN_SESSION says
 * before its first read. SET, not startup options, so PgBouncer in session mode passes it on.
 * Should the SET fail, that connection's reads are planned per execution, as on the pools:
 * slower, still right. Reads that find both connections stalled go to the read pool.
 */
async function fixedPlanReads(
  options: PostgresStoreOptions,
  readPool: pg.Pool,
): Promise<PipelinedReads> {
  const { default: pgModule } = await import('pg')
  return new PipelinedReads(pgModule, {
    // While both connections are held up by slow reads, the others are planned per execution.
    fallback: (config) => readPool.query(config),
    connectionString: options.readUrl ?? options.url,
    size: Math.min(FIXED_PLAN_CONNECTIONS, options.poolSize ?? FIXED_PLAN_CONNECTIONS),
    applicationName: 'hansa-read-fixed',
    setup: FIXED_PLAN_SESSION,
    ...(options.statementTimeoutMs ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
  })
}

/** A read pool, on the replica when there is one: same size and timeout as the main pool. */
async function openReadPool(options: PostgresStoreOptions, name: string): Promise<pg.Pool> {
  const { default: pgModule } = await import('pg')
  const pool = new pgModule.Pool({
    connectionString: options.readUrl ?? options.url,
    max: options.poolSize ?? 10,
    application_name: name,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  })
  pool.on('error', () => {})
  return pool
}

/** Opens the pool and applies migrations; throws HANSA_STORAGE_* errors a coordinator can act on. */
export async function openPool(
  options: Pick<PostgresStoreOptions, 'url' | 'poolSize' | 'statementTimeoutMs'>,
): Promise<pg.Pool> {
  const { default: pgModule } = await import('pg')
  const pool = new pgModule.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: 'hansa',
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  })
  // An idle connection that breaks must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  try {
    await migrateDatabase(pool)
  } catch (error) {
    await pool.end()
    if (error instanceof HansaError) throw error
    throw new HansaError(
      'HANSA_STORAGE_UNREACHABLE',
      'could not open the PostgreSQL database named by storage.url',
      { cause: error, details: error instanceof Error ? error.message : String(error) },
    )
  }
  return pool
}

export class PostgresStore implements EventStore {
  /** This process, as named in NOTIFY payloads, so it skips its own events. */
  readonly origin = randomBytes(6).toString('hex')
  private live: PostgresLive | undefined
  private closed = false
  private onQuery: PostgresStoreOptions['onQuery']
  /** Events stored since this process last refreshed the planner's statistics (`analyzeSoon`). */
  private storedSinceAnalyze = 0
  private rowsAtAnalyze = 0
  private analyzing: Promise<void> | undefined

  /** The pool REQ and COUNT read from: the replica's when `readUrl` is set, else `pool`. */
  readonly readPool: pg.Pool

  private constructor(
    readonly pool: pg.Pool,
    options: PostgresStoreOptions,
    readPool: pg.Pool | undefined,
    /** Where REQs marked `fixedPlan` read (postgres-query.ts): plans kept, pipelined. */
    readonly fixedPlanReads: PipelinedReads,
  ) {
    this.onQuery = options.onQuery
    this.readPool = readPool ?? pool
  }

  /** Observes each statement's duration from now on (the node's metrics). */
  observeQueries(observer: NonNullable<PostgresStoreOptions['onQuery']>): void {
    this.onQuery = observer
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = await openPool(options)
    const readPool = options.readUrl ? await openReadPool(options, 'hansa-read') : undefined
    const store = new PostgresStore(
      pool,
      options,
      readPool,
      await fixedPlanReads(options, readPool ?? pool),
    )
    if (options.live !== false) {
      store.live = await PostgresLive.start({
        url: options.url,
        origin: store.origin,
        fetchStored: async (seq) => store.rawBySeq(seq),
        fetchOverflow: async (seq) => store.overflowBySeq(seq),
        fetchMaxSeq: async () => {
          const r = await pool.query<{ s: string | null }>('SELECT max(seq) AS s FROM events')
          return BigInt(r.rows[0]?.s ?? 0)
        },
        fetchSince: async (after, limit) => {
          const r = await pool.query<{ seq: string; raw: string }>(
            'SELECT seq, raw FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
            [after.toString(), limit],
          )
          return r.rows.map((row) => ({ seq: BigInt(row.seq), raw: row.raw }))
        },
        ...(options.liveReconnectDelayMs ? { reconnectDelayMs: options.liveReconnectDelayMs } : {}),
      })
    }
    return store
  }

  private async timed<T>(op: 'write' | 'query' | 'count' | 'other', run: () => Promise<T>) {
    const start = process.hrtime.bigint()
    try {
      return await run()
    } finally {
      this.onQuery?.(op, Number(process.hrtime.bigint() - start) / 1e9)
    }
  }

  async writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]> {
    if (batch.length === 0) return []
    const values = batchParameters(batch, this.origin)
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.timed('write', () =>
          this.pool.query<{ o: string[] }>({
            name: 'hansa_write_batch',
            text: `SELECT hansa_write_batch(${values.map((_, i) => `$${i + 1}`).join(', ')}) AS o`,
            values,
          }),
        )
        const outcomes = result.rows[0]!.o.map((status) => ({ status }) as WriteOutcome)
        // never replayed to this process after a break of its LISTEN connection
        const stored = batch.filter((_, i) => outcomes[i]?.status === 'stored')
        this.live?.noteOwn(stored.map((b) => b.event.id))
        this.analyzeSoon(stored.length)
        return outcomes
      } catch (error) {
        const code = (error as { code?: string }).code
        if (attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw error
      }
    }
  }

  /**
   * Refreshes the planner's statistics of events and tags, and the visibility map, each time
   * this process has stored as many events again as it had at the last refresh (at least
   * 1,000: 1k, 2k, 4k, …). Autovacuum does it too, but only on its next round, a minute later:
   * until then a store filled by a burst is planned as if empty (an inbox read, #p with the
   * reader's keys, took 60 ms instead of 2 on 20,000 events), and a read led by a tag visits
   * the tags table for rows its index holds (migration 0006). One at a time, off the write
   * path; a failure is left to autovacuum.
   */
  private analyzeSoon(stored: number): void {
    this.storedSinceAnalyze += stored
    const due = Math.max(1000, this.rowsAtAnalyze)
    if (this.analyzing || this.closed || this.storedSinceAnalyze < due) return
    const rows = this.rowsAtAnalyze + this.storedSinceAnalyze
    this.storedSinceAnalyze = 0
    this.analyzing = this.pool
      .query('VACUUM (ANALYZE) events, tags')
      .then(() => {
        this.rowsAtAnalyze = rows
      })
      .catch(() => {})
      .finally(() => {
        this.analyzing = undefined
      })
  }

  /**
   * One filter's events. There is no queryFrames here: node-postgres decodes every field to a
   * string, and the relay frames those strings directly (stored-frames.ts), which costs less
   * than packing them into bytes first. Joining the rows into one field in SQL (string_agg,
   * with a running byte sum for the bound) cost PostgreSQL more than it saved here: 1.6–2.3×
   * its CPU per query.
   */
  async query(filter: Filter, options: QueryOptions): Promise<QueryResult> {
    if (filter.search !== undefined) return { events: [], bytes: 0 } // NIP-50 is not offered.
    const limit = Math.min(filter.limit ?? options.limit, options.limit)
    if (limit <= 0) return { events: [], bytes: 0 }
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    let fetch = limit
    // Unbounded and led by several values of a tag, an event tagged with two of them comes
    // back twice: read more until `limit` distinct events are found or the rows run out (fetch
    // doubles). Bounded, the server sends each event once, and stops at its byte bound where
    // that can matter (postgres-query.ts).
    for (;;) {
      const q = filterQuery(filter, options, options.now, fetch, options)
      const config = { ...q, rowMode: 'array' as const }
      const result = await this.timed('query', () =>
        q.fixedPlan
          ? this.fixedPlanReads.query<string[]>(config)
          : this.readPool.query<string[]>(config),
      )
      const rows = result.rows
      const events: string[] = []
      // The bound is counted as the SQLite reader counts it (UTF-16 units, close enough to
      // bytes), so both stores stop at the same event.
      let read = 0
      const seen = q.repeats ? new Set<string>() : undefined
      for (const row of rows) {
        const raw = row[0]!
        if (seen) {
          const seq = row[1]!
          if (seen.has(seq)) continue
          seen.add(seq)
        }
        if (events.length === limit || read >= maxBytes) break
        events.push(raw)
        read += raw.length
      }
      if (events.length === limit || read >= maxBytes || rows.length < fetch) {
        return { events, bytes: utf8Bytes(events) }
      }
      fetch *= 2
    }
  }

  async count(filters: readonly Filter[], options: ReadAccess & { now: number }): Promise<number> {
    if (filters.length === 0) return 0
    const q = countQuery(filters, options, options.now)
    const result = await this.timed('count', () => this.readPool.query<{ n: string }>(q))
    return Number(result.rows[0]!.n)
  }

  /** NIP-77: (created_at, id) of every match under the same access rules; null past `max`. */
  async syncItems(filter: Filter, options: SyncItemsOptions): Promise<SyncItems | null> {
    if (filter.search !== undefined) return []
    const q = syncQuery(filter, options, options.now, options.max)
    const result = await this.timed('query', () =>
      this.readPool.query<[number, string]>({ ...q, rowMode: 'array' }),
    )
    return result.rows.length > options.max ? null : (result.rows as SyncItems)
  }

  async pruneExpired(now: number): Promise<number> {
    const result = await this.timed('other', () =>
      this.pool.query('DELETE FROM events WHERE expiration IS NOT NULL AND expiration <= $1', [
        now,
      ]),
    )
    // Large ephemeral events left for the other processes are read within moments.
    await this.pool.query('DELETE FROM live_overflow WHERE at < $1', [now - 300])
    return result.rowCount ?? 0
  }

  async pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): Promise<number> {
    if (kinds.length === 0) return 0
    const result = await this.timed('other', () =>
      this.pool.query('DELETE FROM events WHERE kind = ANY($1::integer[]) AND received_at < $2', [
        [...kinds],
        receivedBefore,
      ]),
    )
    return result.rowCount ?? 0
  }

  async storedBytes(): Promise<number> {
    const result = await this.pool.query<{ n: string | null }>(
      `SELECT sum(pg_total_relation_size(c))::bigint AS n
       FROM unnest(ARRAY['events', 'tags', 'deleted_ids', 'deleted_addresses']::regclass[]) AS c`,
    )
    return Number(result.rows[0]!.n ?? 0)
  }

  /** Exact while the table is small; the planner's estimate past 100,000 rows (count(*) scans). */
  async eventCount(): Promise<number> {
    const estimate = await this.pool.query<{ n: number }>(
      "SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'events'::regclass",
    )
    const n = estimate.rows[0]?.n ?? -1
    if (n >= 100_000) return Math.round(n)
    const exact = await this.pool.query<{ n: string }>('SELECT count(*)::bigint AS n FROM events')
    return Number(exact.rows[0]!.n)
  }

  /** Tells the other processes about an accepted ephemeral event (it is never stored). */
  async shareEphemeral(raw: string): Promise<void> {
    if (Buffer.byteLength(raw) <= NOTIFY_PAYLOAD_LIMIT) {
      await this.pool.query('SELECT pg_notify($1, $2)', [LIVE_CHANNEL, `${this.origin} ${raw}`])
      return
    }
    await this.pool.query(
      `WITH o AS (INSERT INTO live_overflow (raw, at) VALUES ($1, $2) RETURNING seq)
       SELECT pg_notify($3, $4 || ' ~' || o.seq) FROM o`,
      [raw, Math.floor(Date.now() / 1000), LIVE_CHANNEL, this.origin],
    )
  }

  /** Calls `listener` with every event another process of this node accepted. */
  onRemoteEvent(listener: LiveListener): void {
    this.live?.addListener(listener)
  }

  /** The live feed's state (health, metrics). */
  liveStatus() {
    return this.live?.status() ?? null
  }

  private async rawBySeq(seq: string): Promise<string | undefined> {
    const r = await this.pool.query<{ raw: string }>('SELECT raw FROM events WHERE seq = $1', [seq])
    return r.rows[0]?.raw
  }

  private async overflowBySeq(seq: string): Promise<string | undefined> {
    const r = await this.pool.query<{ raw: string }>(
      'SELECT raw FROM live_overflow WHERE seq = $1',
      [seq],
    )
    return r.rows[0]?.raw
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.analyzing
    await this.live?.stop()
    if (this.readPool !== this.pool) await this.readPool.end()
    await this.fixedPlanReads.end()
    await this.pool.end()
  }
}

/** The arguments of `hansa_write_batch` for a batch (see postgres-schema.ts). */
function batchParameters(batch: readonly StoredEventInput[], origin: string): unknown[] {
  const locks: string[] = []
  const ids: Buffer[] = []
  const pubkeys: Buffer[] = []
  const created: number[] = []
  const kinds: number[] = []
  const classes: number[] = []
  const dTags: Array<string | null> = []
  const expirations: Array<number | null> = []
  const received: number[] = []
  const raws: string[] = []
  const tagStart: number[] = []
  const tagCount: number[] = []
  const tagNames: string[] = []
  const tagValues: string[] = []
  const delStart: number[] = []
  const delCount: number[] = []
  const delIds: Array<Buffer | null> = []
  const delKinds: Array<number | null> = []
  const delDs: Array<string | null> = []
  const simple: boolean[] = []
  const seenIds = new Set<string>()
  for (const { event, raw, receivedAt } of batch) {
    const cls = kindClass(event.kind)
    // Regular events, not deletions, each id once: stored set-based (see hansa_write_batch).
    simple.push(cls === 'regular' && event.kind !== 5 && !seenIds.has(event.id))
    seenIds.add(event.id)
    const dTag = cls === 'addressable' ? dTagOf(event) : null
    locks.push(lockKey(event.id))
    if (cls === 'replaceable' || cls === 'addressable') {
      locks.push(lockKey(`${event.kind}:${event.pubkey}:${dTag ?? ''}`))
    }
    ids.push(Buffer.from(event.id, 'hex'))
    pubkeys.push(Buffer.from(event.pubkey, 'hex'))
    created.push(event.created_at)
    kinds.push(event.kind)
    classes.push(cls === 'replaceable' ? 1 : cls === 'addressable' ? 2 : 0)
    dTags.push(dTag === null ? null : escapeD(dTag))
    expirations.push(expirationOf(event) ?? null)
    received.push(receivedAt)
    raws.push(raw)
    tagStart.push(tagNames.length + 1)
    const seen = new Set<string>()
    for (const tag of event.tags) {
      const name = tag[0]!
      const value = tag[1]
      if (name.length !== 1 || value === undefined || value.length > MAX_TAG_VALUE) continue
      if (value.includes(NUL) || name === NUL) continue
      const key = `${name}\u0000${value}`
      if (seen.has(key)) continue // one row per distinct tag: queries led by a tag read it once
      seen.add(key)
      tagNames.push(name)
      tagValues.push(value)
    }
    tagCount.push(tagNames.length + 1 - tagStart[tagStart.length - 1]!)
    delStart.push(delIds.length + 1)
    if (event.kind === 5) deletionTargets(event, locks, delIds, delKinds, delDs)
    delCount.push(delIds.length + 1 - delStart[delStart.length - 1]!)
  }
  return [
    locks,
    ids,
    pubkeys,
    created,
    kinds,
    classes,
    dTags,
    expirations,
    received,
    raws,
    tagStart,
    tagCount,
    tagNames,
    tagValues,
    delStart,
    delCount,
    delIds,
    delKinds,
    delDs,
    simple,
    origin,
  ]
}

/** NIP-09 targets of a kind-5 event: `e` ids, and `a` addresses of the author's own events. */
function deletionTargets(
  event: NostrEvent,
  locks: string[],
  ids: Array<Buffer | null>,
  kinds: Array<number | null>,
  ds: Array<string | null>,
): void {
  for (const tag of event.tags) {
    if (tag[0] === 'e' && tag[1] && /^[0-9a-f]{64}$/.test(tag[1])) {
      locks.push(lockKey(tag[1]))
      ids.push(Buffer.from(tag[1], 'hex'))
      kinds.push(null)
      ds.push(null)
    } else if (tag[0] === 'a' && tag[1]) {
      const [kindText, author, ...rest] = tag[1].split(':')
      const kind = Number(kindText)
      if (author !== event.pubkey || !Number.isInteger(kind)) continue
      const d = rest.join(':')
      locks.push(lockKey(`${kind}:${event.pubkey}:${d}`))
      ids.push(null)
      kinds.push(kind)
      ds.push(escapeD(d))
    }
  }
}
