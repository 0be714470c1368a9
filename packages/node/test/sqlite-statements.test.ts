// The SQLite reader's statements are prepared once and kept: a statement SQLite must plan
// again at each run (a bound `LIMIT ?` makes it do so, since the plan is made for the value)
// costs a reader a parse and a plan per query. Its reads bind LIMIT as `+?`; this checks they
// all do, and that each plan is the plan SQLite makes when it sees the value, on a store with
// skew (a prolific author, a rare kind, a full inbox, replaceable and expiring events).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import {
  type Filter,
  type NostrEvent,
  kindClass,
  matchFilter,
  serializeEvent,
} from '@hansa/protocol'
import type Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteStore } from '@hansa/node'
import { removeDir } from './helpers.js'

const hex = (n: number, len = 64) => n.toString(16).padStart(len, '0')
const PROLIFIC = hex(0xa1)
const READER = hex(0xb2)
const OTHERS = Array.from({ length: 40 }, (_, i) => hex(0xc000 + i))
const T0 = 1_700_000_000

function makeEvents(): NostrEvent[] {
  const events: NostrEvent[] = []
  const add = (pubkey: string, kind: number, tags: string[][], at: number) =>
    events.push({
      id: hex(events.length + 1),
      pubkey,
      created_at: at,
      kind,
      tags,
      content: `event ${events.length}`,
      sig: hex(events.length + 1, 128),
    })
  for (let i = 0; i < 1500; i++) add(PROLIFIC, 1, [['t', i % 2 ? 'a' : 'b']], T0 + i)
  for (let i = 0; i < 600; i++) add(OTHERS[i % 40]!, 1059, [['p', READER]], T0 + i * 2)
  for (let i = 0; i < 400; i++) add(OTHERS[i % 40]!, 7, [['e', hex(i % 5)]], T0 + i)
  for (let i = 0; i < 40; i++) add(OTHERS[i]!, 0, [], T0 + i)
  add(PROLIFIC, 0, [], T0 + 5)
  add(PROLIFIC, 30023, [['d', 'post']], T0 + 7)
  for (let i = 0; i < 3; i++) add(OTHERS[i]!, 9735, [], T0 + i)
  for (let i = 0; i < 50; i++)
    add(OTHERS[i % 40]!, 1, [['expiration', String(T0 + 10_000)]], T0 + i)
  return events
}

/** A store whose reads run on this thread, so the test sees its connection's statements. */
function openStore(prefix: string): { dir: string; store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const store = new SqliteStore({
    path: join(dir, 'events.sqlite'),
    synchronous: 'normal',
    writerThread: false,
    readerThreads: 0,
  })
  return { dir, store }
}

const FILTERS: Filter[] = [
  { '#p': [READER], kinds: [1059], limit: 100 },
  { '#p': [READER], limit: 1 },
  { '#p': [READER, PROLIFIC], limit: 100 },
  { authors: [PROLIFIC], limit: 100 },
  { authors: [PROLIFIC], limit: 500 },
  { authors: [PROLIFIC, OTHERS[0]!], limit: 10 },
  { authors: [PROLIFIC], kinds: [0], limit: 1 },
  { authors: [PROLIFIC], kinds: [30023], '#d': ['post'], limit: 1 },
  { authors: OTHERS.slice(0, 5), kinds: [0, 3], limit: 10 },
  { kinds: [1], since: T0 + 1000, limit: 100 },
  { kinds: [9735], limit: 100 },
  { kinds: [1, 9735], limit: 100 },
  { kinds: [7], '#e': [hex(1)], limit: 100 },
  { '#t': ['a', 'b'], limit: 20 },
  { ids: [hex(3), hex(4)], limit: 2 },
  { since: T0 + 100, until: T0 + 200, limit: 50 },
  { limit: 100 },
]

