// metered-overhead: what paid access costs a node, measured in one run. The same signed corpus
// and the same load (relay-load's ingest and query phases, over the same connections, each
// authenticated first as its own payer) run against a node whose inbox is free and against
// one whose inbox is metered (SWAP, mock mode by default), each a fresh node on a fresh data
// folder, in the order free, metered, metered, free (ABBA: a machine that warms up or slows
// down during the run weighs on both modes alike). Prints ONE JSON line on stdout: every run,
// the median per mode, and the overhead of metered against free, in percent of throughput.
//
// While the metered node is loaded, each connection pays as the SDK does: its SwapPayer books
// every charged request from what the node answered, and sends a cumulative cheque (POST
// /cheques, NIP-98) once its debt is --early percent short of the payment threshold, so no
// request is refused and the cost of cheques is in the figure. Refusals are counted.
//
//   npm run -s bench:metered                      (≈ 2 minutes on 2 cores)
//   npm run -s bench:metered -- --rounds 1 --events 8000 --queries-seconds 4
import { appendFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { SwapPayer, getBilling } from '@hansa/client'
import { readKeyFile } from '@hansa/node'
import { type CpuUse, startCpuMeter } from './cpu.js'
import { type KeyPair, NOTE_WINDOW_SECONDS, buildCorpus, makeKeys } from './event-corpus.js'
import { type IngestResult, runIngest } from './ingest.js'
import { type SpawnedNode, spawnNode } from './node-process.js'
import { type QueryResult, authenticate, runQueries } from './query.js'
import { type Signer, loadSigner } from './signer.js'
import { type RelaySocket, openSockets } from './ws-client.js'

const HELP = `metered-overhead: free vs metered inbox under the same load; one JSON line on stdout.

  --connections N       WebSocket connections, one payer each (default 8)
  --events N            events published per run, half gift wraps (default 20000)
  --window N            ingest: events outstanding per connection (default 64)
  --queries-seconds N   query phase per run (default 8)
  --limit N             the queries' limit (default 100)
  --recipients N        gift-wrap recipients (default 100)
  --rounds N            rounds: 1 = free, metered; 2 = free, metered, metered, free; 3 adds
                        free, metered (default 3); each mode's figure is the median of its runs
  --swap MODE           metered node's SWAP mode: mock or soft (default mock)
  --payment-threshold N metered node's payment threshold, msat (default 200000)
  --early N             payers pay N percent before the payment threshold (default 50)
  --sign-threads N      threads signing the corpus (default: one per core)
  --out FILE            also append the JSON line to FILE
  -h, --help            this text
`

type Mode = 'free' | 'metered'

type Options = {
  connections: number
  events: number
  window: number
  queriesSeconds: number
  limit: number
  recipients: number
  rounds: number
  swap: 'mock' | 'soft'
  paymentThreshold: number
  early: number
  signThreads: number
  out?: string
}

const say = (line: string) => process.stderr.write(`metered-overhead: ${line}\n`)

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      connections: { type: 'string', default: '8' },
      events: { type: 'string', default: '20000' },
      window: { type: 'string', default: '64' },
      'queries-seconds': { type: 'string', default: '8' },
      limit: { type: 'string', default: '100' },
      recipients: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '3' },
      swap: { type: 'string', default: 'mock' },
      'payment-threshold': { type: 'string', default: '200000' },
      early: { type: 'string', default: '50' },
      'sign-threads': { type: 'string', default: String(cpus().length) },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return 'help'
  const num = (name: string, min: number): number => {
    const raw = (values as Record<string, unknown>)[name] as string
    const n = Number(raw)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`)
    return Math.floor(n)
  }
  if (values.swap !== 'mock' && values.swap !== 'soft')
    throw new Error('--swap must be mock or soft')
  return {
    connections: num('connections', 1),
    events: num('events', 2),
    window: num('window', 1),
    queriesSeconds: num('queries-seconds', 1),
    limit: num('limit', 1),
    recipients: num('recipients', 1),
    rounds: num('rounds', 1),
    swap: values.swap,
    paymentThreshold: num('payment-threshold', 1),
    early: Math.min(100, num('early', 0)),
    signThreads: num('sign-threads', 0),
    ...(values.out === undefined ? {} : { out: values.out }),
  }
}

/** Starts a node with its inbox free or metered; HANSA_* reach it through the environment. */
async function startNodeIn(mode: Mode, o: Options): Promise<SpawnedNode> {
  const env: Record<string, string> = {
    HANSA_INBOX_ACCESS: mode,
    HANSA_BILLING_METERED_SWAP: o.swap,
    HANSA_BILLING_METERED_PAYMENT_THRESHOLD: String(o.paymentThreshold),
  }
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
  Object.assign(process.env, env)
  try {
    return await spawnNode({ log: (line) => process.stderr.write(`node | ${line}\n`) })
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/**
 * Each connection's payer is the SDK's SwapPayer: it books what the node serves it, priced from
 * the node's signed terms — every gift wrap the node stored (OK true, not a duplicate) and
 * every query that may return mail, with the bytes of the events it got — and sends a cheque
 * once its debt reaches `early` percent before the payment threshold. It reads the frames
 * beside the phase that owns the socket (a second listener, and a wrapper around `send`), so
 * relay-load's phases run unchanged.
 */
async function attachPayers(
  url: string,
  sockets: readonly RelaySocket[],
  payers: readonly KeyPair[],
  earlyPercent: number,
) {
  const stats = { cheques: 0, credited: 0n, errors: [] as string[] }
  const pending = new Set<Promise<unknown>>()
  const counted = new WeakSet<object>()
  const detach: Array<() => void> = []
  for (let c = 0; c < sockets.length; c++) {
    const socket = sockets[c]!
    const payer = await SwapPayer.connect({
      nodeUrl: url,
      secretKey: new Uint8Array(Buffer.from(payers[c]!.sk, 'hex')),
      earlyPercent,
    })
    const giftWraps = new Map<string, number>() // event id → bytes, until its OK
    const charged = new Set<string>() // subscription ids whose answer is charged
    const bytes = new Map<string, number>() // bytes of the events received, per subscription
    const settle = () => {
      if (payer.due() === 0n) return
      const p = payer
        .settle()
        .then((receipt) => {
          // Calls while a cheque is on its way share its receipt: count each cheque once.
          if (!receipt || counted.has(receipt)) return
          counted.add(receipt)
          stats.cheques++
          stats.credited += BigInt(receipt.credited)
        })
        .catch((err: Error) => {
          if (stats.errors.length < 5) stats.errors.push(err.message)
        })
      pending.add(p)
      p.finally(() => pending.delete(p))
    }
    const send = socket.send.bind(socket)
    socket.send = (text: string) => {
      if (text.startsWith('["EVENT",')) {
        const m = /"id":"([0-9a-f]{64})".*?"kind":(\d+)/.exec(text.slice(0, 300))
        if (m && m[2] === '1059') giftWraps.set(m[1]!, Buffer.byteLength(text) - 10)
      } else if (text.startsWith('["REQ",')) {
        const comma = text.indexOf(',', 7)
        const subId = JSON.parse(text.slice(7, comma)) as string
        const filter = JSON.parse(text.slice(comma + 1, -1)) as { kinds?: number[] }
        // The node's rule: a query that may return gift wraps, on an authenticated connection.
        if (!filter.kinds || filter.kinds.includes(1059)) {
          charged.add(subId)
          bytes.set(subId, 0)
        }
      }
      send(text)
    }
    const ws = (socket as unknown as { ws: { on(e: string, f: (d: Buffer) => void): void } }).ws
    const onMessage = (data: Buffer) => {
      if (data[2] === 0x45 && data[3] === 0x56) {
        // ["EVENT","<sub>",<raw>]
        const end = data.indexOf(0x22, 10)
        const subId = data.toString('utf8', 10, end)
        const sofar = bytes.get(subId)
        if (sofar !== undefined) bytes.set(subId, sofar + data.length - (end + 2) - 1)
      } else if (data[2] === 0x45 && data[3] === 0x4f) {
        // ["EOSE","<sub>"]
        const subId = data.toString('utf8', 9, data.length - 2)
        if (charged.delete(subId)) {
          payer.recordQuery({ bytes: bytes.get(subId) ?? 0 })
          bytes.delete(subId)
          settle()
        }
      } else if (data[2] === 0x4f && data[3] === 0x4b) {
        // ["OK","<id>",true,"…"]
        const id = data.toString('latin1', 7, 71)
        const size = giftWraps.get(id)
        if (size === undefined) return
        giftWraps.delete(id)
        const text = data.toString('latin1', 73, 90)
        if (text.startsWith('true') && !text.includes('duplicate:')) {
          payer.recordEvent({ bytes: size })
          settle()
        }
      } else if (data[2] === 0x43) {
        // ["CLOSED","<sub>",…]
        const subId = data.toString('utf8', 11, data.indexOf(0x22, 11))
        charged.delete(subId)
        bytes.delete(subId)
      }
    }
    ws.on('message', onMessage)
    detach.push(() => {
      socket.send = send
    })
  }
  return {
    stats,
    async stop() {
      for (const d of detach) d()
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}

type Run = {
  mode: Mode
  ingest: Pick<
    IngestResult,
    'events' | 'accepted' | 'refused' | 'seconds' | 'eventsPerSecond' | 'okLatencyMs'
  > & {
    cpu: CpuUse
  }
  query: {
    queries: number
    queriesPerSecond: number
    eventsPerSecond: number
    refused: Record<string, number>
    latencyMsP50: number
    latencyMsP99: number
    cpu: CpuUse
  }
  billing?: {
    chequesSent: number
    creditedMsat: string
    payerErrors: string[]
    received: string
    devTax: string
    peersOutOfBounds: number
  }
}

async function runMode(
  mode: Mode,
  o: Options,
  signer: Signer,
  corpus: {
    events: Parameters<typeof runIngest>[0]['events']
    keys: ReturnType<typeof makeKeys>
    now: number
  },
  payers: readonly KeyPair[],
): Promise<Run> {
  say(`${mode}: starting a node`)
  const node = await startNodeIn(mode, o)
  let sockets: RelaySocket[] = []
  try {
    sockets = await openSockets(node.url, o.connections)
    // Each connection authenticates first as its payer (its account), then as the recipients
    // it will read mail for.
    const recipientsBySocket: string[][] = []
    for (let c = 0; c < sockets.length; c++) {
      const own = await authenticate(sockets[c]!, node.url, [payers[c]!], signer)
      if (own.accepted.length !== 1)
        throw new Error(`AUTH as payer refused: ${own.errors.join('; ')}`)
      const dealt = corpus.keys.recipients.filter((_, r) => r % sockets.length === c)
      recipientsBySocket.push((await authenticate(sockets[c]!, node.url, dealt, signer)).accepted)
    }
    const payerLoop =
      mode === 'metered' ? await attachPayers(node.url, sockets, payers, o.early) : undefined
    say(`${mode}: ingest of ${corpus.events.length} events`)
    const meterIngest = startCpuMeter(node.pid)
    const ingest = await runIngest({ sockets, events: corpus.events, rate: 0, window: o.window })
    const ingestCpu = meterIngest()
    say(`${mode}: ${ingest.eventsPerSecond} events/s; queries for ${o.queriesSeconds} s`)
    await sleep(1000)
    const meterQuery = startCpuMeter(node.pid)
    const query: QueryResult = await runQueries({
      sockets,
      plan: {
        recipientsBySocket,
        authors: corpus.keys.authors.map((a) => a.pk),
        since: { from: corpus.now - NOTE_WINDOW_SECONDS, to: corpus.now - 60 },
        limit: o.limit,
      },
      seconds: o.queriesSeconds,
      window: 1,
    })
    const queryCpu = meterQuery()
    say(`${mode}: ${query.queriesPerSecond} queries/s`)
    await payerLoop?.stop()
    const refused: Record<string, number> = {}
    for (const k of ['byP', 'byAuthor', 'byKindSince'] as const) {
      for (const [prefix, n] of Object.entries(query[k].refused ?? {})) {
        refused[prefix] = (refused[prefix] ?? 0) + n
      }
    }
    const all = [query.byP, query.byAuthor, query.byKindSince]
    const run: Run = {
      mode,
      ingest: {
        events: ingest.events,
        accepted: ingest.accepted,
        refused: ingest.refused,
        seconds: ingest.seconds,
        eventsPerSecond: ingest.eventsPerSecond,
        okLatencyMs: ingest.okLatencyMs,
        cpu: ingestCpu,
      },
      query: {
        queries: query.queries,
        queriesPerSecond: query.queriesPerSecond,
        eventsPerSecond: query.eventsPerSecond,
        refused,
        latencyMsP50: Math.max(...all.map((q) => q.latencyMs.p50)),
        latencyMsP99: Math.max(...all.map((q) => q.latencyMs.p99)),
        cpu: queryCpu,
      },
    }
    if (payerLoop) {
      const books = await getBilling(
        node.url,
        readKeyFile(join(node.dataDir, 'node.key')).secretKey,
      )
      run.billing = {
        chequesSent: payerLoop.stats.cheques,
        creditedMsat: payerLoop.stats.credited.toString(),
        payerErrors: payerLoop.stats.errors,
        received: books.totals.received,
        devTax: books.totals.devTax,
        peersOutOfBounds: books.swap?.outOfBounds.length ?? 0,
      }
    }
    return run
  } finally {
    await Promise.all(sockets.map((s) => s.close()))
    await node.stop()
  }
}

/** The median of the runs of one mode (the mean of the middle two for an even count). */
const median = (xs: number[], decimals = 0) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const m = Math.floor(s.length / 2)
  const scale = 10 ** decimals
  return Math.round((s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) * scale) / scale
}
/** How much more `metered` costs than `free`, in percent (null when unknown). */
const more = (free: number, metered: number) =>
  Number.isFinite(free) && free > 0 && Number.isFinite(metered)
    ? Math.round(((metered - free) / free) * 1000) / 10
    : null
const overhead = (free: number, metered: number) =>
  free === 0 ? null : Math.round(((free - metered) / free) * 1000) / 10

async function main(argv: string[]): Promise<number> {
  let o: Options | 'help'
  try {
    o = parseOptions(argv)
  } catch (err) {
    process.stderr.write(`metered-overhead: ${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if (o === 'help') {
    process.stdout.write(HELP)
    return 0
  }
  const startedAt = new Date().toISOString()
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100)
  const signer = await loadSigner('auto')
  const keys = makeKeys(signer, 200, o.recipients)
  const now = Math.floor(Date.now() / 1000)
  say(`signing ${o.events} events (${signer.backend})`)
  const corpus = await buildCorpus({ keys, count: o.events, now, threads: o.signThreads, signer })
  const payers = Array.from({ length: o.connections }, () => {
    const sk = signer.secretKey()
    return { sk: Buffer.from(sk).toString('hex'), pk: signer.publicKey(sk) }
  })
  const order: Mode[] = []
  for (let r = 0; r < o.rounds; r++) {
    order.push(...(r % 2 === 0 ? (['free', 'metered'] as const) : (['metered', 'free'] as const)))
  }
  const runs: Run[] = []
  for (const mode of order) {
    runs.push(await runMode(mode, o, signer, { events: corpus.events, keys, now }, payers))
    await sleep(1000)
  }
  const of = (mode: Mode) => runs.filter((r) => r.mode === mode)
  // CPU per request: the node's CPU time (all threads) per event acknowledged, and its main
  // thread's per query answered (queries run there). On a machine other work shares, these
  // move far less than throughput does: they are what metering costs the node itself.
  const perRequest = (percent: number | undefined, perSecond: number) =>
    percent === undefined || perSecond === 0 ? Number.NaN : (percent * 10) / perSecond
  const summary = (mode: Mode) => ({
    ingestEventsPerSecond: median(of(mode).map((r) => r.ingest.eventsPerSecond)),
    queriesPerSecond: median(of(mode).map((r) => r.query.queriesPerSecond)),
    queryEventsPerSecond: median(of(mode).map((r) => r.query.eventsPerSecond)),
    nodeCpuMicrosecondsPerEvent: median(
      of(mode).map((r) => 1000 * perRequest(r.ingest.cpu.nodePercent, r.ingest.eventsPerSecond)),
      1,
    ),
    nodeMainThreadMicrosecondsPerQuery: median(
      of(mode).map(
        (r) => 1000 * perRequest(r.query.cpu.nodeMainThreadPercent, r.query.queriesPerSecond),
      ),
      1,
    ),
  })
  const free = summary('free')
  const metered = summary('metered')
  // A run too short for any payer to pay measures metering without its cheques: say so.
  const warnings = of('metered')
    .flatMap((r, i) => (r.billing?.chequesSent === 0 ? [i + 1] : []))
    .map(
      (n) =>
        `metered run ${n} sent no cheque: no payer's debt came within --early ${o.early} % of --payment-threshold ${o.paymentThreshold} msat; more --events or a lower threshold put the cheques' cost in the figures`,
    )
  const output = {
    bench: 'metered-overhead',
    version: 1,
    startedAt,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      /** At the start; each run's cpu.otherPercent says how busy the machine was during it. */
      loadAverage: loadAtStart,
    },
    config: { ...o, order },
    free,
    metered,
    /** Throughput lost, in percent of free mode's (negative: metered was faster). */
    overheadPercent: {
      ingest: overhead(free.ingestEventsPerSecond, metered.ingestEventsPerSecond),
      queries: overhead(free.queriesPerSecond, metered.queriesPerSecond),
      queryEvents: overhead(free.queryEventsPerSecond, metered.queryEventsPerSecond),
    },
    /** Node CPU per request, metered against free, in percent more. */
    cpuOverheadPercent: {
      ingest: more(free.nodeCpuMicrosecondsPerEvent, metered.nodeCpuMicrosecondsPerEvent),
      queries: more(
        free.nodeMainThreadMicrosecondsPerQuery,
        metered.nodeMainThreadMicrosecondsPerQuery,
      ),
    },
    warnings,
    runs,
  }
  const line = JSON.stringify(output)
  process.stdout.write(`${line}\n`)
  if (o.out) appendFileSync(o.out, `${line}\n`)
  say(
    `free ${free.ingestEventsPerSecond} events/s, ${free.queriesPerSecond} queries/s; metered ${metered.ingestEventsPerSecond} events/s, ${metered.queriesPerSecond} queries/s; throughput overhead ingest ${output.overheadPercent.ingest} %, queries ${output.overheadPercent.queries} %; node CPU per request +${output.cpuOverheadPercent.ingest} % (ingest), +${output.cpuOverheadPercent.queries} % (queries)`,
  )
  const refusedAny = runs.some(
    (r) => Object.keys(r.ingest.refused).length > 0 || Object.keys(r.query.refused).length > 0,
  )
  if (refusedAny) say('some requests were refused: see runs[].ingest.refused / query.refused')
  for (const warning of warnings) say(`warning: ${warning}`)
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(
      `metered-overhead: internal error, please report it:\n${(err as Error).stack}\n`,
    )
    process.exitCode = 1
  },
)
