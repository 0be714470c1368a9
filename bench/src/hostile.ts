// hostile: 100 hostile connections against one node, and one well-behaved client beside them.
// It starts a node with its default limits (`--spawn` style, `hansa node start`), stores a
// corpus, then for `--seconds` runs, all at once:
//   non-readers   subscribe to everything and stop reading (their TCP socket is paused) while
//                 a publisher floods matching 16 KB events
//   tag floods    subscribe with filters of 1,000 tag values and publish events with 2,000 tags
//   sub re-use    re-send REQ with the same subscription id as fast as the socket takes it
//   COUNT scans   COUNT with ten broad filters, again and again
// (25 connections each, all from 127.0.0.2: one attacker), while the well-behaved client sends one REQ every 50 ms and times
// REQ → EOSE. The node's resident memory is sampled from /proc every 100 ms.
// Prints one JSON line: peak and final RSS, the client's latency percentiles, what the hostile
// connections got back (CLOSED reasons, closes).
//
//   node bench/dist/hostile.js [--seconds 30] [--connections 100] [--record]
import { appendFileSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { Worker } from 'node:worker_threads'
import WebSocket from 'ws'
import { spawnNode } from './node-process.js'
import { summarize } from './percentiles.js'
import { benchArgs } from './bench-args.js'

const args = benchArgs(import.meta.url, {
  seconds: { type: 'string', default: '30' },
  connections: { type: 'string', default: '100' },
  record: { type: 'boolean', default: false },
  groups: { type: 'string', default: 'non-reader,tag-flood,sub-reuse,count-scan' },
})
const seconds = Number(args.seconds)
const hostileCount = Number(args.connections)
const say = (line: string) => process.stderr.write(`hostile | ${line}\n`)

/** The node's resident memory, and its part that is anonymous (heap) rather than mapped files. */
function rss(pid: number): { total: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { total: kb('VmRSS') * 1024, anon: kb('RssAnon') * 1024 }
}

/** Hostile connections come from 127.0.0.2 (one attacker's address), the others from 127.0.0.1. */
async function open(url: string, from = '127.0.0.1'): Promise<WebSocket> {
  const ws = new WebSocket(url, { localAddress: from })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.on('error', () => {})
  return ws
}

const tally = new Map<string, number>()
let finished = false
const count = (what: string) => {
  if (!finished) tally.set(what, (tally.get(what) ?? 0) + 1)
}
const watch = (ws: WebSocket, role: string) => {
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as unknown[]
    if (m[0] === 'CLOSED') count(`${role}: CLOSED ${String(m[2]).split(':')[0]}`)
    else if (m[0] === 'OK' && m[2] === false)
      count(`${role}: OK false ${String(m[3]).split(':')[0]}`)
  })
  ws.on('close', () => count(`${role}: connection closed by the node`))
}

// The node's default limits: they are what is measured (spawnNode turns them off otherwise).
const node = await spawnNode({ env: { HANSA_LOG_LEVEL: 'warn' }, limits: 'default' })
say(`node ${node.url} pid ${node.pid}`)
const stopAt = () => Date.now() > deadline
let deadline = Number.POSITIVE_INFINITY

// A stored corpus for the well-behaved client and the scans: 2,000 notes by 20 authors.
const authors = Array.from({ length: 20 }, () => generateSecretKey())
const seeder = await open(node.url)
{
  let acked = 0
  seeder.on('message', (d) => {
    if (String(d).startsWith('["OK"')) acked++
  })
  const now = Math.floor(Date.now() / 1000)
  for (let i = 0; i < 2000; i++) {
    const e = finalizeEvent(
      {
        kind: 1,
        content: `note ${i} ${'x'.repeat(400)}`,
        tags: [['t', `topic${i % 50}`]],
        created_at: now - i,
      },
      authors[i % authors.length]!,
    )
    seeder.send(JSON.stringify(['EVENT', e]))
    if (i % 100 === 99) while (acked < i - 200) await new Promise((r) => setTimeout(r, 5))
  }
  while (acked < 1950) await new Promise((r) => setTimeout(r, 20))
  say(`stored ${acked} events`)
}

// Pre-signed floods (signing is the attacker's cost, not timed).
const flooder = generateSecretKey()
const bigEvents = Array.from({ length: 400 }, (_, i) =>
  JSON.stringify([
    'EVENT',
    finalizeEvent(
      {
        kind: 1,
        content: `${i}${'y'.repeat(16_000)}`,
        tags: [['t', 'flood']],
        created_at: Math.floor(Date.now() / 1000),
      },
      flooder,
    ),
  ]),
)
const tagEvents = Array.from({ length: 100 }, (_, i) =>
  JSON.stringify([
    'EVENT',
    finalizeEvent(
      {
        kind: 1,
        content: `tags ${i}`,
        tags: Array.from({ length: 2000 }, (_, j) => ['t', `heavy-${i}-${j}`]),
        created_at: Math.floor(Date.now() / 1000),
      },
      flooder,
    ),
  ]),
)
say('pre-signed the floods')

