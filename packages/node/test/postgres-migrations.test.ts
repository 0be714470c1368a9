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

  it('names an unreachable database clearly', async () => {
    await expect(
      PostgresStore.open({ url: 'postgres://nobody@127.0.0.1:1/none', live: false }),
    ).rejects.toMatchObject({ code: 'HANSA_STORAGE_UNREACHABLE' })
  })
})
