// Replication between member nodes (docs/replication.md), measured on a 3-node federation of
// `hansa node start` processes laid out as `hansa devnet` lays its nodes out (hanseatic runs
// node-1 and node-2, lubeck node-3; every node runs the inbox), on this machine. One JSON line
// on stdout; progress on stderr.
//
//   propagation  gift wraps offered at a fixed rate to the three nodes in turn; each node holds
//                a live subscription (authenticated as the recipient); the time from sending to
//                the event's arrival on each OTHER member: p50/p99/max (target p99 < 1 s)
//   overhead     the ingest benchmark's corpus (half notes, half gift wraps) published to a
//                node with replication off (a standalone node) and to node-1 (on: it pushes
//                every gift wrap to two peers), in one run; events/s and the ratio (< 10 %)
//   catch-up     node-3 stopped; `--diff` gift wraps published to node-1; node-3 started: the
//                seconds until it holds them all, and its catch-up's own duration and bytes
//                (target < 30 s for 100,000)
//   one-missing  node-3 stopped again; one gift wrap published to node-1; node-3 started: the
//                negentropy bytes (both ways) of the catch-up that found it (target < 10 kB)
//
//   npm run build && node bench/dist/replication.js [--diff 100000] [--out FILE]
import { execFileSync, spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { PeerSocket, createKeyFile } from '@hansa/node'
import { type Manifest, signManifest } from '@hansa/protocol'
import { processCpuSeconds } from './cpu.js'
import { buildCorpus, giftWrapTemplate, makeKeys } from './event-corpus.js'
import { runIngest } from './ingest.js'
import { BENCH_NODE_ENV, DEFAULT_CLI, type SpawnedNode, spawnNode } from './node-process.js'
import { Samples, round3 } from './percentiles.js'
import { loadSigner } from './signer.js'
import WebSocket from 'ws'
import { RelaySocket, openSockets } from './ws-client.js'
import { benchArgs } from './bench-args.js'

const args = benchArgs(import.meta.url, {
  diff: { type: 'string', default: '100000' },
  'propagation-events': { type: 'string', default: '300' },
  'propagation-rate': { type: 'string', default: '30' },
  'ingest-events': { type: 'string', default: '10000' },
  /**
   * Events a second offered in the overhead rounds (0: as fast as the node acknowledges).
   * A fixed rate both nodes keep up with compares like with like: flat out, the node with
   * peers on the same machine gets smaller batches (its load generator shares a core with
   * them) and each event costs more for that alone.
   */
  'ingest-rate': { type: 'string', default: '1000' },
  out: { type: 'string' },
  /** A folder: each member node writes a V8 CPU profile there (`node --cpu-prof`). */
  'cpu-prof': { type: 'string' },
  /**
   * The overhead rounds with the node under test (node-1, or the standalone node) on core 0
   * and everything else (its two peers, the load generator) on core 1 (`taskset`), so its CPU
   * per event is not inflated by the peers' work on the same core. `--pin false` to share.
   */
  pin: { type: 'string', default: 'true' },
})
const DIFF = Number(args.diff)
const PROPAGATION = Number(args['propagation-events'])
const RATE = Number(args['propagation-rate'])
const INGEST = Number(args['ingest-events'])
const INGEST_RATE = Number(args['ingest-rate'])

const say = (line: string) => process.stderr.write(`replication | ${line}\n`)
const now = () => Math.floor(Date.now() / 1000)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const a = server.address()
      server.close(() => resolve(typeof a === 'object' && a ? a.port : 0))
    })
  })
}

type Member = { dir: string; port: number; url: string; pubkey: string; secretKey: Uint8Array }
type Running = { stop(): Promise<void>; kill(): void; startedAt: number; pid: number }

