// The byte bound of a PostgreSQL read is kept by the server (postgres-query.ts): a REQ bounded
// at maxBytes brings at most 3 × maxBytes of rows into the node (3 UTF-8 bytes a UTF-16 unit),
// not its whole limit, unless `limit` events of the largest size could not pass that bound —
// and when it is led by several values of a tag that each event holds, the server drops the
// repeats. The answer is the one the SQLite store's rule gives (the property tests in
// store-order.test.ts compare them).
import type { NostrEvent } from '@hansa/protocol'
import { PostgresStore } from '@hansa/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const NOW = 1_800_000_000
const TAGS = 50

/** 30 events of ~2 kB by one author, newest first, each tagged with the same 50 values. */
const events: NostrEvent[] = Array.from({ length: 30 }, (_, i) => ({
  id: i.toString(16).padStart(64, '0'),
  pubkey: 'a'.repeat(64),
  created_at: NOW - 100 - i,
  kind: 1,
  tags: Array.from({ length: TAGS }, (_, j) => ['t', `v${j}`]),
  content: 'x'.repeat(1500),
  sig: '0'.repeat(128),
}))
const raws = events.map((e) => JSON.stringify(e))

describe.skipIf(!pgUrl)('PostgreSQL: the byte bound is kept by the server', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let store: PostgresStore
  /** Rows each read brought back, through either way reads go. */
  const rows: number[] = []
  const access = { privateKinds: [], readerPubkeys: [] as string[], now: NOW }
  // Three and a half events: the answer holds four (the one that crosses the bound is kept);
  // the server sends what fits in three times as many bytes (these events are ASCII), 11.
  const maxBytes = Math.floor(raws[0]!.length * 3.5)
  const sent = Math.floor(3.5 * 3) + 1

  beforeAll(async () => {
    db = await freshDatabase()
    store = await PostgresStore.open({ url: db.url, live: false })
    await store.writeBatch(events.map((event, i) => ({ event, raw: raws[i]!, receivedAt: NOW })))
    for (const reads of [store.readPool, store.fixedPlanReads]) {
      const query = reads.query.bind(reads) as (...a: unknown[]) => Promise<{ rows: unknown[] }>
      ;(reads as { query: unknown }).query = async (...a: unknown[]) => {
        const result = await query(...a)
        rows.push(result.rows.length)
        return result
      }
    }
  })
  afterAll(async () => {
    await store?.close()
    await db?.drop()
  })

  it("reads up to the server's bound by author, not to the limit", async () => {
    rows.length = 0
    const got = await store.query({ authors: ['a'.repeat(64)] }, { ...access, limit: 30, maxBytes })
    expect(got.events).toEqual(raws.slice(0, 4))
    expect(rows).toEqual([sent])
  })

  it('led by a tag every event repeats, sends each event once', async () => {
    rows.length = 0
    const filter = { '#t': Array.from({ length: TAGS }, (_, j) => `v${j}`) }
    const got = await store.query(filter, { ...access, limit: 30, maxBytes })
    expect(got.events).toEqual(raws.slice(0, 4))
    // Each event once (its 49 repeats dropped by the server), up to the server's bound. Before,
    // the reads doubled from 30 rows, all of the first event, until four distinct events had
    // come: 361 rows of 2 kB.
    expect(rows).toEqual([sent])
  })

  it('leaves the window out where it cannot cut, with the same answer', async () => {
    rows.length = 0
    const filter = { authors: ['a'.repeat(64)] }
    // 30 events of at most a third of maxBytes each cannot pass 3 × maxBytes: no window, all
    // 30 rows come, and the store's own count cuts the answer where the window would have.
    const small = { ...access, limit: 30, maxBytes, maxEventBytes: Math.floor(maxBytes / 10) }
    expect((await store.query(filter, small)).events).toEqual(raws.slice(0, 4))
    // Events as large as the relay's largest message could pass it: the window is there.
    const large = { ...small, maxEventBytes: 262_144 }
    expect((await store.query(filter, large)).events).toEqual(raws.slice(0, 4))
    expect(rows).toEqual([30, sent])
  })

  it('without a bound, reads to the limit as before', async () => {
    rows.length = 0
    const got = await store.query({ authors: ['a'.repeat(64)] }, { ...access, limit: 30 })
    expect(got.events).toEqual(raws)
    expect(rows).toEqual([30])
  })
})
