// Everything that reads the SQLite store: one SQL query per NIP-01 filter, newest first
// (NIP-01: on equal created_at, the lowest id first).
// A SqliteReader runs on the relay's thread (small setups, tests) or on reader threads
// (sqlite-reader-thread.ts), each with its own connection: WAL lets them all read while
// the writer commits.
import type Database from 'better-sqlite3'
// The events entry: this module runs in the store's reader threads, which load no more.
import { type Filter, kindClass, tagConditions } from '@hansa/protocol/events'
import { type EventFrames, packEventFrames } from '../relay/stored-frames.js'
import {
  type FramesOptions,
  type QueryOptions,
  type ReadAccess,
  type SyncItems,
  type SyncItemsOptions,
  privateKindsToCheck,
} from './event-store.js'
import { createdAtOf, idOf } from './raw-event-fields.js'
import { REPLACEABLE_KINDS } from './sqlite-schema.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

/** A WHERE clause, its parameters, and the events index the read must use, if any. */
type SqlPart = { sql: string; params: unknown[]; index?: string }

export type CountOptions = ReadAccess & { now: number }

/**
 * A read's LIMIT, bound as `+?`. SQLite plans a bound `LIMIT ?` with the value bound at the
 * time, so every new binding expires the statement and the next run parses and plans it again:
 * in the relay bench that was once per query, 15-20 µs of a reader's time each (counted with
 * a uprobe on sqlite3Reprepare: one per query before, one in all after). With `+?` the value is
 * read at run time only; the plans are the same (sqlite-statements.test.ts compares them).
 */
const LIMIT = 'LIMIT +?'

/** A kind of which a store keeps one event per author (and d tag): NIP-01's replaceable and addressable. */
const storedOnce = (kind: number): boolean => {
  const c = kindClass(kind)
  return c === 'replaceable' || c === 'addressable'
}

export class SqliteReader {
  private readonly statements = new Map<string, Database.Statement>()
  private largest = Number.POSITIVE_INFINITY
  private largestReadAt = Number.NEGATIVE_INFINITY

  constructor(private readonly db: Database.Database) {}

  /** Prepared statements by SQL text: filters repeat their shapes, preparing costs more than running. */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear()
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /**
   * The WHERE clause of a filter. With `driveByTag`, the first tag condition is left out:
   * the caller joins the tags table on it, so its index (name, value, created_at) leads.
   */
  private whereClause(
    filter: Filter,
    access: ReadAccess,
    now: number,
    driveByTag = false,
  ): SqlPart {
    const where: string[] = ['(e.expiration IS NULL OR e.expiration > ?)']
    const params: unknown[] = [now]
    // Kinds kept once per author (a profile, a follow list, an article), asked of given
    // authors, are read from events_replaceable, (pubkey, kind, d_tag): one seek per author and
    // kind. SQLite uses a partial index only where the query names its WHERE word for word,
    // and chose the kind's index over it (no sort needed) — so it is named, and required.
    // The named WHERE comes before `kind = ?`: SQLite stops at the first term that implies it,
    // and comparing `kind = ?` to the index's `kind = 0` would tie the plan to the value bound.
    // (An empty list matches nothing, and SQLite then finds no way to use the index at all.)
    const storedOnceRead =
      !!filter.authors?.length && !!filter.kinds?.length && filter.kinds.every(storedOnce)
    if (storedOnceRead) where.push(REPLACEABLE_KINDS)
    const inList = (column: string, values: readonly unknown[]) => {
      where.push(`${column} IN (${values.map(() => '?').join(',')})`)
      params.push(...values)
    }
    if (filter.ids) inList('e.id', filter.ids.map(hex))
    if (filter.authors) inList('e.pubkey', filter.authors.map(hex))
    // With authors, their index leads: SQLite, which has no statistics here, took the kind's
    // index for `authors` + `kinds` and walked every event of that kind, newest first, until it
    // found the author's — a REQ for the notes of someone who wrote none lately read all of
    // the relay's notes. `+` keeps the kind index out of it; the walk is then the author's own
    // events at most.
    if (filter.kinds) {
      inList(filter.authors && !storedOnceRead ? '+e.kind' : 'e.kind', filter.kinds)
    }
    if (filter.since !== undefined) {
      where.push('e.created_at >= ?')
      params.push(filter.since)
    }
    if (filter.until !== undefined) {
      where.push('e.created_at <= ?')
      params.push(filter.until)
    }
    for (const [letter, values] of tagConditions(filter).slice(driveByTag ? 1 : 0)) {
      where.push(
        `EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = ? AND t.value IN (${values.map(() => '?').join(',')}))`,
      )
      params.push(letter, ...values)
    }
    const privateKinds = privateKindsToCheck(filter, access)
    if (privateKinds.length > 0) {
      const kinds = privateKinds.map(() => '?').join(',')
      if (access.readerPubkeys.length === 0) {
        where.push(`e.kind NOT IN (${kinds})`)
        params.push(...privateKinds)
      } else {
        const readers = access.readerPubkeys.map(() => '?').join(',')
        where.push(
          `(e.kind NOT IN (${kinds}) OR EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = 'p' AND t.value IN (${readers})))`,
        )
        params.push(...privateKinds, ...access.readerPubkeys)
      }
    }
    return {
      sql: where.join(' AND '),
      params,
      ...(storedOnceRead ? { index: 'events_replaceable' } : {}),
    }
  }