describe('SQLite reader statements', () => {
  const events = makeEvents()
  let dir: string
  let store: SqliteStore
  /** Each statement the reader prepared, with the arguments of its first run. */
  const runs = new Map<string, unknown[]>()
  /** Every statement run, in order, with its arguments. */
  const log: Array<[string, unknown[]]> = []
  let db: Database.Database
  const options = {
    privateKinds: [1059],
    readerPubkeys: [READER],
    now: T0 + 5_000,
    limit: 500,
    maxBytes: 10_000_000,
  }

  beforeAll(async () => {
    ;({ dir, store } = openStore('hansa-statements-'))
    await store.writeBatch(events.map((e) => ({ event: e, raw: serializeEvent(e), receivedAt: 1 })))
    db = (store as unknown as { db: Database.Database }).db
    const prepare = db.prepare.bind(db)
    db.prepare = ((sql: string) => {
      const statement = prepare(sql)
      for (const method of ['all', 'iterate', 'get'] as const) {
        const run = statement[method].bind(statement) as (...args: unknown[]) => unknown
        ;(statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          if (sql.startsWith('EXPLAIN')) return run(...args) // the test's own
          if (!runs.has(sql)) runs.set(sql, args)
          log.push([sql, args])
          return run(...args)
        }
      }
      return statement
    }) as typeof db.prepare
    for (const filter of FILTERS) {
      await store.query(filter, options)
      await store.syncItems(filter, { ...options, max: 1000 })
    }
  })

  afterAll(async () => {
    await store.close()
    removeDir(dir)
  })

  const reads = () => [...runs].filter(([sql]) => /\bLIMIT\b/.test(sql))

  it('binds every LIMIT as +?, so no run plans the statement again', () => {
    expect(reads().length).toBeGreaterThanOrEqual(8)
    for (const [sql] of reads()) expect(sql).not.toMatch(/LIMIT\s+\?/)
  })

  it("reads by the authors' indexes when a filter names authors and kinds", async () => {
    const plan = (sql: string, args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>)
        .map((row) => row.detail)
        .join(' | ')
    // A kind's index would walk every event of that kind to find a quiet author's; for kinds
    // kept once per author, (pubkey, kind, d_tag) finds them without walking.
    const quiet = OTHERS[39]!
    const cases: Array<[Filter & { limit: number }, RegExp]> = [
      [{ authors: [quiet], kinds: [1], limit: 10 }, /USING INDEX events_pubkey_created_id/],
      [{ authors: [quiet, PROLIFIC], kinds: [1059, 1], limit: 10 }, /events_pubkey_created_id/],
      [{ authors: [PROLIFIC], kinds: [0], limit: 1 }, /USING INDEX events_replaceable/],
      [{ authors: [PROLIFIC, quiet], kinds: [0, 30023], limit: 5 }, /events_replaceable/],
      [{ authors: [PROLIFIC], kinds: [0, 1], limit: 5 }, /events_pubkey_created_id/],
    ]
    for (const [filter, index] of cases) {
      log.length = 0
      const answer = await store.query(filter, options)
      const matching = events.filter(
        (e) =>
          matchFilter(filter, e) &&
          !(e.kind === 1059 && !e.tags.some((t) => t[0] === 'p' && t[1] === READER)) &&
          !e.tags.some((t) => t[0] === 'expiration' && Number(t[1]) <= options.now),
      )
      expect(answer.events.length).toBe(Math.min(filter.limit, matching.length))
      expect(log.length).toBeGreaterThan(0)
      for (const [sql, args] of log.splice(0)) expect(plan(sql, args)).toMatch(index)
    }
  })

  it('keeps the plan SQLite makes for the bound value', () => {
    const plan = (sql: string, args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>)
        .map((row) => row.detail)
        .join(' | ')
    for (const [sql, args] of reads()) {
      expect(plan(sql, args), sql).toBe(plan(sql.replace(/LIMIT \+\?/g, 'LIMIT ?'), args))
    }
  })
})

/** The events a store keeps of these: the newest per author, kind (and d tag) of a kind kept once. */
function survivors(events: readonly NostrEvent[]): NostrEvent[] {
  const kept = new Map<string, NostrEvent>()
  for (const e of events) {
    const c = kindClass(e.kind)
    const d = e.tags.find((t) => t[0] === 'd')?.[1] ?? ''
    const key =
      c === 'replaceable'
        ? `${e.pubkey}:${e.kind}`
        : c === 'addressable'
          ? `${e.pubkey}:${e.kind}:${d}`
          : e.id
    const old = kept.get(key)
    // NIP-01: the newer stays; on equal created_at, the lower id.
    if (
      !old ||
      e.created_at > old.created_at ||
      (e.created_at === old.created_at && e.id < old.id)
    ) {
      kept.set(key, e)
    }
  }
  return [...kept.values()]
}

describe('SQLite reads of authors and kinds, against matchFilter', () => {
  let dir: string
  let store: SqliteStore
  beforeAll(() => {
    ;({ dir, store } = openStore('hansa-authors-kinds-'))
  })
  afterAll(async () => {
    await store.close()
    removeDir(dir)
  })

  it('answers what matchFilter allows, newest first, whatever the index', async () => {
    const authors = [PROLIFIC, OTHERS[0]!, OTHERS[1]!]
    const kinds = [0, 1, 3, 7, 10002, 30023]
    const event = fc.record({
      id: fc.integer({ min: 1, max: 1_000_000 }).map((n) => hex(n)),
      pubkey: fc.constantFrom(...authors),
      kind: fc.constantFrom(...kinds),
      created_at: fc.integer({ min: T0, max: T0 + 6 }),
      d: fc.constantFrom('a', 'b'),
    })
    const filter = fc.record(
      {
        authors: fc.subarray(authors),
        kinds: fc.subarray(kinds),
        since: fc.integer({ min: T0, max: T0 + 6 }),
        limit: fc.integer({ min: 0, max: 8 }),
      },
      { requiredKeys: ['authors', 'kinds'] },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(event, { selector: (e) => e.id, maxLength: 40 }),
        fc.array(filter, { minLength: 1, maxLength: 5 }),
        async (drawn, filters) => {
          ;(store as unknown as { db: Database.Database }).db.exec(
            'DELETE FROM events; DELETE FROM tags;',
          )
          const events = drawn.map(
            ({ d, ...e }): NostrEvent => ({
              ...e,
              tags: e.kind === 30023 ? [['d', d]] : [],
              content: '',
              sig: '0'.repeat(128),
            }),
          )
          await store.writeBatch(
            events.map((e) => ({ event: e, raw: serializeEvent(e), receivedAt: 1 })),
          )
          const kept = survivors(events)
          const options = { privateKinds: [], readerPubkeys: [], now: T0, limit: 10 }
          for (const f of filters) {
            const limit = Math.min(f.limit ?? options.limit, options.limit)
            const expected = kept
              .filter((e) => matchFilter(f, e))
              .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
            const got = (await store.query(f, options)).events.map(
              (raw) => (JSON.parse(raw) as NostrEvent).id,
            )
            expect(got, JSON.stringify(f)).toEqual(expected.slice(0, limit).map((e) => e.id))
            expect(await store.count([f], options)).toBe(expected.length)
          }
        },
      ),
      { numRuns: 80 },
    )
  })
})