const groups = new Set(args.groups.split(','))
const per = Math.floor(hostileCount / groups.size)
const perGroup = (g: string) => (groups.has(g) ? per : 0)
const sockets: WebSocket[] = []
const loops: Promise<void>[] = []
/** Each hostile loop starts once every connection is open. */
const starters: Array<() => Promise<void>> = []
const pause = (ws: WebSocket) => (ws as unknown as { _socket: { pause(): void } })._socket.pause()

for (let i = 0; i < perGroup('non-reader'); i++) {
  const ws = await open(node.url, '127.0.0.2')
  sockets.push(ws)
  watch(ws, 'non-reader')
  ws.send(JSON.stringify(['REQ', 'all', { kinds: [1], limit: 500 }]))
  ws.send(JSON.stringify(['REQ', 'flood', { '#t': ['flood'] }]))
  setTimeout(() => pause(ws), 200)
}
for (let i = 0; i < perGroup('tag-flood'); i++) {
  const ws = await open(node.url, '127.0.0.2')
  sockets.push(ws)
  watch(ws, 'tag-flood')
  for (let s = 0; s < 5; s++) {
    ws.send(
      JSON.stringify([
        'REQ',
        `heavy${s}`,
        { '#t': Array.from({ length: 1000 }, (_, j) => `heavy-${s}-${j}`) },
      ]),
    )
  }
  starters.push(async () => {
    let k = i
    while (!stopAt() && ws.readyState === ws.OPEN) {
      // as fast as the node reads it (the attacker's socket buffer, not its memory, fills)
      if (ws.bufferedAmount < 1 << 20) ws.send(tagEvents[k++ % tagEvents.length]!)
      await new Promise((r) => setTimeout(r, 5))
    }
  })
}
for (let i = 0; i < perGroup('sub-reuse'); i++) {
  const ws = await open(node.url, '127.0.0.2')
  sockets.push(ws)
  watch(ws, 'sub-reuse')
  starters.push(async () => {
    let k = 0
    while (!stopAt() && ws.readyState === ws.OPEN) {
      if (ws.bufferedAmount < 1 << 20) {
        ws.send(
          JSON.stringify(['REQ', 'same', { kinds: [1], '#t': [`topic${k++ % 50}`], limit: 100 }]),
        )
      }
      await new Promise((r) => setTimeout(r, 2))
    }
  })
}
for (let i = 0; i < perGroup('count-scan'); i++) {
  const ws = await open(node.url, '127.0.0.2')
  sockets.push(ws)
  watch(ws, 'count-scan')
  starters.push(async () => {
    let k = 0
    while (!stopAt() && ws.readyState === ws.OPEN) {
      const filters = Array.from({ length: 10 }, (_, j) => ({ kinds: [1, 7, j], since: j }))
      ws.send(JSON.stringify(['COUNT', `c${k++}`, ...filters]))
      await new Promise((r) => setTimeout(r, 5))
    }
  })
}
// The flood that the non-readers' subscriptions match.
const publisher = await open(node.url, '127.0.0.2')
watch(publisher, 'publisher')
if (perGroup('non-reader') > 0) {
  starters.push(async () => {
    let k = 0
    while (!stopAt() && publisher.readyState === publisher.OPEN) {
      if (publisher.bufferedAmount < 1 << 20) publisher.send(bigEvents[k++ % bigEvents.length]!)
      await new Promise((r) => setTimeout(r, 5))
    }
  })
}
say(`${sockets.length} hostile connections open; running ${seconds} s`)
deadline = Date.now() + seconds * 1000
for (const start of starters) loops.push(start())

// The well-behaved client, on its own thread (its own event loop: the flooders' sending does
// not delay its timing).
const goodWorker = new Worker(new URL('./hostile-client.js', import.meta.url), {
  workerData: { url: node.url, authors: authors.map((a) => getPublicKey(a)), seconds },
})
const goodLoop = new Promise<{ latencies: number[]; failed: number }>((resolve, reject) => {
  goodWorker.once('message', resolve)
  goodWorker.once('error', reject)
})
let peak = 0
let peakAnon = 0
const sampler = setInterval(() => {
  try {
    const now = rss(node.pid)
    peak = Math.max(peak, now.total)
    peakAnon = Math.max(peakAnon, now.anon)
  } catch {}
}, 100)
const { latencies, failed: goodFailures } = await goodLoop
deadline = 0
await Promise.all(loops)
clearInterval(sampler)
const finalRss = rss(node.pid)
finished = true
for (const ws of sockets) ws.terminate()
publisher.close()
seeder.close()
await node.stop()

const result = {
  bench: 'hostile',
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version },
  options: { seconds, hostileConnections: sockets.length, groups: [...groups] },
  nodeRss: {
    peakMiB: Math.round(peak / 1048576),
    peakAnonMiB: Math.round(peakAnon / 1048576),
    finalMiB: Math.round(finalRss.total / 1048576),
    finalAnonMiB: Math.round(finalRss.anon / 1048576),
  },
  wellBehaved: { queries: latencies.length, failed: goodFailures, latencyMs: summarize(latencies) },
  hostileAnswers: Object.fromEntries([...tally.entries()].sort()),
}
const line = JSON.stringify(result)
process.stdout.write(`${line}\n`)
if (args.record) {
  appendFileSync(new URL('../results/hostile.jsonl', import.meta.url), `${line}\n`)
}
