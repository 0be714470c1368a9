// relay-load: a load generator for a running Hansa node (a Nostr relay). It pre-signs a
// corpus (never timed), then over N real WebSocket connections measures
//   ingest       acknowledged events/s and OK latency, as fast as the node answers
//   latency      OK latency at a fixed offered rate (default 4,000 events/s)
//   query        REQ → EOSE rounds by #p (authenticated), by author, by kind+since
//   storage      bytes the store holds per event, and the disk a year of traffic takes
// and prints ONE JSON line on stdout. Progress and the node's own output go to stderr.
//
//   npm run -s bench -- --spawn                      start a node, run everything, stop it
//   npm run -s bench -- --url ws://127.0.0.1:7447    against a node already running
//
// bench/README.md explains every figure. Each phase is a function returning data (ingest.ts,
// query.ts, storage.ts); this file only parses options, runs them in order and prints.
import { appendFileSync, mkdirSync } from 'node:fs'
import { cpus, freemem, loadavg, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CpuUse, cpuPer1000, startCpuMeter } from './cpu.js'
import {
  type CorpusKeys,
  type KeyPair,
  NOTE_WINDOW_SECONDS,
  type PreparedEvent,
  buildCorpus,
  corpusStats,
  loadCorpus,
  makeKeys,
  saveCorpus,
} from './event-corpus.js'
import { type IngestResult, runIngest } from './ingest.js'
import { type SpawnedNode, spawnNode } from './node-process.js'
import { NodeProfiler } from './node-profiler.js'
import { type QueryResult, authenticate, runQueries } from './query.js'
import { type Signer, type SignerBackend, loadSigner } from './signer.js'
import {
  type NodeSideFigures,
  dirSize,
  formatBytes,
  growthPerYear,
  httpUrlOf,
  nodeSideFigures,
  readMetrics,
  readStoreMetrics,
} from './storage.js'
import { type RelaySocket, openSockets } from './ws-client.js'

const PHASES = ['ingest', 'latency', 'query', 'storage'] as const
type Phase = (typeof PHASES)[number]

const HELP = `relay-load: load generator for a Hansa node; prints one JSON line on stdout.

  --url URL             relay to load (default ws://127.0.0.1:7447)
  --spawn               start a node in a temporary data folder, stop it at the end
  --keep-data           with --spawn: keep the data folder (its path goes to stderr)
  --phases LIST         any of ingest,latency,query,storage (default: all four)
  --connections N       WebSocket connections (default 8)
  --events N            events published in the ingest phase (default 40000)
  --rate N              ingest: 0 = as fast as OKs come back (default); N = N events/s offered
  --window N            ingest with rate 0: events outstanding per connection (default 64)
  --latency-rate N      latency phase: offered events/s (default 4000)
  --latency-seconds N   latency phase: duration (default 5)
  --queries-seconds N   query phase: duration (default 10)
  --query-window N      query phase: REQs outstanding per connection (default 1)
  --limit N             query phase: the filters' limit (default 100)
  --no-auth             query phase: do not authenticate (NIP-42), so no inbox (#p) reads:
                        the same mix a relay without NIP-42 gets, for side-by-side figures
  --authors N           note authors (default 200)
  --recipients N        gift-wrap recipients (default 100)
  --sign-threads N      threads signing the corpus (default: one per core)
  --signer NAME         auto | wasm | pure (default auto)
  --node-pid PID        without --spawn: the node's process id, to report its CPU use
  --corpus FILE         reuse the signed events in FILE if it holds enough, else sign and
                        save them there (only for fresh stores: events already stored come
                        back as duplicates)
  --out FILE            also append the JSON line to FILE
  --profile DIR         with --spawn: save a CPU profile of each phase, every thread of the
                        node, in DIR (<phase>.<thread>.cpuprofile); the inspector costs the
                        node CPU, so take CPU figures from runs without it
  --node-cli FILE       with --spawn: the hansa CLI to start (default: this checkout's),
                        to compare two builds in one session
  -h, --help            this text
`