/** `hansa node start` for a member, on its fixed port; resolves once it listens. */
function startMember(m: Member, chainFile: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [
      ...(args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : []),
      DEFAULT_CLI,
      'node',
      'start',
      '--data-dir',
      m.dir,
      '--port',
      String(m.port),
    ],
    {
      env: {
        ...process.env,
        ...BENCH_NODE_ENV,
        HANSA_FEDERATION_CHAIN_FILE: chainFile,
        HANSA_DISCOVERY_ENABLED: 'false',
        HANSA_VERIFY_THREADS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  createInterface({ input: child.stderr! }).on('line', (l) => say(`${m.port} | ${l}`))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/Hansa node running at/.test(line)) {
        resolve({
          pid: child.pid!,
          kill: () => {
            if (child.exitCode === null) child.kill('SIGKILL')
          },
          startedAt: performance.now(),
          async stop() {
            child.kill('SIGTERM')
            await exited
          },
        })
      }
    })
    child.once('exit', (code) => reject(new Error(`node on ${m.port} exited (${code})`)))
  })
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url.replace(/^ws/, 'http')}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line ? Number(line.split(' ').pop()) : Number.NaN
}

type SyncStatus = {
  peers: Array<{
    pubkey: string
    connected: boolean
    lastReconcile: {
      bytes: number
      durationMs: number
      fetched: number
      error: string | null
    } | null
  }>
}
const syncStatus = async (url: string) =>
  (await (await fetch(`${url.replace(/^ws/, 'http')}/federation/sync-status`)).json()) as SyncStatus

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms: number) {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined && ok(v)) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

