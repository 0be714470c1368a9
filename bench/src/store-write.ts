// store-write: the stores alone, without the relay — events/s that SQLite and PostgreSQL
// commit through `writeBatch`, and REQ-shaped queries/s through `query`, in alternating rounds
// (A B B A …), so a machine whose load drifts during the run (a shared one) tilts neither
// side. One JSON line on stdout.
//
//   node bench/dist/store-write.js [--pg-url URL] [--rounds 4] [--events 10000] [--batch 500]
//
// Events are unsigned (the stores do not verify): half notes with an optional reply tag, half
// gift-wrap-shaped events with one `p` tag, as the relay-load corpus is.
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { PostgresStore, SqliteStore, type StoredEventInput } from '@hansa/node'
import pg from 'pg'
import { startPgServer } from './pg-server.js'
import { AUTHORS, RECIPIENTS, makeEvents } from './store-events.js'
import { benchArgs } from './bench-args.js'

type Side = { name: 'sqlite' | 'postgres'; store: SqliteStore | PostgresStore }

async function writeRound(side: Side, events: StoredEventInput[], batch: number) {
  const start = performance.now()
  for (let i = 0; i < events.length; i += batch)
    await side.store.writeBatch(events.slice(i, i + batch))
  return events.length / ((performance.now() - start) / 1000)
}

async function queryRound(side: Side, now: number, count: number) {
  const access = { privateKinds: [1059], limit: 100, now }
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const r = RECIPIENTS[i % RECIPIENTS.length]!
    const filter =
      i % 3 === 0
        ? { kinds: [1059], '#p': [r] }
        : i % 3 === 1
          ? { authors: [AUTHORS[i % AUTHORS.length]!] }
          : { kinds: [1], since: now - 1800 }
    await side.store.query(filter, { ...access, readerPubkeys: [r] })
  }
  return count / ((performance.now() - start) / 1000)
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return Math.round(s[Math.floor(s.length / 2)]!)
}

async function main() {
  const values = benchArgs(import.meta.url, {
    'pg-url': { type: 'string' },
    rounds: { type: 'string', default: '4' },
    events: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '500' },
    queries: { type: 'string', default: '600' },
  })
  const rounds = Number(values.rounds)
  const batch = Number(values.batch)
  const now = Math.floor(Date.now() / 1000)
  const server = values['pg-url'] ? undefined : await startPgServer()
  const serverUrl = values['pg-url'] ?? server!.url
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query('DROP DATABASE IF EXISTS hansa_bench_store')
  await admin.query('CREATE DATABASE hansa_bench_store')
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = '/hansa_bench_store'
  const dir = mkdtempSync(join(tmpdir(), 'hansa-bench-store-'))
  const sides: Side[] = [
    {
      name: 'sqlite',
      store: new SqliteStore({ path: join(dir, 'events.sqlite'), synchronous: 'full' }),
    },
    { name: 'postgres', store: await PostgresStore.open({ url: url.toString(), live: false }) },
  ]
  const writes: Record<string, number[]> = { sqlite: [], postgres: [] }
  const queries: Record<string, number[]> = { sqlite: [], postgres: [] }
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse()
      const events = makeEvents(Number(values.events), now)
      for (const side of order) {
        writes[side.name]!.push(await writeRound(side, events, batch))
        queries[side.name]!.push(await queryRound(side, now, Number(values.queries)))
        process.stderr.write(
          `store-write: round ${r + 1} ${side.name}: ${Math.round(writes[side.name]!.at(-1)!)} events/s, ${Math.round(queries[side.name]!.at(-1)!)} queries/s\n`,
        )
      }
    }
  } finally {
    for (const side of sides) await side.store.close()
    rmSync(dir, { recursive: true, force: true })
    await server?.stop()
  }
  const result = {
    bench: 'store-write',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    options: { rounds, events: Number(values.events), batch, queries: Number(values.queries) },
    eventsPerSecond: { sqlite: median(writes.sqlite!), postgres: median(writes.postgres!) },
    queriesPerSecond: { sqlite: median(queries.sqlite!), postgres: median(queries.postgres!) },
    rounds: { writes, queries },
    postgresWriteVsSqlite:
      Math.round((median(writes.postgres!) / median(writes.sqlite!)) * 1000) / 1000,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((err) => {
  process.stderr.write(`store-write: failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
