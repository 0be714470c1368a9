// connections: many idle WebSocket connections and many active ones held by one node. It
// starts a node (`hansa node start`, its default limits), opens `--idle` connections that
// never send anything (they only receive the node's AUTH challenge), spread over loopback
// source addresses 127.0.0.2… so each address stays within limits.maxConnectionsPerIp, and
// samples the node's resident memory before and after (from /proc): the difference over the
// count is the memory one idle connection costs. Then `--active` more connections, for
// `--seconds`, each keep a live subscription to its own tag, send a REQ every `--every`
// seconds (1; REQ → EOSE timed) and publish an event every fifth time (EVENT → OK timed), while the idle ones
// stay open. Prints one JSON line: RSS at each step, bytes per idle connection, the active
// clients' latency percentiles, and how many connections were refused or dropped.
//
// The node and this script each hold one file descriptor per connection: run it where the
// hard limit (`ulimit -Hn`) is above idle + active + a few hundred. Node raises its soft limit
// to the hard one at start.
//
//   node bench/dist/connections.js [--idle 10000] [--active 1000] [--seconds 20] [--every 1]
import { readFileSync } from 'node:fs'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { spawnNode } from './node-process.js'
import { summarize } from './percentiles.js'
import { benchArgs } from './bench-args.js'

const args = benchArgs(import.meta.url, {
  idle: { type: 'string', default: '10000' },
  active: { type: 'string', default: '1000' },
  seconds: { type: 'string', default: '20' },
  every: { type: 'string', default: '1' },
})
const idleCount = Number(args.idle)
const activeCount = Number(args.active)
const seconds = Number(args.seconds)
const everyMs = Number(args.every) * 1000
const say = (line: string) => process.stderr.write(`connections | ${line}\n`)

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8')
const kb = (text: string, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) * 1024
const memory = (pid: number) => {
  const s = status(pid)
  return { rss: kb(s, 'VmRSS'), anon: kb(s, 'RssAnon') }
}
const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1)

// The node's own limit per address (its default) decides how many share one source address.
const PER_ADDRESS = 150
const sourceOf = (i: number) =>
  `127.0.${1 + Math.floor(i / PER_ADDRESS / 250)}.${2 + (Math.floor(i / PER_ADDRESS) % 250)}`

let refused = 0
let dropped = 0
async function open(url: string, i: number): Promise<WebSocket | null> {
  const ws = new WebSocket(url, { localAddress: sourceOf(i), perMessageDeflate: false })
  const ok = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true))
    ws.once('error', () => resolve(false))
  })
  if (!ok) {
    refused++
    return null
  }
  ws.on('error', () => {})
  ws.on('close', () => dropped++)
  return ws
}

/** Opens `count` connections, `parallel` handshakes at a time. */
async function openMany(url: string, first: number, count: number, parallel = 100) {
  const sockets: WebSocket[] = []
  for (let start = 0; start < count; start += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - start) }, (_, j) =>
        open(url, first + start + j),
      ),
    )
    for (const ws of batch) if (ws) sockets.push(ws)
  }
  return sockets
}

const settle = () => new Promise((r) => setTimeout(r, 3000))

const node = await spawnNode({ log: () => {} })
say(`node ${node.url} (pid ${node.pid}); ${idleCount} idle, ${activeCount} active, ${seconds} s`)
const limits = readFileSync(`/proc/${node.pid}/limits`, 'utf8')
const openFiles = /Max open files\s+(\d+)\s+(\d+)/.exec(limits)
await settle()
const base = memory(node.pid)

const idle = await openMany(node.url, 0, idleCount)
await settle()
const withIdle = memory(node.pid)
say(`${idle.length} idle open; RSS ${mib(base.rss)} → ${mib(withIdle.rss)} MiB`)

// ---- active ----
const sk = generateSecretKey()
const reqLatency: number[] = []
const okLatency: number[] = []
let liveDelivered = 0
let errors = 0
const refusals = new Map<string, number>()
const refusal = (text: unknown) => {
  errors++
  const key = String(text).slice(0, 60)
  refusals.set(key, (refusals.get(key) ?? 0) + 1)
}
const active = await openMany(node.url, idleCount, activeCount)
const deadline = Date.now() + seconds * 1000
let peak = memory(node.pid)
const sampler = setInterval(() => {
  const m = memory(node.pid)
  if (m.rss > peak.rss) peak = m
}, 250)

await Promise.all(
  active.map(async (ws, i) => {
    const tag = `c${i}`
    const pending = new Map<string, number>()
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as unknown[]
      const now = performance.now()
      if (m[0] === 'EOSE' || m[0] === 'OK') {
        const started = pending.get(String(m[1]))
        if (started === undefined) return
        pending.delete(String(m[1]))
        ;(m[0] === 'EOSE' ? reqLatency : okLatency).push(now - started)
        if (m[0] === 'OK' && m[2] !== true) refusal(m[3])
      } else if (m[0] === 'EVENT' && m[1] === 'live') liveDelivered++
      else if (m[0] === 'CLOSED') {
        pending.delete(String(m[1]))
        refusal(m[2])
      }
    })
    ws.send(JSON.stringify(['REQ', 'live', { '#t': [tag], limit: 0 }]))
    // Staggered over the first second, so the 1,000 clients do not tick together.
    await new Promise((r) => setTimeout(r, (i / active.length) * everyMs))
    for (let tick = 0; Date.now() < deadline && ws.readyState === WebSocket.OPEN; tick++) {
      const sub = `q${tick}`
      pending.set(sub, performance.now())
      ws.send(JSON.stringify(['REQ', sub, { kinds: [1], limit: 10 }]))
      if (tick % 5 === 0) {
        const event = finalizeEvent(
          {
            kind: 1,
            created_at: Math.floor(Date.now() / 1000),
            tags: [['t', tag]],
            content: `${i}/${tick}`,
          },
          sk,
        )
        pending.set(event.id, performance.now())
        ws.send(JSON.stringify(['EVENT', event]))
      }
      await new Promise((r) => setTimeout(r, everyMs))
      ws.send(JSON.stringify(['CLOSE', sub]))
    }
  }),
)
clearInterval(sampler)
const end = memory(node.pid)
const stillOpen = idle.filter((ws) => ws.readyState === WebSocket.OPEN).length
const droppedByNode = dropped
for (const ws of [...idle, ...active]) ws.terminate()
await node.stop()

console.log(
  JSON.stringify({
    bench: 'connections',
    idle: { asked: idleCount, open: idle.length, stillOpenAtEnd: stillOpen },
    active: { asked: activeCount, open: active.length, seconds },
    refused,
    dropped: droppedByNode,
    nodeOpenFilesLimit: openFiles
      ? { soft: Number(openFiles[1]), hard: Number(openFiles[2]) }
      : null,
    rssMiB: {
      base: mib(base.rss),
      withIdle: mib(withIdle.rss),
      activePeak: mib(peak.rss),
      end: mib(end.rss),
    },
    anonMiB: { base: mib(base.anon), withIdle: mib(withIdle.anon) },
    bytesPerIdleConnection:
      idle.length === 0 ? null : Math.round((withIdle.rss - base.rss) / idle.length),
    anonBytesPerIdleConnection:
      idle.length === 0 ? null : Math.round((withIdle.anon - base.anon) / idle.length),
    reqToEoseMs: summarize(reqLatency),
    eventToOkMs: summarize(okLatency),
    liveDelivered,
    errors,
    refusals: Object.fromEntries(refusals),
    everySeconds: everyMs / 1000,
  }),
)
