// postgres-scale: the same load against SQLite (one node process), PostgreSQL (one process)
// and PostgreSQL (two processes on one database), all in one run, and the latency of live
// fan-out from one process to a subscriber of another. Prints ONE JSON line on stdout;
// progress goes to stderr.
//
//   npm run -s bench:postgres                       starts its own PostgreSQL (initdb)
//   npm run -s bench:postgres -- --pg-url postgres://user@host:port/db   a server you run
//
// For each setup: fresh store, nodes started with `hansa node start`, the connections dealt
// over the nodes, then
//   ingest   the pre-signed corpus (half notes, half gift wraps) as fast as OKs come back
//   query    REQ → EOSE rounds by #p (authenticated), by author, by kind+since
// Fan-out: one event at a time published on node A; the time until a subscriber on node B
// (the other process) receives it, against the same on node A itself.
import { appendFileSync } from 'node:fs'
import { readFileSync, readdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import pg from 'pg'
import { processCpuSeconds } from './cpu.js'
import { NOTE_WINDOW_SECONDS, buildCorpus, makeKeys } from './event-corpus.js'
import { runIngest } from './ingest.js'
import { type SpawnedNode, spawnNode } from './node-process.js'
import { Samples } from './percentiles.js'
import { startPgServer } from './pg-server.js'
import { authenticate, runQueries } from './query.js'
import { type Signer, loadSigner } from './signer.js'
import { RelaySocket, openSockets } from './ws-client.js'
import { benchArgs } from './bench-args.js'

const HELP = `postgres-scale: SQLite vs PostgreSQL (1 and 2 node processes); one JSON line on stdout.

  --pg-url URL          a PostgreSQL server to use (a database per setup is created on it);
                        default: start a throw-away one from the installed binaries
  --events N            events published per setup (default 20000)
  --connections N       WebSocket connections, dealt over the nodes (default 8)
  --window N            events outstanding per connection (default 64)
  --queries-seconds N   seconds of queries per setup (default 5)
  --fanout N            events timed for cross-process fan-out (default 300)
  --setups LIST         any of sqlite,postgres-1,postgres-2 (default: all three)
  --profile DIR         run each node with --cpu-prof: a CPU profile of every thread, written
                        to DIR when the node stops (all phases together)
  --out FILE            also append the JSON line to FILE
  -h, --help            this text
`

const say = (text: string) => process.stderr.write(`postgres-scale: ${text}\n`)

type Setup = 'sqlite' | 'postgres-1' | 'postgres-2'

/** CPU seconds of every process named `postgres` (the server and its backends). */
function postgresCpuSeconds(): number {
  let total = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue
    } catch {
      continue
    }
    total += processCpuSeconds(Number(entry)) ?? 0
  }
  return total
}

/**
 * Starts measuring where a phase's CPU goes: the node processes (all threads), the database
 * server (every `postgres` process on the machine: run on a quiet machine) and this load
 * generator. The result is milliseconds per 1,000 units of work (events, queries).
 */
function cpuMeter(nodes: readonly SpawnedNode[]) {
  const nodeSeconds = () => nodes.reduce((sum, n) => sum + (processCpuSeconds(n.pid) ?? 0), 0)
  const ownSeconds = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  const n0 = nodeSeconds()
  const p0 = postgresCpuSeconds()
  const b0 = ownSeconds()
  return (units: number) => {
    const per = (seconds: number) => Math.round(((seconds * 1000) / Math.max(1, units)) * 1000)
    return {
      nodeMs: per(nodeSeconds() - n0),
      postgresMs: per(postgresCpuSeconds() - p0),
      benchMs: per(ownSeconds() - b0),
    }
  }
}

