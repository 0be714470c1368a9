// A fresh PostgreSQL database per test file, on the server the test run started
// (pg-global-setup.ts) or the one HANSA_TEST_PG_URL names. `pgUrl` is undefined when there
// is none; PostgreSQL tests use `describe.skipIf(!pgUrl)`.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export const pgUrl: string | undefined = process.env.HANSA_TEST_PG_URL

/** Creates an empty database and returns its URL; `drop` removes it. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!pgUrl) throw new Error('no PostgreSQL server for tests')
  const name = `hansa_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(pgUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: pgUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}
