// Starts one throw-away PostgreSQL server for the test run, so the PostgreSQL tests run
// wherever the server binaries are installed (Debian's `postgresql` package; CI installs it).
// HANSA_TEST_PG_URL, when set, names a server to use instead. Each test file then creates
// its own database on it (pg-test-db.ts). Without either, the PostgreSQL tests are skipped
// and this says so in one line (HANSA_TEST_PG=require, as CI sets it, makes that an error).
import { serverBinaries, startPgServer } from '../../../bench/src/pg-server.js'

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.HANSA_TEST_PG_URL) return async () => {}
  if (!serverBinaries()) {
    if (process.env.HANSA_TEST_PG === 'require') {
      throw new Error('HANSA_TEST_PG=require, but no PostgreSQL server binaries were found')
    }
    console.log('PostgreSQL tests skipped: no server binaries found and HANSA_TEST_PG_URL unset')
    return async () => {}
  }
  // Tests need no durability across a power loss: fsync off, for speed.
  const server = await startPgServer(
    { max_connections: '300', fsync: 'off', shared_buffers: '64MB' },
    { initdbArgs: ['--no-sync'], prefix: 'hansa-pg-' },
  )
  process.env.HANSA_TEST_PG_URL = server.url
  return () => server.stop()
}