  query(filter: Filter, options: QueryOptions): string[] {
    if (filter.search !== undefined) return [] // NIP-50 search is not offered.
    const limit = Math.min(filter.limit ?? options.limit, options.limit)
    if (limit === 0) return []
    // The read stops at maxBytes (counted in UTF-16 units, close enough to bytes for a bound).
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    const tag = tagConditions(filter)[0]
    if (tag && !filter.ids && !filter.authors && tag[1].length > 1) {
      // Several values: SQLite cannot merge their runs of the tag index in order, so it would
      // sort every matching tag row carrying its event's JSON (an event with a thousand
      // matching tags, a thousand times: a hostile REQ held a reader for most of a second).
      // The distinct events are sorted first, by (created_at, id) without their JSON; then the
      // JSON of the first `limit` is read, one by one up to maxBytes.
      const where = this.whereClause(filter, options, options.now, true)
      const sql = `SELECT e.seq FROM (SELECT DISTINCT t.seq AS seq FROM tags t
          WHERE t.name = ? AND t.value IN (${tag[1].map(() => '?').join(',')})) m
        CROSS JOIN events e ON e.seq = m.seq
        WHERE ${where.sql} ORDER BY e.created_at DESC, e.id ASC ${LIMIT}`
      const seqs = this.prepared(sql)
        .pluck()
        .all(tag[0], ...tag[1], ...where.params, limit) as number[]
      const raw = this.prepared('SELECT raw FROM events WHERE seq = ?').pluck()
      const out: string[] = []
      let bytes = 0
      for (const seq of seqs) {
        if (bytes >= maxBytes) break
        const event = raw.get(seq) as string | undefined
        if (event === undefined) continue // removed since (another connection's write)
        out.push(event)
        bytes += event.length
      }
      return out
    }
    if (tag && !filter.ids && !filter.authors) {
      // One value (an inbox: #p and her key): lead with the tag index, whose run for it is
      // already in created_at order. Ties are ordered here (inNip01Order), not by SQLite, which
      // would sort every row with its JSON to order a few ties (a fifth of such a query).
      const where = this.whereClause(filter, options, options.now, true)
      const sql = `SELECT e.raw FROM tags t JOIN events e ON e.seq = t.seq
        WHERE t.name = ? AND t.value = ? AND ${where.sql}
        ORDER BY t.created_at DESC ${LIMIT}`
      const sameSecond = `SELECT e.raw FROM events e WHERE e.created_at = ? AND ${where.sql}
        AND e.seq IN (SELECT t.seq FROM tags t WHERE t.name = ? AND t.value = ? AND t.created_at = ?)
        ORDER BY e.id ${LIMIT}`
      const group = (createdAt: number, n: number) =>
        this.read(
          sameSecond,
          [createdAt, ...where.params, tag[0], tag[1][0], createdAt, n],
          n,
          maxBytes,
        )
      // An event tagged twice with the value comes back twice: the rows are read again with a
      // larger limit when repeats left the answer short (bounded: until the rows run out).
      for (let fetch = limit + 1; ; fetch *= 2) {
        const rows = this.read(sql, [tag[0], tag[1][0], ...where.params, fetch], fetch, maxBytes)
        const answer = inNip01Order(rows, fetch, limit, maxBytes, group)
        if (answer !== 'short') return answer
      }
    }
    const where = this.whereClause(filter, options, options.now)
    const from = where.index ? `events e INDEXED BY ${where.index}` : 'events e'
    const sql = `SELECT e.raw FROM ${from} WHERE ${where.sql} ORDER BY e.created_at DESC, e.id ASC ${LIMIT}`
    const out: string[] = []
    let bytes = 0
    for (const raw of this.read(sql, [...where.params, limit], limit, maxBytes)) {
      out.push(raw)
      bytes += raw.length
      if (bytes >= maxBytes) break
    }
    return out
  }

  /**
   * A query's rows: all in one step when even `rows` of the largest event stored fit in
   * `maxBytes` (the common case: a step per row cost a tenth more); else one at a time, so
   * the caller stops at maxBytes and no read holds more than that.
   */
  private read(sql: string, params: unknown[], rows: number, maxBytes: number): Iterable<string> {
    const statement = this.prepared(sql).pluck()
    if (rows * this.largestEventBytes() <= maxBytes) return statement.all(...params) as string[]
    return statement.iterate(...params) as IterableIterator<string>
  }