async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name}`)
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Sockets dealt round-robin over the nodes; each remembers its node's URL for AUTH. */
async function connect(nodes: SpawnedNode[], n: number) {
  const sockets: RelaySocket[] = []
  const urls: string[] = []
  for (let i = 0; i < n; i++) {
    const node = nodes[i % nodes.length]!
    sockets.push(await RelaySocket.open(node.url))
    urls.push(node.url)
  }
  return { sockets, urls }
}

/** Publishes one event at a time on `from`; times its arrival at a subscriber on `to`. */
async function fanOutLatency(from: string, to: string, signer: Signer, count: number) {
  const [pub] = await openSockets(from, 1)
  const [sub] = await openSockets(to, 1)
  const sk = new Uint8Array(32).fill(7)
  const kind = 7447
  await new Promise<void>((resolve) => {
    sub!.onFrame = (f) => {
      if (f.type === 'EOSE') resolve()
    }
    sub!.send(
      JSON.stringify([
        'REQ',
        'fan',
        { kinds: [kind], since: Math.floor(Date.now() / 1000) + 3600 },
      ]),
    )
  })
  const samples = new Samples()
  let missed = 0
  for (let i = 0; i < count; i++) {
    const event = signer.finalize(
      {
        kind,
        created_at: Math.floor(Date.now() / 1000) + 3600 + 1,
        tags: [],
        content: `${to === from ? 'same' : 'cross'} ${i}`,
      },
      sk,
    )
    const received = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000)
      sub!.onFrame = (f) => {
        if (f.type === 'EVENT' && f.subId === 'fan') {
          clearTimeout(timer)
          resolve(true)
        }
      }
    })
    const start = performance.now()
    pub!.send(JSON.stringify(['EVENT', event]))
    if (await received) samples.push(performance.now() - start)
    else missed++
  }
  await pub!.close()
  await sub!.close()
  return { events: count, missed, latencyMs: samples.summary() }
}

async function main() {
  const values = benchArgs(
    import.meta.url,
    {
      'pg-url': { type: 'string' },
      events: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '8' },
      window: { type: 'string', default: '64' },
      'queries-seconds': { type: 'string', default: '5' },
      fanout: { type: 'string', default: '300' },
      setups: { type: 'string', default: 'sqlite,postgres-1,postgres-2' },
      out: { type: 'string' },
      profile: { type: 'string' },
    },
    HELP,
  )
  const events = Number(values.events)
  const connections = Number(values.connections)
  const setups = values.setups!.split(',') as Setup[]
  const signer = await loadSigner('auto')
  const keys = makeKeys(signer, 200, 100)
  const now = Math.floor(Date.now() / 1000)
  say(`signing ${events} events`)
  const corpus = await buildCorpus({ keys, count: events, now, signer })
  // Fan-out events are dated an hour ahead: the node accepts 900 s of skew; allow it.
  const nodeEnv = { HANSA_LIMITS_MAX_FUTURE_SECONDS: '7200', HANSA_STORAGE_READER_THREADS: '1' }
  const server = values['pg-url'] ? undefined : await startPgServer()
  const serverUrl = values['pg-url'] ?? server!.url
  if (server) say(`started ${server.version}`)
  const results: Record<string, unknown> = {}
  try {
    for (const setup of setups) {
      const processes = setup === 'postgres-2' ? 2 : 1
      const env: Record<string, string> = { ...nodeEnv }
      if (setup !== 'sqlite') {
        env.HANSA_STORAGE_BACKEND = 'postgres'
        env.HANSA_STORAGE_URL = await createDatabase(
          serverUrl,
          `hansa_bench_${setup.replace('-', '_')}`,
        )
      }
      say(`${setup}: starting ${processes} node process(es)`)
      const nodes: SpawnedNode[] = []
      for (let i = 0; i < processes; i++) {
        const nodeArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []
        nodes.push(await spawnNode({ env, nodeArgs, log: () => {} }))
      }
      try {
        const { sockets, urls } = await connect(nodes, connections)
        const ingestCpu = cpuMeter(nodes)
        const ingest = await runIngest({
          sockets,
          events: corpus.events,
          rate: 0,
          window: Number(values.window),
        })
        const ingestCpuPer1000 = ingestCpu(ingest.accepted)
        say(
          `${setup}: ingest ${ingest.eventsPerSecond} events/s, CPU ms per 1,000: ${JSON.stringify(ingestCpuPer1000)}`,
        )
        const recipientsBySocket = await Promise.all(
          sockets.map(async (s, c) => {
            const mine = keys.recipients.filter((_, r) => r % sockets.length === c)
            return (await authenticate(s, urls[c]!, mine, signer)).accepted
          }),
        )
        const queryCpu = cpuMeter(nodes)
        const query = await runQueries({
          sockets,
          plan: {
            recipientsBySocket,
            authors: keys.authors.map((a) => a.pk),
            since: { from: now - NOTE_WINDOW_SECONDS, to: now - 60 },
            limit: 100,
          },
          seconds: Number(values['queries-seconds']),
          window: 1,
        })
        const queryCpuPer1000 = queryCpu(query.queries)
        say(
          `${setup}: ${query.queriesPerSecond} queries/s, CPU ms per 1,000: ${JSON.stringify(queryCpuPer1000)}`,
        )
        await Promise.all(sockets.map((s) => s.close()))
        const entry: Record<string, unknown> = {
          processes,
          ingest: {
            eventsPerSecond: ingest.eventsPerSecond,
            accepted: ingest.accepted,
            refused: ingest.refused,
            unanswered: ingest.unanswered,
            okLatencyMs: ingest.okLatencyMs,
            cpuMsPer1000: ingestCpuPer1000,
          },
          query: {
            queriesPerSecond: query.queriesPerSecond,
            eventsPerSecond: query.eventsPerSecond,
            byP: query.byP.latencyMs,
            byAuthor: query.byAuthor.latencyMs,
            byKindSince: query.byKindSince.latencyMs,
            cpuMsPer1000: queryCpuPer1000,
          },
        }
        if (setup === 'postgres-2') {
          const count = Number(values.fanout)
          say(`${setup}: fan-out, ${count} events one at a time`)
          entry.fanOut = {
            crossProcess: await fanOutLatency(nodes[0]!.url, nodes[1]!.url, signer, count),
            sameProcess: await fanOutLatency(nodes[0]!.url, nodes[0]!.url, signer, count),
          }
        }
        results[setup] = entry
      } finally {
        for (const node of nodes) await node.stop()
      }
    }
  } finally {
    await server?.stop()
  }
  const sqlite = results.sqlite as { ingest: { eventsPerSecond: number } } | undefined
  const pg1 = results['postgres-1'] as { ingest: { eventsPerSecond: number } } | undefined
  const line = {
    bench: 'postgres-scale',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    postgres: server?.version ?? 'external',
    options: {
      events,
      connections,
      window: Number(values.window),
      queriesSeconds: Number(values['queries-seconds']),
    },
    results,
    ...(sqlite && pg1
      ? {
          postgresIngestVsSqlite:
            Math.round((pg1.ingest.eventsPerSecond / sqlite.ingest.eventsPerSecond) * 1000) / 1000,
        }
      : {}),
  }
  const text = JSON.stringify(line)
  process.stdout.write(`${text}\n`)
  if (values.out) appendFileSync(values.out, `${text}\n`)
}

main().catch((err) => {
  process.stderr.write(`postgres-scale: failed: ${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