async function main() {
  const root = mkdtempSync(join(tmpdir(), 'hansa-bench-replication-'))
  const signer = await loadSigner()
  const recipientSk = signer.secretKey()
  const recipient = signer.publicKey(recipientSk)
  // Gift wraps signed by a pool of one-time-looking keys (a fresh key per wrap doubles the
  // signing time, which is not what is measured).
  const wrapKeys = Array.from({ length: 64 }, () => signer.secretKey())
  let nextKey = 0
  const wrap = () => {
    const e = signer.finalize(
      giftWrapTemplate(Math.random, now(), recipient),
      wrapKeys[nextKey++ % wrapKeys.length]!,
    )
    return {
      id: e.id,
      kind: e.kind,
      message: `["EVENT",${JSON.stringify({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig })}]`,
    }
  }

  // ---- the federation -----------------------------------------------------------------
  const members: Member[] = []
  for (let i = 0; i < 3; i++) {
    const dir = join(root, `node-${i + 1}`)
    mkdirSync(dir, { recursive: true })
    const key = createKeyFile(join(dir, 'node.key'))
    const port = await freePort()
    members.push({ dir, port, url: `ws://127.0.0.1:${port}`, ...key })
  }
  const guardian = signer.secretKey()
  const entry = (m: Member) => ({ pubkey: m.pubkey, urls: [m.url], services: ['inbox'] })
  const genesis: Manifest = {
    hansa: 1,
    name: 'Bench League',
    version: 1,
    previous: null,
    issuedAt: now(),
    expiresAt: now() + 30 * 86400,
    guardians: [{ pubkey: signer.publicKey(guardian), name: 'ana' }],
    threshold: 1,
    coordinators: [
      {
        pubkey: signer.publicKey(signer.secretKey()),
        alias: 'hanseatic',
        description: 'node-1, node-2',
        contact: {},
        nodes: [entry(members[0]!), entry(members[1]!)],
      },
      {
        pubkey: signer.publicKey(signer.secretKey()),
        alias: 'lubeck',
        description: 'node-3',
        contact: {},
        nodes: [entry(members[2]!)],
      },
    ],
    services: { inbox: { retentionDays: 30 } },
    devFund: { recipient: signer.publicKey(guardian), suggestedRate: 0.2 },
  }
  const chainFile = join(root, 'chain.json')
  writeFileSync(
    chainFile,
    JSON.stringify([{ manifest: genesis, signatures: [signManifest(genesis, guardian)] }]),
  )
  const running = await Promise.all(members.map((m) => startMember(m, chainFile)))
  // Whatever happens, the nodes stop with the benchmark.
  const stopAll = () => Promise.all(running.map((r) => r.stop().catch(() => {})))
  process.once('exit', () => {
    for (const r of running) r.kill()
  })
  for (const m of members) {
    await until(
      'peers connected',
      () => syncStatus(m.url),
      (s) => s.peers.length === 2 && s.peers.every((p) => p.connected),
      60_000,
    )
  }
  say('federation up: 3 nodes, every link connected')

  // ---- propagation ----------------------------------------------------------------------
  const arrivals = members.map(() => new Map<string, number>())
  const listeners = await Promise.all(
    members.map(
      (m, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(m.url)
          ws.on('error', reject)
          ws.on('message', (data) => {
            const msg = JSON.parse(data.toString()) as unknown[]
            if (msg[0] === 'EVENT') {
              arrivals[i]!.set((msg[2] as { id: string }).id, performance.now())
            } else if (msg[0] === 'AUTH') {
              const auth = signer.finalize(
                {
                  kind: 22242,
                  created_at: now(),
                  tags: [
                    ['relay', m.url],
                    ['challenge', msg[1] as string],
                  ],
                  content: '',
                },
                recipientSk,
              )
              ws.send(JSON.stringify(['AUTH', auth]))
            } else if (msg[0] === 'OK') {
              ws.send(
                JSON.stringify(['REQ', 'live', { kinds: [1059], '#p': [recipient], limit: 0 }]),
              )
            } else if (msg[0] === 'EOSE') resolve(ws)
          })
        }),
    ),
  )
  await sleep(500)
  const publishers = await Promise.all(members.map((m) => RelaySocket.open(m.url)))
  const sent: Array<{ id: string; origin: number; at: number }> = []
  const batch = Array.from({ length: PROPAGATION }, wrap)
  const t0 = performance.now()
  for (let n = 0; n < batch.length; n++) {
    const wait = t0 + (n * 1000) / RATE - performance.now()
    if (wait > 0) await sleep(wait)
    const origin = n % 3
    sent.push({ id: batch[n]!.id, origin, at: performance.now() })
    publishers[origin]!.send(batch[n]!.message)
  }
  await until(
    'every event on every member',
    async () => sent.every((s) => arrivals.every((a) => a.has(s.id))),
    (v) => v,
    30_000,
  ).catch(() => false)
  const latency = new Samples()
  let missing = 0
  for (const s of sent) {
    for (let i = 0; i < 3; i++) {
      if (i === s.origin) continue
      const at = arrivals[i]!.get(s.id)
      if (at === undefined) missing++
      else latency.push(at - s.at)
    }
  }
  const propagation = {
    events: PROPAGATION,
    ratePerSecond: RATE,
    deliveries: latency.length,
    missing,
    latencyMs: latency.summary(),
  }
  say(`propagation: p99 ${propagation.latencyMs.p99} ms over ${latency.length} deliveries`)
  for (const s of publishers) await s.close()
  for (const ws of listeners) ws.close()

  // ---- ingest overhead: replication off (standalone node) vs on (node-1, two peers) ------
  // Pinning (see `--pin`): each process and all its threads; threads made later inherit it.
  const canPin =
    args.pin !== 'false' &&
    cpus().length >= 2 &&
    (() => {
      try {
        execFileSync('taskset', ['-V'], { stdio: 'ignore' })
        return true
      } catch {
        return false
      }
    })()
  const pin = (pid: number, cores: string) => {
    if (canPin) execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' })
  }
  const keys = makeKeys(signer, 200, 100)
  const corpus = await buildCorpus({ keys, count: INGEST * 4, now: now(), onProgress: () => {} })
  // The node with replication off runs as the members do (one verify thread), standalone.
  process.env.HANSA_VERIFY_THREADS = '1'
  const standalone: SpawnedNode = await spawnNode({
    log: () => {},
    ...(args['cpu-prof'] ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] } : {}),
  })
  pin(standalone.pid, '0')
  pin(running[0]!.pid, '0')
  for (const r of running.slice(1)) pin(r.pid, '1')
  pin(process.pid, '1')
  const ingestOn = async (
    url: string,
    events: typeof corpus.events,
    pids: number[] = [],
    rate = INGEST_RATE,
  ) => {
    const sockets = await openSockets(url, 4)
    const cpu0 = pids.map((p) => processCpuSeconds(p) ?? Number.NaN)
    const result = await runIngest({ sockets, events, rate, window: 64 })
    const cpu = pids.map((p, i) => (processCpuSeconds(p) ?? Number.NaN) - cpu0[i]!)
    for (const s of sockets) await s.close()
    return { ...result, cpu }
  }
  // Two rounds, off and on alternating, so a change in the machine's load hits both alike.
  const rounds: Array<{
    off: Awaited<ReturnType<typeof ingestOn>>
    on: Awaited<ReturnType<typeof ingestOn>>
  }> = []
  for (let r = 0; r < 2; r++) {
    const part = (i: number) => corpus.events.slice(i * INGEST, (i + 1) * INGEST)
    const offRound = await ingestOn(standalone.url, part(r * 2), [standalone.pid])
    const onRound = await ingestOn(
      members[0]!.url,
      part(r * 2 + 1),
      running.map((p) => p.pid),
    )
    rounds.push({ off: offRound, on: onRound })
  }
  const sum = (xs: Array<Awaited<ReturnType<typeof ingestOn>>>) => ({
    accepted: xs.reduce((a, x) => a + x.accepted, 0),
    seconds: xs.reduce((a, x) => a + x.seconds, 0),
    cpu: [0, 1, 2].map((i) => xs.reduce((a, x) => a + (x.cpu[i] ?? 0), 0)),
    okLatencyMs: { p99: Math.max(...xs.map((x) => x.okLatencyMs.p99)) },
  })
  const offAll = sum(rounds.map((x) => x.off))
  const onAll = sum(rounds.map((x) => x.on))
  const off = { ...offAll, eventsPerSecond: offAll.accepted / offAll.seconds }
  const on = { ...onAll, eventsPerSecond: onAll.accepted / onAll.seconds }
  await standalone.stop()
  for (const pid of [running[0]!.pid, running[1]!.pid, running[2]!.pid, process.pid])
    pin(pid, '0,1')
  const usPerEvent = (seconds: number, n: number) => round3((seconds / n) * 1e6)
  const overhead = {
    events: INGEST,
    /** Node under test on core 0, its peers and the load generator on core 1. */
    pinned: canPin,
    offeredPerSecond: INGEST_RATE,
    rounds: 2,
    offEventsPerSecond: round3(off.eventsPerSecond),
    onEventsPerSecond: round3(on.eventsPerSecond),
    /** Throughput lost with the two peers verifying and storing on the same cores. */
    throughputCostPercent: round3((1 - on.eventsPerSecond / off.eventsPerSecond) * 100),
    /** The origin node's own CPU per acknowledged event: what the live path costs a node. */
    offNodeCpuUsPerEvent: usPerEvent(off.cpu[0]!, off.accepted),
    onNodeCpuUsPerEvent: usPerEvent(on.cpu[0]!, on.accepted),
    nodeCpuCostPercent: round3((on.cpu[0]! / on.accepted / (off.cpu[0]! / off.accepted) - 1) * 100),
    peersCpuUsPerEvent: [usPerEvent(on.cpu[1]!, on.accepted), usPerEvent(on.cpu[2]!, on.accepted)],
    offOkP99Ms: off.okLatencyMs.p99,
    onOkP99Ms: on.okLatencyMs.p99,
  }
  say(
    `overhead: off ${overhead.offEventsPerSecond}/s, on ${overhead.onEventsPerSecond}/s; node CPU ${overhead.offNodeCpuUsPerEvent} vs ${overhead.onNodeCpuUsPerEvent} µs/event (${overhead.nodeCpuCostPercent} %)`,
  )

  // ---- catch-up of DIFF events ------------------------------------------------------------
  await running[2]!.stop()
  say(`node-3 stopped; signing ${DIFF} gift wraps`)
  const diff = Array.from({ length: DIFF }, wrap)
  const ingest = await ingestOn(members[0]!.url, diff, [], 0)
  say(`published ${ingest.accepted} to node-1 (${round3(ingest.eventsPerSecond)}/s)`)
  const expected = await metric(members[0]!.url, 'hansa_stored_events')
  const peersCpu0 = [0, 1].map((i) => processCpuSeconds(running[i]!.pid) ?? Number.NaN)
  running[2] = await startMember(members[2]!, chainFile)
  const started = running[2]!.startedAt
  await until(
    'node-3 caught up',
    () => metric(members[2]!.url, 'hansa_stored_events'),
    (n) => n >= expected - INGEST,
    600_000,
  )
  // node-3 also lacks half of the overhead corpus' notes? No: notes are not replicated, so it
  // holds what node-1 holds less node-1's notes (INGEST / 2 of them).
  const caughtUpSeconds = (performance.now() - started) / 1000
  // CPU seconds the catch-up took, whatever else the machine ran meanwhile: node-3 (from its
  // start, so its own start-up is in) and the two peers that answered it.
  const node3Cpu = processCpuSeconds(running[2]!.pid) ?? Number.NaN
  const peersCpu = [0, 1].map(
    (i) => (processCpuSeconds(running[i]!.pid) ?? Number.NaN) - peersCpu0[i]!,
  )
  const status3 = await syncStatus(members[2]!.url)
  const catchUp = {
    diff: DIFF,
    secondsFromStart: round3(caughtUpSeconds),
    node3CpuSeconds: round3(node3Cpu),
    peersCpuSeconds: peersCpu.map(round3),
    reconciles: status3.peers.map((p) => p.lastReconcile),
  }
  say(`catch-up: ${catchUp.secondsFromStart} s from node-3's start to holding all`)

  // ---- one missing among all ----------------------------------------------------------------
  // The replicator's own NIP-77 client (PeerSocket.reconcile), authenticated as node-2 (a
  // member node: it sees every gift wrap), with node-1's whole set of gift wraps but one. (A
  // restart of node-3 would not do: node-1 keeps what it could not push to a peer that is down
  // and pushes it when the peer returns, so the catch-up finds nothing missing.)
  const wraps = new Map<string, number>()
  for (const e of [
    ...batch,
    ...corpus.events.slice(INGEST, 2 * INGEST),
    ...corpus.events.slice(3 * INGEST),
    ...diff,
  ]) {
    if (e.kind !== 1059) continue
    const ev = (JSON.parse(e.message) as [string, { id: string; created_at: number }])[1]
    wraps.set(ev.id, ev.created_at)
  }
  const peer = await PeerSocket.connect(members[0]!.url, 60_000)
  await peer.authenticate(members[1]!.secretKey, members[0]!.url)
  const all = [...wraps].map(([id, at]) => [at, id] as const)
  const full = await peer.reconcile({ kinds: [1059] }, all, 60_000)
  const dropped = all[Math.floor(all.length / 2)]!
  const minusOne = await peer.reconcile(
    { kinds: [1059] },
    all.filter((x) => x !== dropped),
    60_000,
  )
  peer.close()
  const oneMissing = {
    among: all.length,
    found: minusOne.need,
    expected: [dropped[1]],
    bytes: minusOne.bytes,
    rounds: minusOne.rounds,
    nothingMissingBytes: full.bytes,
    nothingMissingNeed: full.need.length,
  }
  say(`one missing: ${oneMissing.bytes} bytes`)

  await stopAll()
  rmSync(root, { recursive: true, force: true })
  const result = {
    bench: 'replication',
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      loadavg: loadavg().map(round3),
      node: process.version,
    },
    signer: signer.backend,
    propagation,
    overhead,
    catchUp,
    oneMissing,
  }
  const line = JSON.stringify(result)
  process.stdout.write(`${line}\n`)
  if (args.out) appendFileSync(args.out, `${line}\n`)
}

main().catch((err) => {
  process.stderr.write(`replication bench failed: ${err instanceof Error ? err.stack : err}\n`)
  process.exit(1)
})
