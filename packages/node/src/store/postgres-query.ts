// NIP-01 filters as PostgreSQL queries: one query per filter, newest first, ties broken by
// the lowest id (NIP-01), the private-kind rule inside the WHERE clause, as the SQLite
// reader does (sqlite-reader.ts). List conditions bind one array parameter (`= ANY($n)`),
// or one value (`= $n`) when the list holds one, so a filter's SQL text depends only on its
// shape and prepares once per connection.
//
// Planning a read anew at each execution was half of PostgreSQL's time for it. A REQ whose
// only list is one author, one kind or one tag value is marked `fixedPlan`: whatever the
// value, the walk down that value's index, newest first, stopping at the limit, is the plan
// for it, so postgres-store.ts runs it on sessions that plan each statement once and keep the
// plan (FIXED_PLAN_SESSION). Those sessions also refuse full sorts and bitmap scans: a plan
// made without the value's statistics must never read all of a prolific author's events to
// sort them (a kept plan did exactly that before they were refused). Other shapes are
// planned for their values: a rare kind among common ones needs another index than the
// common ones alone, and one id is best found by its own index and a sort of one row.
import { createHash } from 'node:crypto'
import { type Filter, tagConditions } from '@hansa/protocol'
import { type ReadAccess, privateKindsToCheck } from './event-store.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

export type PgQuery = { name: string; text: string; values: unknown[] }

/**
 * The settings of the sessions that run `fixedPlan` reads, set as each connection opens: plan
 * once and keep it, and never a full sort or a bitmap scan, so the kept plan is the ordered
 * walk down the one value's index. One statement, so they apply together or not at all.
 */
export const FIXED_PLAN_SESSION =
  'SET plan_cache_mode = force_generic_plan; SET enable_sort = off; SET enable_bitmapscan = off'

/** Names already computed: a filter's shape repeats, and hashing its text each time showed. */
const names = new Map<string, string>()
const MAX_NAMES = 10_000

/** A prepared statement's name: the same SQL text gets the same name on every connection. */
function statementName(text: string): string {
  let name = names.get(text)
  if (name === undefined) {
    name = `h${createHash('sha1').update(text).digest('hex').slice(0, 20)}`
    if (names.size >= MAX_NAMES) names.clear()
    names.set(text, name)
  }
  return name
}

const query = (text: string, values: unknown[]): PgQuery => ({
  name: statementName(text),
  text,
  values,
})

/** Tag values as the store can hold them: one holding U+0000 is never stored, so never matches. */
const storable = (values: readonly string[]): string[] =>
  values.filter((v) => !v.includes('\u0000'))

class Params {
  readonly values: unknown[] = []
  /** The lists bound so far (tags' included), and whether each held exactly one value. */
  lists = 0
  singleValued = true
  add(value: unknown): string {
    this.values.push(value)
    return `$${this.values.length}`
  }
  /** `column = $n` for a list of one value, else `column = ANY($n::type[])`. */
  oneOf(column: string, values: readonly unknown[], type: string): string {
    this.lists++
    if (values.length === 1) return `${column} = ${this.add(values[0])}`
    this.singleValued = false
    return `${column} = ANY(${this.add(values)}::${type}[])`
  }
}

/**
 * The WHERE clause of a filter. With `driveByTag`, the first tag condition is left out: the
 * caller joins the tags table on it, so its index (name, value, created_at) leads.
 */
function whereClause(
  filter: Filter,
  access: ReadAccess,
  now: number,
  p: Params,
  driveByTag: boolean,
): string {
  const where = [`(e.expiration IS NULL OR e.expiration > ${p.add(now)})`]
  if (filter.ids) where.push(p.oneOf('e.id', filter.ids.map(hex), 'bytea'))
  if (filter.authors) where.push(p.oneOf('e.pubkey', filter.authors.map(hex), 'bytea'))
  if (filter.kinds) where.push(p.oneOf('e.kind', filter.kinds, 'integer'))
  if (filter.since !== undefined) where.push(`e.created_at >= ${p.add(filter.since)}`)
  if (filter.until !== undefined) where.push(`e.created_at <= ${p.add(filter.until)}`)
  for (const [letter, values] of tagConditions(filter).slice(driveByTag ? 1 : 0)) {
    where.push(
      `EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = ${p.add(letter)} AND ${p.oneOf('t.value', storable(values), 'text')})`,
    )
  }
  const privateKinds = privateKindsToCheck(filter, access)
  if (privateKinds.length > 0) {
    const kinds = p.add(privateKinds)
    if (access.readerPubkeys.length === 0) {
      where.push(`NOT (e.kind = ANY(${kinds}::integer[]))`)
    } else {
      where.push(
        `(NOT (e.kind = ANY(${kinds}::integer[])) OR EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = 'p' AND t.value = ANY(${p.add(access.readerPubkeys)}::text[])))`,
      )
    }
  }
  return where.join(' AND ')
}