  /**
   * largest_event (sqlite-schema.ts), read again at most every quarter second: asking SQLite
   * on every query cost as much as a short query's filter. A larger event stored meanwhile
   * can let one read hold more than maxBytes for that long, never an unbounded amount.
   */
  private largestEventBytes(): number {
    const now = Date.now()
    if (now - this.largestReadAt > 250) {
      const bytes = this.prepared('SELECT bytes FROM largest_event').pluck().get() as
        | number
        | undefined
      this.largest = bytes ?? Number.POSITIVE_INFINITY
      this.largestReadAt = now
    }
    return this.largest
  }

  /**
   * The same events as `query` (the same rows, the same byte bound), framed for the relay's
   * socket (stored-frames.ts). On a reader thread this spares the event loop a copy of every
   * answer: it only writes the buffer out.
   */
  queryFrames(filter: Filter, options: FramesOptions): EventFrames {
    return packEventFrames(options.subId, this.query(filter, options), options.stepBytes)
  }

  /** NIP-45: the distinct events matching any of the filters, each counted once. */
  count(filters: readonly Filter[], options: ReadAccess & { now: number }): number {
    const parts = filters
      .filter((f) => f.search === undefined)
      .map((f) => this.whereClause(f, options, options.now))
    if (parts.length === 0) return 0
    const sql = `SELECT count(*) FROM events e WHERE ${parts.map((p) => `(${p.sql})`).join(' OR ')}`
    return this.prepared(sql)
      .pluck()
      .get(...parts.flatMap((p) => p.params)) as number
  }

  /**
   * (created_at, id) of every match, for negentropy; null past `max` (one row more is read).
   * In negentropy's order (the id blob sorts as its hex does), sorted here in this reader's
   * thread so the node's main thread need not sort them again.
   */
  syncItems(filter: Filter, options: SyncItemsOptions): SyncItems | null {
    if (filter.search !== undefined) return []
    const where = this.whereClause(filter, options, options.now)
    const rows = this.prepared(
      `SELECT e.created_at, lower(hex(e.id)) FROM events e WHERE ${where.sql} ORDER BY e.created_at, e.id ${LIMIT}`,
    )
      .raw()
      .all(...where.params, options.max + 1) as SyncItems
    return rows.length > options.max ? null : rows
  }
}

/**
 * Lowest id first. Stored JSON starts with the id (`{"id":"…"`), so where both do, comparing
 * the texts compares the ids, without cutting them out.
 */
function byId(a: string, b: string): number {
  if (a.startsWith('{"id":"') && b.startsWith('{"id":"')) return a < b ? -1 : a > b ? 1 : 0
  const x = idOf(a)
  const y = idOf(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * NIP-01's order (newest first; on equal created_at the lowest id first) from rows that SQL
 * sorted by created_at alone. Each run of rows with one created_at is ordered by id here and
 * stripped of repeats (one event's rows are the same text, side by side once sorted). A run
 * too long for the room left, or past the byte bound, is never held: `group` reads that
 * created_at again, lowest ids first, and its rows here are skipped. The rows were read with
 * a limit of `fetched`; when they fill it, the last run may go on past them, so it too comes
 * from `group`. 'short': the rows filled `fetched` and repeats left fewer than `limit`
 * events, so the caller reads again with a larger limit.
 */
function inNip01Order(
  rows: Iterable<string>,
  fetched: number,
  limit: number,
  maxBytes: number,
  group: (createdAt: number, n: number) => Iterable<string>,
): string[] | 'short' {
  const out: string[] = []
  let bytes = 0
  const full = () => out.length === limit || bytes >= maxBytes
  const take = (events: Iterable<string>) => {
    let last: string | undefined
    for (const raw of events) {
      if (full()) return
      if (raw === last) continue
      last = raw
      out.push(raw)
      bytes += raw.length
    }
  }
  let run: string[] = []
  let runAt = Number.NaN
  let runBytes = 0
  let skipping = Number.NaN
  let read = 0
  for (const raw of rows) {
    read++
    const at = createdAtOf(raw)
    if (at === skipping) continue
    if (at !== runAt) {
      take(run.length > 1 ? run.sort(byId) : run)
      if (full()) return out
      run = []
      runAt = at
      runBytes = 0
    }
    run.push(raw)
    runBytes += raw.length
    if (run.length > limit - out.length || bytes + runBytes >= maxBytes) {
      take(group(runAt, limit - out.length))
      if (full()) return out
      run = []
      runBytes = 0
      skipping = runAt
      runAt = Number.NaN
    }
  }
  if (read < fetched) {
    take(run.length > 1 ? run.sort(byId) : run)
    return out
  }
  if (run.length > 0) take(group(runAt, limit - out.length))
  return full() ? out : 'short'
}