type Options = {
  url: string
  spawn: boolean
  keepData: boolean
  phases: Phase[]
  connections: number
  events: number
  rate: number
  window: number
  latencyRate: number
  latencySeconds: number
  queriesSeconds: number
  queryWindow: number
  /** Query without NIP-42 AUTH: by author and by kinds+since only. */
  noAuth: boolean
  limit: number
  authors: number
  recipients: number
  signThreads: number
  signer: SignerBackend | 'auto'
  nodePid?: number
  corpus?: string
  out?: string
  profile?: string
  nodeCli?: string
}

/** A mistake in the command line: the message names the fix. */
class UsageError extends Error {}

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:7447' },
      spawn: { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      phases: { type: 'string', default: PHASES.join(',') },
      connections: { type: 'string', default: '8' },
      events: { type: 'string', default: '40000' },
      rate: { type: 'string', default: '0' },
      window: { type: 'string', default: '64' },
      'latency-rate': { type: 'string', default: '4000' },
      'latency-seconds': { type: 'string', default: '5' },
      'queries-seconds': { type: 'string', default: '10' },
      'query-window': { type: 'string', default: '1' },
      limit: { type: 'string', default: '100' },
      'no-auth': { type: 'boolean', default: false },
      authors: { type: 'string', default: '200' },
      recipients: { type: 'string', default: '100' },
      'sign-threads': { type: 'string', default: String(cpus().length) },
      signer: { type: 'string', default: 'auto' },
      'node-pid': { type: 'string' },
      corpus: { type: 'string' },
      out: { type: 'string' },
      profile: { type: 'string' },
      'node-cli': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help'
  const num = (name: string, min: number): number => {
    const raw = (values as Record<string, unknown>)[name] as string
    const n = Number(raw)
    if (!Number.isFinite(n) || n < min)
      throw new UsageError(`--${name} must be a number ≥ ${min}, not "${raw}"`)
    return n
  }
  const phases = values.phases
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  for (const p of phases) {
    if (!(PHASES as readonly string[]).includes(p)) {
      throw new UsageError(`unknown phase "${p}" in --phases; use any of ${PHASES.join(',')}`)
    }
  }
  if (!['auto', 'wasm', 'pure'].includes(values.signer)) {
    throw new UsageError(`--signer must be auto, wasm or pure, not "${values.signer}"`)
  }
  if (!/^wss?:\/\//.test(values.url))
    throw new UsageError(`--url must start with ws:// or wss://, not "${values.url}"`)
  const options: Options = {
    url: values.url,
    spawn: values.spawn,
    keepData: values['keep-data'],
    phases: phases as Phase[],
    connections: Math.floor(num('connections', 1)),
    events: Math.floor(num('events', 0)),
    rate: num('rate', 0),
    window: Math.floor(num('window', 1)),
    latencyRate: num('latency-rate', 1),
    latencySeconds: num('latency-seconds', 0.1),
    queriesSeconds: num('queries-seconds', 0.1),
    queryWindow: Math.floor(num('query-window', 1)),
    noAuth: values['no-auth'],
    limit: Math.floor(num('limit', 1)),
    authors: Math.floor(num('authors', 1)),
    recipients: Math.floor(num('recipients', 1)),
    signThreads: Math.floor(num('sign-threads', 0)),
    signer: values.signer as SignerBackend | 'auto',
  }
  if (values['node-pid'] !== undefined) options.nodePid = Math.floor(num('node-pid', 1))
  if (values.out !== undefined) options.out = values.out
  if (values.corpus !== undefined) options.corpus = values.corpus
  if (values.profile !== undefined) options.profile = values.profile
  if (values['node-cli'] !== undefined) options.nodeCli = values['node-cli']
  if ((options.profile || options.nodeCli) && !options.spawn) {
    throw new UsageError('--profile and --node-cli need --spawn')
  }
  return options
}

const say = (line: string) => process.stderr.write(`bench: ${line}\n`)

const progress = (what: string) => (done: number, total: number) =>
  say(`${what} ${done}/${total} (${Math.round((done / Math.max(1, total)) * 100)}%)`)

type PhaseRun<T> = T & {
  cpu: CpuUse
  /** The node's CPU ms per 1,000 units of the phase's work (acknowledged events, queries). */
  cpuPer1000?: {
    per: string
    /** All threads, from /proc/<pid>/stat: only when the node's pid is known. */
    nodeMs?: number
    nodeMainThreadMs?: number
    /**
     * The same by the node's threads, from its /metrics (hansa_thread_cpu_seconds_total):
     * with --url too, where the node runs on Linux; `byThreadSystem` is the part of each
     * spent in the kernel.
     */
    byThread?: Record<string, number>
    byThreadSystem?: Record<string, number>
  }
  profiles?: string[]
  nodeSide?: NodeSideFigures
}

type Meter = { nodePid?: number; httpUrl: string; profiler?: NodeProfiler; profileDir?: string }

/**
 * Runs a phase, adding the CPU use, the node's CPU per 1,000 units of work (`units` reads
 * them from the result: events acknowledged, queries answered), the node's own figures (from
 * /metrics) and, with --profile, the phase's CPU profiles.
 */
async function timed<T>(
  meter: Meter,
  phase: string,
  units: { per: string; of: (result: T) => number },
  run: () => Promise<T>,
): Promise<PhaseRun<T>> {
  const before = await readMetrics(meter.httpUrl)
  await meter.profiler?.start()
  const stopMeter = startCpuMeter(meter.nodePid)
  const result = await run()
  const cpu = stopMeter()
  const profiles =
    meter.profiler && meter.profileDir ? await meter.profiler.stop(meter.profileDir, phase) : []
  const after = await readMetrics(meter.httpUrl)
  const out: PhaseRun<T> = { ...result, cpu }
  const per = cpuPer1000(cpu, units.of(result))
  if (per) out.cpuPer1000 = { per: units.per, ...per }
  if (profiles.length > 0) out.profiles = profiles
  if (!('error' in before) && !('error' in after)) out.nodeSide = nodeSideFigures(before, after)
  const byThread = perThousand(out.nodeSide?.threadCpuMs, units.of(result))
  const byThreadSystem = perThousand(out.nodeSide?.threadSystemCpuMs, units.of(result))
  if (byThread && byThreadSystem) {
    out.cpuPer1000 = { per: units.per, ...out.cpuPer1000, byThread, byThreadSystem }
  }
  return out
}

/** CPU ms by thread per 1,000 units of work, to a tenth of a ms. */
function perThousand(
  ms: Record<string, number> | undefined,
  units: number,
): Record<string, number> | undefined {
  if (!ms || units <= 0) return undefined
  const out: Record<string, number> = {}
  for (const [thread, v] of Object.entries(ms)) out[thread] = Math.round((v / units) * 10000) / 10
  return out
}

/**
 * "148 (event-loop 30 of which kernel 9, verify 52 of which kernel 1, …)": the node's CPU per
 * 1,000 units, for a progress line.
 */
function cpuLine(per: PhaseRun<object>['cpuPer1000']): string {
  const threads = Object.entries(per?.byThread ?? {})
    .map(
      ([thread, ms]) => `${thread} ${ms} of which kernel ${per?.byThreadSystem?.[thread] ?? '?'}`,
    )
    .join(', ')
  return `${per?.nodeMs ?? '?'}${threads ? ` (${threads})` : ''}`
}

/** Notes what makes a phase's figures doubtful: a busy machine, old events, lost answers. */
function checkPhase(
  name: string,
  r: { cpu: CpuUse; duplicates?: number; unanswered?: number },
  warnings: string[],
) {
  if ((r.cpu.otherPercent ?? 0) >= 20) {
    warnings.push(
      `${name}: other processes used ${r.cpu.otherPercent}% of a core; repeat on a quiet machine`,
    )
  }
  if ((r.cpu.stealPercent ?? 0) >= 10)
    warnings.push(`${name}: the hypervisor stole ${r.cpu.stealPercent}% of a core`)
  if (r.duplicates) {
    warnings.push(
      `${name}: ${r.duplicates} events were already stored (a --corpus file reused on the same store?)`,
    )
  }
  if (r.unanswered) warnings.push(`${name}: ${r.unanswered} events got no OK`)
}

/** Recipients dealt round-robin over the connections: connection c takes r ≡ c (mod n). */
const dealRecipients = (recipients: readonly KeyPair[], n: number): KeyPair[][] =>
  Array.from({ length: n }, (_, c) => recipients.filter((_, r) => r % n === c))

async function authenticateAll(
  sockets: readonly RelaySocket[],
  url: string,
  recipients: readonly KeyPair[],
  signer: Signer,
) {
  const dealt = dealRecipients(recipients, sockets.length)
  const results = await Promise.all(sockets.map((s, c) => authenticate(s, url, dealt[c]!, signer)))
  return {
    recipientsBySocket: results.map((r) => r.accepted),
    errors: [...new Set(results.flatMap((r) => r.errors))],
  }
}

type PreparedCorpus = {
  keys: CorpusKeys
  /** Unix seconds the events are dated from. */
  now: number
  events: PreparedEvent[]
  source: 'signed' | 'file'
  backend: SignerBackend
  threads: number
  signSeconds: number
}

/** Signs the corpus, or reads it from `--corpus` when that file holds enough of the same kind. */
async function prepareCorpus(o: Options, signer: Signer, count: number): Promise<PreparedCorpus> {
  if (o.corpus) {
    const saved = loadCorpus(o.corpus)
    if (
      saved &&
      saved.header.count >= count &&
      saved.header.keys.authors.length === o.authors &&
      saved.header.keys.recipients.length === o.recipients
    ) {
      say(`corpus: ${count} of the ${saved.header.count} events in ${o.corpus}`)
      const { header } = saved
      return {
        keys: header.keys,
        now: header.now,
        events: saved.events,
        source: 'file',
        backend: header.backend,
        threads: 0,
        signSeconds: 0,
      }
    }
  }
  const keys = makeKeys(signer, o.authors, o.recipients)
  const now = Math.floor(Date.now() / 1000)
  say(`signing ${count} events (${signer.backend}, ${o.signThreads || 'main'} thread(s))`)
  let lastSay = performance.now()
  const signed = await buildCorpus({
    keys,
    count,
    now,
    threads: o.signThreads,
    backend: o.signer,
    signer,
    onProgress: (n) => {
      if (performance.now() - lastSay < 2000) return
      lastSay = performance.now()
      say(`signed ${n}/${count}`)
    },
  })
  say(`signed ${count} events in ${signed.signSeconds.toFixed(1)} s`)
  if (o.corpus) {
    saveCorpus(
      o.corpus,
      { corpus: 'hansa-relay-load', version: 1, now, count, keys, backend: signed.backend },
      signed.events,
    )
    say(`corpus saved to ${o.corpus}`)
  }
  return {
    keys,
    now,
    events: signed.events,
    source: 'signed',
    backend: signed.backend,
    threads: signed.threads,
    signSeconds: signed.signSeconds,
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: Options | 'help'
  try {
    options = parseOptions(argv)
  } catch (err) {
    if (
      err instanceof UsageError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`relay-load: ${(err as Error).message}\n\n${HELP}`)
      return 2
    }
    throw err
  }
  if (options === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  const o = options
  const has = (p: Phase) => o.phases.includes(p)
  const startedAt = new Date().toISOString()

  // ---- the corpus, signed before anything is timed -----------------------------------
  const signer = await loadSigner(o.signer)
  const needIngest = has('ingest') || has('query') ? o.events : 0
  const latencyEvents = has('latency') ? Math.round(o.latencyRate * o.latencySeconds) : 0
  const corpus = await prepareCorpus(o, signer, needIngest + latencyEvents)
  const { keys, now } = corpus
  const ingestEvents: PreparedEvent[] = corpus.events.slice(0, needIngest)
  const latencyCorpus: PreparedEvent[] = corpus.events.slice(needIngest, needIngest + latencyEvents)

  // ---- the node --------------------------------------------------------------------------
  let node: SpawnedNode | undefined
  let url = o.url
  let httpUrl = httpUrlOf(o.url)
  let nodePid = o.nodePid
  const stopNode = async () => {
    if (!node) return
    const n = node
    node = undefined
    const exit = await n.stop({ keepData: o.keepData })
    if (exit.code !== 0) say(`the node exited with code ${exit.code} (signal ${exit.signal})`)
    if (o.keepData) say(`data kept in ${n.dataDir}`)
  }
  process.once('SIGINT', () => {
    say('interrupted')
    stopNode().finally(() => process.exit(130))
  })
  if (o.spawn) {
    say('starting a node')
    try {
      node = await spawnNode({
        ...(o.nodeCli ? { cli: o.nodeCli } : {}),
        ...(o.profile ? { nodeArgs: ['--inspect=127.0.0.1:0'] } : {}),
      })
    } catch (err) {
      say(`cannot start a node: ${(err as Error).message}`)
      return 1
    }
    url = node.url
    httpUrl = node.httpUrl
    nodePid = node.pid
    say(`node ${url} (pid ${node.pid}, verifier ${node.verifier ?? '?'}, data ${node.dataDir})`)
  }

  const output: Record<string, unknown> = {
    bench: 'relay-load',
    version: 1,
    startedAt,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      memoryGB: Math.round(totalmem() / 1e8) / 10,
      freeMemoryGB: Math.round(freemem() / 1e8) / 10,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    target: {
      url,
      spawned: o.spawn,
      ...(node?.verifier ? { verifier: node.verifier } : {}),
    },
    config: {
      connections: o.connections,
      events: o.events,
      rate: o.rate,
      window: o.window,
      latencyRate: o.latencyRate,
      latencySeconds: o.latencySeconds,
      queriesSeconds: o.queriesSeconds,
      queryWindow: o.queryWindow,
      limit: o.limit,
      authors: o.authors,
      recipients: o.recipients,
      phases: o.phases,
    },
    corpus: {
      events: needIngest + latencyEvents,
      source: corpus.source,
      signer: corpus.backend,
      signThreads: corpus.threads,
      signSeconds: Math.round(corpus.signSeconds * 10) / 10,
      kinds: corpusStats([...ingestEvents, ...latencyCorpus]),
    },
  }

  let sockets: RelaySocket[] = []
  let failed = false
  const warnings: string[] = []
  const meter: Meter = { httpUrl }
  if (nodePid !== undefined) meter.nodePid = nodePid
  try {
    if (o.profile) {
      if (!node?.inspectorUrl) throw new Error('the node printed no inspector URL')
      mkdirSync(o.profile, { recursive: true })
      meter.profiler = await NodeProfiler.connect(node.inspectorUrl)
      meter.profileDir = o.profile
      warnings.push('profiled: the inspector costs the node CPU; CPU figures are high')
    }
    sockets = await openSockets(url, o.connections)
    say(`${sockets.length} connections open`)

    // ---- ingest ----------------------------------------------------------------------------
    if (has('ingest') || (has('query') && ingestEvents.length > 0)) {
      const label = has('ingest') ? 'ingest' : 'seeding the store'
      say(
        `${label}: ${ingestEvents.length} events over ${o.connections} connections, ${o.rate > 0 ? `${o.rate}/s offered` : `window ${o.window}`}`,
      )
      const ingest: PhaseRun<IngestResult> = await timed(
        meter,
        'ingest',
        { per: 'acknowledged events', of: (r) => r.accepted },
        () =>
          runIngest({
            sockets,
            events: ingestEvents,
            rate: o.rate,
            window: o.window,
            onProgress: progress(label),
          }),
      )
      if (has('ingest')) output.ingest = ingest
      checkPhase(label, ingest, warnings)
      say(
        `${label}: ${ingest.eventsPerSecond} events/s acknowledged, OK p50 ${ingest.okLatencyMs.p50} ms p99 ${ingest.okLatencyMs.p99} ms, node ${cpuLine(ingest.cpuPer1000)} CPU ms per 1,000`,
      )
      await sleep(1000)
    }

    // ---- latency at a fixed offered rate ----------------------------------------------------
    if (has('latency')) {
      say(`latency: ${latencyCorpus.length} events at ${o.latencyRate}/s offered`)
      const latency = await timed(
        meter,
        'latency',
        { per: 'acknowledged events', of: (r) => r.accepted },
        () =>
          runIngest({
            sockets,
            events: latencyCorpus,
            rate: o.latencyRate,
            window: o.window,
            onProgress: progress('latency'),
          }),
      )
      output[`latency@${o.latencyRate}`] = latency
      checkPhase('latency', latency, warnings)
      say(
        `latency: OK p50 ${latency.okLatencyMs.p50} ms p99 ${latency.okLatencyMs.p99} ms at ${latency.sentPerSecond}/s sent, node ${cpuLine(latency.cpuPer1000)} CPU ms per 1,000`,
      )
      await sleep(1000)
    }

    // ---- storage (before queries: they write nothing, but the figure belongs to ingest) ----
    if (has('storage')) {
      const m = await readStoreMetrics(httpUrl)
      const storage: Record<string, unknown> = {}
      let bytesPerEvent: number | undefined
      if ('error' in m) storage.metricsError = m.error
      else {
        storage.storedEvents = m.storedEvents
        storage.storedBytes = m.storedBytes
        if (m.storedEvents > 0) bytesPerEvent = m.storedBytes / m.storedEvents
      }
      if (node) {
        const size = dirSize(node.dataDir)
        storage.dataDirBytes = size
        if (!('error' in m) && m.storedEvents > 0) {
          storage.dataDirBytesPerEvent = Math.round(size / m.storedEvents)
        }
      }
      const stats = corpusStats([...ingestEvents, ...latencyCorpus])
      const sizes = Object.values(stats)
      const total = sizes.reduce((a, s) => a + s.count, 0)
      storage.meanEventJsonBytes = Math.round(
        sizes.reduce((a, s) => a + s.count * s.meanBytes, 0) / Math.max(1, total),
      )
      if (bytesPerEvent !== undefined) {
        storage.bytesPerEvent = Math.round(bytesPerEvent)
        storage.growthPerYear = {
          '1/s': formatBytes(growthPerYear(bytesPerEvent, 1)),
          '100/s': formatBytes(growthPerYear(bytesPerEvent, 100)),
        }
      }
      output.storage = storage
      say(`storage: ${storage.bytesPerEvent ?? '?'} bytes/event`)
    }

    // ---- queries ---------------------------------------------------------------------------
    if (has('query')) {
      const auth = o.noAuth
        ? { recipientsBySocket: sockets.map(() => []), errors: [] }
        : await authenticateAll(sockets, url, keys.recipients, signer)
      const authed = auth.recipientsBySocket.reduce((a, r) => a + r.length, 0)
      say(
        `query: authenticated as ${authed}/${keys.recipients.length} recipients; ${o.queriesSeconds} s of queries`,
      )
      const query: PhaseRun<QueryResult> = await timed(
        meter,
        'query',
        { per: 'queries answered', of: (r) => r.queries },
        () =>
          runQueries({
            sockets,
            plan: {
              recipientsBySocket: auth.recipientsBySocket,
              authors: keys.authors.map((a) => a.pk),
              since: { from: now - NOTE_WINDOW_SECONDS, to: now - 60 },
              limit: o.limit,
            },
            seconds: o.queriesSeconds,
            window: o.queryWindow,
          }),
      )
      const q = query as PhaseRun<QueryResult> & { authErrors?: string[] }
      if (auth.errors.length > 0) q.authErrors = auth.errors
      output.query = q
      checkPhase('query', query, warnings)
      say(
        `query: ${query.queriesPerSecond} queries/s, ${query.eventsPerSecond} events/s to EOSE, node ${cpuLine(query.cpuPer1000)} CPU ms per 1,000 queries`,
      )
    }
  } catch (err) {
    failed = true
    output.error = (err as Error).message
    say(`failed: ${(err as Error).message}`)
  } finally {
    meter.profiler?.close()
    await Promise.all(sockets.map((s) => s.close()))
    await stopNode()
  }

  if (warnings.length > 0) output.warnings = warnings
  for (const w of warnings) say(`warning: ${w}`)
  const line = JSON.stringify(output)
  process.stdout.write(`${line}\n`)
  if (o.out) appendFileSync(o.out, `${line}\n`)
  return failed ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(
      `relay-load: internal error, please report it with this trace:\n${(err as Error).stack}\n`,
    )
    process.exitCode = 1
  },
)
