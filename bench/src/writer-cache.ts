// writer-cache: the SQLite writer's CPU per event by commit size and page cache size, in
// process (the writer on this thread, `synchronous = FULL`), in alternating rounds. Each round
// fills a fresh store with --prefill events, then times --events more in commits of --batch.
// One JSON line on stdout: µs of CPU (user + system) an event, median of the rounds.
//
//   node bench/dist/writer-cache.js [--cache-kib 65536,8192] [--batches 12,100] [--rounds 4]
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@hansa/node'
import { makeEvents } from './store-events.js'
import { benchArgs } from './bench-args.js'

const list = (text: string) => text.split(',').map(Number)

async function round(cacheKib: number, batch: number, prefill: number, count: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hansa-bench-writer-'))
  const store = new SqliteStore({
    path: join(dir, 'events.sqlite'),
    synchronous: 'full',
    writerThread: false,
  })
  try {
    store.db.pragma(`cache_size = -${cacheKib}`)
    const now = Math.floor(Date.now() / 1000)
    const before = makeEvents(prefill, now)
    for (let i = 0; i < before.length; i += 100) await store.writeBatch(before.slice(i, i + 100))
    const events = makeEvents(count, now)
    const start = process.cpuUsage()
    for (let i = 0; i < events.length; i += batch)
      await store.writeBatch(events.slice(i, i + batch))
    const used = process.cpuUsage(start)
    return (used.user + used.system) / count
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  const values = benchArgs(import.meta.url, {
    'cache-kib': { type: 'string', default: '65536,8192' },
    batches: { type: 'string', default: '12,100' },
    rounds: { type: 'string', default: '4' },
    prefill: { type: 'string', default: '20000' },
    events: { type: 'string', default: '10000' },
  })
  const caches = list(values['cache-kib'])
  const batches = list(values.batches)
  const rounds = Number(values.rounds)
  const samples: Record<string, number[]> = {}
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? caches : [...caches].reverse()
    for (const batch of batches) {
      for (const cache of order) {
        const key = `batch ${batch}, cache ${cache} KiB`
        const us = await round(cache, batch, Number(values.prefill), Number(values.events))
        samples[key] = [...(samples[key] ?? []), Math.round(us * 10) / 10]
        process.stderr.write(`writer-cache: round ${r + 1} ${key}: ${us.toFixed(1)} µs an event\n`)
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const result = {
    bench: 'writer-cache',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    options: { rounds, prefill: Number(values.prefill), events: Number(values.events) },
    cpuUsPerEvent: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
    rounds: samples,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((err) => {
  process.stderr.write(`writer-cache: failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
