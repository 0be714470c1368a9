// Property test of the stores' order and bounds (SQLite always; PostgreSQL when a server is
// reachable, pg-global-setup.ts):
// random events (few distinct created_at, so ties are common; several matching tag values
// on one event, so a tag-led read sees repeats) and random filters, read with and without a
// byte bound. The answer must be the start of NIP-01's order (newest first, the lowest id
// first on equal created_at) over nostr-tools' matchFilter: `limit` events, or fewer where
// the byte bound stops it (the event that crosses the bound is the last one).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EventStore, PostgresStore, SqliteStore } from '@hansa/node'
import type { Filter, NostrEvent } from '@hansa/protocol'
import fc from 'fast-check'
import { matchFilter } from 'nostr-tools/filter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEventFrames } from '../src/relay/stored-frames.js'
import { createdAtOf, idOf } from '../src/store/raw-event-fields.js'
import { removeDir } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const PUBKEYS = ['a', 'b'].map((c) => c.repeat(64))
const T_VALUES = ['x', 'y', 'z']
const BASE = 1_700_000_000
const NOW = BASE + 1000

const eventArb = fc.record({
  id: hex64,
  pubkey: fc.constantFrom(...PUBKEYS),
  created_at: fc.integer({ min: BASE, max: BASE + 3 }),
  kind: fc.constantFrom(1, 4),
  tags: fc.array(fc.tuple(fc.constant('t'), fc.constantFrom(...T_VALUES)), { maxLength: 3 }),
  // Sizes from a few hundred bytes to a few thousand, so a byte bound cuts at varied places.
  content: fc.string({ maxLength: 2000 }),
  sig: fc.constant('0'.repeat(128)),
})

const filterArb: fc.Arbitrary<Filter> = fc
  .record(
    {
      authors: fc.subarray(PUBKEYS, { minLength: 1 }),
      kinds: fc.subarray([1, 4], { minLength: 1 }),
      '#t': fc.subarray(T_VALUES, { minLength: 1 }),
      since: fc.integer({ min: BASE, max: BASE + 3 }),
      limit: fc.integer({ min: 1, max: 15 }),
    },
    { requiredKeys: [] },
  )
  .map((f) => f as Filter)

type Backend = {
  name: string
  open(): Promise<{ store: EventStore; clear(): Promise<void>; done(): Promise<void> }>
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hansa-order-'))
      const store = new SqliteStore({
        path: join(dir, 'events.sqlite'),
        synchronous: 'normal',
        writerThread: false,
      })
      return {
        store,
        clear: async () => void store.db.exec('DELETE FROM events; DELETE FROM tags;'),
        async done() {
          await store.close()
          removeDir(dir)
        },
      }
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const db = await freshDatabase()
      const store = await PostgresStore.open({ url: db.url, live: false })
      return {
        store,
        clear: async () => void (await store.pool.query('TRUNCATE events, tags')),
        async done() {
          await store.close()
          await db.drop()
        },
      }
    },
  },
]

/** The ids in a store's framed answer (queryFrames), in order. */
const framedIds = (frames: Uint8Array): string[] => readEventFrames(frames, 's').ids()