/** What bounds one read besides its limit (ReadOptions' `maxBytes` and `maxEventBytes`). */
export type ReadBound = { maxBytes?: number; maxEventBytes?: number }

/**
 * The query for a filter, reading `limit` rows of the events' JSON, newest first.
 *
 * With a finite `maxBytes` (the relay gives every REQ one) the server also stops sending once
 * the rows' bytes reach a bound: a running sum in a window over the same order, which the
 * index walk feeds row by row. Without it every row up to the limit came into the node's heap
 * before the relay's bound cut the answer. The caller counts the bound exactly, in UTF-16
 * units as the SQLite reader does, and a UTF-16 unit is at most 3 UTF-8 bytes, so the
 * server's bound is 3 × maxBytes of `octet_length` (read from the value's header:
 * `char_length` walks every byte). Whenever the server's bound ends a read, the caller's has
 * been reached before it. The window costs PostgreSQL a tenth of a short read, so it is left
 * out where it can never cut: when `limit` events of `maxEventBytes` (the largest message the
 * relay takes) stay within the server's bound — a REQ of the default limit of 100.
 *
 * Led by a tag with several values, an event tagged with two of them comes once per value
 * (with one value, once: the tags table holds each of an event's tags once). Bounded, the
 * repeats (adjacent in this order) are dropped by the server before the limit, so a hostile
 * event with a thousand matching tags is sent once and the limit counts events. Unbounded
 * (the store's own tools), such a query reads each row's seq (`repeats`), for the caller to
 * de-duplicate by, and to read again with a larger limit when duplicates left it short.
 * Other queries leave seq out: PostgreSQL writes it and node-postgres parses it per row.
 */
export function filterQuery(
  filter: Filter,
  access: ReadAccess,
  now: number,
  limit: number,
  bound: ReadBound = {},
): PgQuery & { repeats: boolean; fixedPlan: boolean } {
  const tag = tagConditions(filter)[0]
  const p = new Params()
  const maxBytes = bound.maxBytes ?? Number.POSITIVE_INFINITY
  const serverBound = maxBytes * UTF8_BYTES_PER_UNIT
  const bounded = Number.isFinite(maxBytes)
  const windowed =
    bounded && limit * (bound.maxEventBytes ?? Number.POSITIVE_INFINITY) > serverBound
  let rows: string
  let order = 'e.created_at DESC, e.id ASC'
  let repeats = false
  if (tag && !filter.ids && !filter.authors) {
    const name = p.add(tag[0])
    const values = storable(tag[1])
    const value = p.oneOf('t.value', values, 'text')
    const where = whereClause(filter, access, now, p, true)
    const tagOrder = 't.created_at DESC, e.id ASC'
    rows = `tags t JOIN events e ON e.seq = t.seq WHERE t.name = ${name} AND ${value} AND ${where}`
    if (values.length > 1 && bounded) {
      rows = `(SELECT e.raw, t.created_at, e.id, lag(e.seq) OVER (ORDER BY ${tagOrder}) = e.seq
        AS repeat FROM ${rows}) e WHERE e.repeat IS NOT TRUE`
    } else {
      order = tagOrder
      repeats = values.length > 1
    }
  } else {
    rows = `events e WHERE ${whereClause(filter, access, now, p, false)}`
  }
  const take = `ORDER BY ${order} LIMIT ${p.add(limit)}`
  const text = repeats
    ? `SELECT e.raw, e.seq FROM ${rows} ${take}`
    : windowed
      ? `SELECT raw FROM (SELECT e.raw, octet_length(e.raw) AS own, sum(octet_length(e.raw))
        OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING) AS upto FROM ${rows} ${take}) r
        WHERE upto - own < ${p.add(serverBound)}`
      : `SELECT e.raw FROM ${rows} ${take}`
  const fixedPlan = p.lists === 1 && p.singleValued && !filter.ids
  return { ...query(text, p.values), repeats, fixedPlan }
}

/** UTF-8 bytes in one UTF-16 unit, at most (U+0800–U+FFFF; a pair of surrogates takes 4). */
const UTF8_BYTES_PER_UNIT = 3

/** NIP-45: how many distinct events match any of the filters. */
export function countQuery(filters: readonly Filter[], access: ReadAccess, now: number): PgQuery {
  const p = new Params()
  const clauses = filters.map((f) => `(${whereClause(f, access, now, p, false)})`)
  return query(`SELECT count(*)::bigint AS n FROM events e WHERE ${clauses.join(' OR ')}`, p.values)
}

/**
 * NIP-77: (created_at, hex id) of every event the filter matches, its `limit` ignored, at most
 * `max + 1` rows (one more than allowed tells the caller the set is too big).
 */
export function syncQuery(filter: Filter, access: ReadAccess, now: number, max: number): PgQuery {
  const p = new Params()
  const where = whereClause({ ...filter, limit: undefined }, access, now, p, false)
  return query(
    `SELECT e.created_at::float8, encode(e.id, 'hex') FROM events e WHERE ${where} LIMIT ${p.add(max + 1)}`,
    p.values,
  )
}
