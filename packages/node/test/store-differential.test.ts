// Differential property test: random events stored in SQLite and in PostgreSQL, random
// filters run against both stores and against nostr-tools' matchFilter over the same events.
// All three agree on which events match, in which order (newest first, the lowest id first on
// equal created_at) and how many a limit lets through; the counts agree too.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PostgresStore, SqliteStore } from '@hansa/node'
import type { Filter, NostrEvent } from '@hansa/protocol'
import fc from 'fast-check'
import { matchFilter } from 'nostr-tools/filter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const PUBKEYS = ['a', 'b', 'c'].map((c) => c.repeat(64))
const KINDS = [1, 4, 7, 1111]
const T_VALUES = ['x', 'y', 'z']
const BASE = 1_700_000_000
const NOW = BASE + 1000

const tagArb = fc.oneof(
  fc.tuple(fc.constant('t'), fc.constantFrom(...T_VALUES)),
  fc.tuple(fc.constant('p'), fc.constantFrom(...PUBKEYS)),
  fc.tuple(fc.constant('e'), hex64),
)
const eventArb = fc.record({
  id: hex64,
  pubkey: fc.constantFrom(...PUBKEYS),
  // A narrow range, so equal created_at (and the tie rule) is common.
  created_at: fc.integer({ min: BASE, max: BASE + 8 }),
  kind: fc.constantFrom(...KINDS),
  tags: fc.array(tagArb, { maxLength: 4 }),
  content: fc.string({ maxLength: 20 }),
  sig: fc.constant('0'.repeat(128)),
  expires: fc.option(fc.integer({ min: NOW - 5, max: NOW + 5 }), { nil: undefined }),
})

/** Absent more often than present, so filters combine few conditions and match many events. */
const maybe = <T>(arb: fc.Arbitrary<T>, absent = 3): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: absent }, { arbitrary: arb, weight: 1 })
const sub = <T>(values: readonly T[]) => maybe(fc.subarray([...values], { minLength: 1 }))

function filterArb(ids: string[]): fc.Arbitrary<Filter> {
  return fc
    .record({
      ids: maybe(fc.subarray([...ids, 'f'.repeat(64)], { minLength: 1 }), 6),
      authors: sub(PUBKEYS),
      kinds: sub(KINDS),
      '#t': sub(T_VALUES),
      '#p': sub(PUBKEYS),
      since: maybe(fc.integer({ min: BASE, max: BASE + 8 })),
      until: maybe(fc.integer({ min: BASE, max: BASE + 8 })),
      limit: maybe(fc.integer({ min: 0, max: 12 }), 1),
    })
    .map((f) => {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(f)) if (v !== undefined) out[k] = v
      return out as Filter
    })
}

describe.skipIf(!pgUrl)('SQLite, PostgreSQL and matchFilter agree', () => {
  let dir: string
  let sqlite: SqliteStore
  let postgres: PostgresStore
  let db: Awaited<ReturnType<typeof freshDatabase>>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hansa-diff-'))
    sqlite = new SqliteStore({
      path: join(dir, 'events.sqlite'),
      synchronous: 'normal',
      writerThread: false,
    })
    db = await freshDatabase()
    postgres = await PostgresStore.open({ url: db.url, live: false })
  })
  afterAll(async () => {
    await sqlite?.close()
    await postgres?.close()
    await db?.drop()
    removeDir(dir)
  })

  it('on random events and filters, ordering and limits included', async () => {
    const events = fc
      .uniqueArray(eventArb, { selector: (e) => e.id, minLength: 1, maxLength: 30 })
      .map((list) =>
        list.map(({ expires, ...e }): NostrEvent => {
          const tags = expires === undefined ? e.tags : [...e.tags, ['expiration', String(expires)]]
          return { ...e, tags }
        }),
      )
    const scenario = events.chain((list) =>
      fc.tuple(
        fc.constant(list),
        fc.array(filterArb(list.map((e) => e.id)), { minLength: 1, maxLength: 6 }),
      ),
    )
    await fc.assert(
      fc.asyncProperty(scenario, async ([list, filters]) => {
        sqlite.db.exec('DELETE FROM events; DELETE FROM tags;')
        await postgres.pool.query('TRUNCATE events, tags')
        const batch = list.map((event) => ({ event, raw: JSON.stringify(event), receivedAt: NOW }))
        const outcomes = [await sqlite.writeBatch(batch), await postgres.writeBatch(batch)]
        expect(outcomes[1]).toEqual(outcomes[0])
        const live = list.filter((e) => {
          const exp = e.tags.find((t) => t[0] === 'expiration')
          return !exp || Number(exp[1]) > NOW
        })
        const options = { privateKinds: [], readerPubkeys: [], limit: 10, now: NOW }
        for (const filter of filters) {
          const limit = Math.min(filter.limit ?? options.limit, options.limit)
          const matching = live
            .filter((e) => matchFilter(filter, e))
            .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
          const expected = matching.slice(0, limit).map((e) => e.id)
          const got = async (store: SqliteStore | PostgresStore) =>
            (await store.query(filter, options)).events.map((r) => (JSON.parse(r) as NostrEvent).id)
          expect(await got(sqlite), JSON.stringify(filter)).toEqual(expected)
          expect(await got(postgres), JSON.stringify(filter)).toEqual(expected)
          expect(await sqlite.count([filter], options)).toBe(matching.length)
          expect(await postgres.count([filter], options)).toBe(matching.length)
        }
      }),
      { numRuns: 40 },
    )
  })
})