for (const backend of backends)
  describe.skipIf(backend.name === 'PostgreSQL' && !pgUrl)(
    `the ${backend.name} store's reads`,
    () => {
      let store: EventStore
      let clear: () => Promise<void>
      let done: (() => Promise<void>) | undefined

      beforeAll(async () => {
        const opened = await backend.open()
        store = opened.store
        clear = opened.clear
        done = opened.done
      })
      afterAll(async () => {
        await done?.()
      })

      it('answers the start of NIP-01 order, within the limit and the byte bound', async () => {
        const scenario = fc.tuple(
          fc.uniqueArray(eventArb, { selector: (e) => e.id, minLength: 1, maxLength: 40 }),
          fc.array(
            fc.tuple(filterArb, fc.option(fc.integer({ min: 1, max: 12_000 }), { nil: undefined })),
            { minLength: 1, maxLength: 6 },
          ),
        )
        await fc.assert(
          fc.asyncProperty(scenario, async ([list, reads]) => {
            await clear()
            await store.writeBatch(
              list.map((event) => ({ event, raw: JSON.stringify(event), receivedAt: NOW })),
            )
            for (const [filter, maxBytes] of reads) {
              const options = { privateKinds: [], readerPubkeys: [], limit: 10, now: NOW, maxBytes }
              const limit = Math.min(filter.limit ?? options.limit, options.limit)
              const expected: string[] = []
              let bytes = 0
              for (const e of list
                .filter((e) => matchFilter(filter, e))
                .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))) {
                if (expected.length === limit || bytes >= (maxBytes ?? Number.POSITIVE_INFINITY))
                  break
                expected.push(e.id)
                bytes += JSON.stringify(e).length
              }
              const got = (await store.query(filter, options)).events.map(
                (raw) => (JSON.parse(raw) as NostrEvent).id,
              )
              expect(got, JSON.stringify({ filter, maxBytes })).toEqual(expected)
              // The answer framed by the store (a one-filter REQ) is the same answer.
              if (store.queryFrames) {
                const framed = await store.queryFrames(filter, {
                  ...options,
                  subId: 's',
                  stepBytes: 16_384,
                })
                expect(framedIds(framed)).toEqual(expected)
              }
            }
          }),
          { numRuns: 150 },
        )
      })

      // An inbox read names its own keys in `#p`; the reader may skip the private-kind rule only
      // then. A filter naming a stranger's key among hers must still hide the stranger's mail.
      // Found by the property above (rarely drawn): a repeated tag fills the read's limit before
      // the last created_at's run is whole, so that run must be read again by id.
      it('reads the last run whole when repeats filled the read', async () => {
        const event = (id: string, created_at: number, tags: string[][]): NostrEvent => ({
          id: id.repeat(64),
          pubkey: 'a'.repeat(64),
          created_at,
          kind: 1,
          tags,
          content: '',
          sig: '0'.repeat(128),
        })
        // Whichever way SQLite walks the index, the first of these it meets is not the lowest id.
        const list = [
          event('e', BASE, [['t', 'x']]),
          event('a', BASE, [['t', 'x']]),
          event('f', BASE, [['t', 'x']]),
          event('c', BASE + 1, [
            ['t', 'x'],
            ['t', 'x'],
          ]),
        ]
        await clear()
        await store.writeBatch(
          list.map((e) => ({ event: e, raw: JSON.stringify(e), receivedAt: NOW })),
        )
        const options = { privateKinds: [], readerPubkeys: [], limit: 10, now: NOW }
        const got = (await store.query({ '#t': ['x'], limit: 2 }, options)).events.map(
          (raw) => (JSON.parse(raw) as NostrEvent).id[0],
        )
        expect(got).toEqual(['c', 'a'])
      })

      it('returns a gift wrap only to a reader its p tags name, whatever the #p filter', async () => {
        const keys = ['a', 'b', 'c'].map((c) => c.repeat(64))
        const wrap = fc.record({
          id: hex64,
          pubkey: fc.constant('d'.repeat(64)),
          created_at: fc.integer({ min: BASE, max: BASE + 5 }),
          kind: fc.constantFrom(1059, 1),
          tags: fc.array(fc.tuple(fc.constant('p'), fc.constantFrom(...keys)), { maxLength: 2 }),
          content: fc.constant(''),
          sig: fc.constant('0'.repeat(128)),
        })
        const read = fc.tuple(
          fc.subarray(keys, { minLength: 1 }),
          fc.subarray(keys),
          fc.option(fc.constant([1059]), { nil: undefined }),
        )
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(wrap, { selector: (e) => e.id, minLength: 1, maxLength: 20 }),
            fc.array(read, { minLength: 1, maxLength: 5 }),
            async (list, reads) => {
              await clear()
              await store.writeBatch(
                list.map((event) => ({ event, raw: JSON.stringify(event), receivedAt: NOW })),
              )
              for (const [pFilter, readerPubkeys, kinds] of reads) {
                const filter: Filter = { '#p': pFilter, ...(kinds ? { kinds } : {}) }
                const options = { privateKinds: [1059], readerPubkeys, limit: 50, now: NOW }
                const expected = list
                  .filter((e) => matchFilter(filter, e))
                  .filter(
                    (e) => e.kind !== 1059 || e.tags.some((t) => readerPubkeys.includes(t[1]!)),
                  )
                  .map((e) => e.id)
                  .sort()
                const got = (await store.query(filter, options)).events
                  .map((raw) => (JSON.parse(raw) as NostrEvent).id)
                  .sort()
                expect(got, JSON.stringify({ filter, readerPubkeys })).toEqual(expected)
              }
            },
          ),
          { numRuns: 100 },
        )
      })
    },
  )

describe('created_at and id read from stored JSON', () => {
  it('agree with JSON.parse, whatever the key order, spacing or content', () => {
    const field = fc.oneof(
      fc.string(),
      fc.constantFrom('"created_at":1', '","created_at":2', '"id":"', '\\"created_at\\":7', '"id"'),
    )
    const event = fc.record({
      id: hex64,
      pubkey: hex64,
      created_at: fc.integer({ min: 0, max: 2 ** 40 }),
      kind: fc.integer({ min: 0, max: 65535 }),
      tags: fc.array(fc.array(field, { maxLength: 3 }), { maxLength: 3 }),
      content: field,
      sig: hex64,
    })
    const text = fc
      .tuple(event, fc.boolean(), fc.constantFrom(0, 1, 2))
      .map(([e, reversed, space]) => {
        const entries = Object.entries(e)
        return JSON.stringify(
          Object.fromEntries(reversed ? entries.reverse() : entries),
          null,
          space,
        )
      })
    fc.assert(
      fc.property(text, (raw) => {
        const parsed = JSON.parse(raw) as NostrEvent
        expect(createdAtOf(raw)).toBe(parsed.created_at)
        expect(idOf(raw)).toBe(parsed.id)
      }),
      { numRuns: 500 },
    )
  })
})
