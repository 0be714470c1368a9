// The PostgreSQL schema is versioned: migrations run once at start, even when several
// processes start together, and a database migrated by a newer Hansa is refused unchanged.
import { PostgresStore, SCHEMA_VERSION } from '@hansa/node'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgUrl } from './pg-test-db.js'

describe.skipIf(!pgUrl)('PostgreSQL schema migrations', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  beforeAll(async () => {
    db = await freshDatabase()
  })
  afterAll(async () => db?.drop())

  it('applies each migration once when processes start together', async () => {
    const stores = await Promise.all(
      [1, 2, 3].map(() => PostgresStore.open({ url: db.url, live: false })),
    )
    const { rows } = await stores[0]!.pool.query('SELECT name FROM hansa_migration ORDER BY name')
    expect(rows).toHaveLength(SCHEMA_VERSION)
    for (const s of stores) await s.close()
  })

  it('refuses a database a newer Hansa migrated, and changes nothing', async () => {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    await client.query(
      "INSERT INTO hansa_migration (name, timestamp) VALUES ('9999_from_the_future', now()::text)",
    )
    await expect(PostgresStore.open({ url: db.url, live: false })).rejects.toMatchObject({
      code: 'HANSA_STORAGE_SCHEMA_NEWER',
      message: expect.stringContaining('9999_from_the_future'),
    })
    await client.end()
  })

  it('reads REQ and COUNT from storage.readUrl when set, and writes to storage.url', async () => {
    const main = await freshDatabase()
    const replica = await freshDatabase()
    // The "replica" is another, empty database: what the store answers shows where it read.
    const empty = await PostgresStore.open({ url: replica.url, live: false })
    await empty.close()
    const store = await PostgresStore.open({ url: main.url, readUrl: replica.url, live: false })
    const event = {
      id: 'a'.repeat(64),
      pubkey: 'b'.repeat(64),
      created_at: 1,
      kind: 1,
      tags: [],
      content: '',
      sig: 'c'.repeat(128),
    }
    expect(await store.writeBatch([{ event, raw: JSON.stringify(event), receivedAt: 1 }])).toEqual([
      { status: 'stored' },
    ])
    const access = { privateKinds: [], readerPubkeys: [], now: 2 }
    expect((await store.query({ ids: [event.id] }, { ...access, limit: 10 })).events).toEqual([])
    expect(await store.count([{ ids: [event.id] }], access)).toBe(0)
    const primary = await PostgresStore.open({ url: main.url, live: false })
    expect(await primary.count([{ ids: [event.id] }], access)).toBe(1)
    await primary.close()
    await store.close()
    await replica.drop()
    await main.drop()
  })

  it('names an unreachable database clearly', async () => {
    await expect(
      PostgresStore.open({ url: 'postgres://nobody@127.0.0.1:1/none', live: false }),
    ).rejects.toMatchObject({ code: 'HANSA_STORAGE_UNREACHABLE' })
  })
})

describe.skipIf(!pgUrl)('PostgreSQL planner statistics', () => {
  // A store filled by a burst must not be planned as if empty until autovacuum's next round:
  // the store refreshes the statistics (and the visibility map, for index-only reads by tag)
  // itself once it has grown by 1,000 events.
  it('vacuums and analyzes events and tags after a burst of writes', async () => {
    const db = await freshDatabase()
    const store = await PostgresStore.open({ url: db.url, live: false })
    try {
      const analyzed = async () =>
        (
          await store.pool.query(
            "SELECT 1 FROM pg_stat_user_tables WHERE relname IN ('events', 'tags') AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL",
          )
        ).rowCount
      expect(await analyzed()).toBe(0)
      const batch = Array.from({ length: 1200 }, (_, i) => {
        const event = {
          id: i.toString(16).padStart(64, '0'),
          pubkey: 'a'.repeat(64),
          created_at: 1_700_000_000 + i,
          kind: 1,
          tags: [['t', `x${i % 7}`]],
          content: '',
          sig: '0'.repeat(128),
        }
        return { event, raw: JSON.stringify(event), receivedAt: 1 }
      })
      await store.writeBatch(batch)
      // VACUUM (ANALYZE) runs after the batch, off its path: wait until both tables show it.
      for (let i = 0; i < 100 && (await analyzed()) !== 2; i++) {
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(await analyzed()).toBe(2)
    } finally {
      await store.close()
      await db.drop()
    }
  })
})
