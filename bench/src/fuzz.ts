// fuzz: the long run of the fuzzer in packages/node/test/attack-fuzz.test.ts. It starts a node
// (`hansa node start`, rate limits off, the order book on) and, for `--seconds`, sends it
// sequences of generated and mutated NIP-01 frames (fast-check; the oracle of fuzz-cases.ts
// judges every answer) on `--connections` connections at once, and generated bodies to every
// route of its OpenAPI document. The node's resident memory is sampled from /proc every 250 ms.
// Prints one JSON line: cases run, problems found (the first ten, each with its input), whether
// the node is still up, and its RSS at the start, peak and end.
//
//   node bench/dist/fuzz.js [--seconds 60] [--connections 4] [--seed N]
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { frame, httpCase, routesOf, runFrames, runHttpCase } from './fuzz-cases.js'
import { spawnNode } from './node-process.js'
import { benchArgs } from './bench-args.js'

const args = benchArgs(import.meta.url, {
  seconds: { type: 'string', default: '60' },
  connections: { type: 'string', default: '4' },
  seed: { type: 'string' },
})
const seconds = Number(args.seconds)
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed)
const say = (line: string) => process.stderr.write(`fuzz | ${line}\n`)

const rss = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

const node = await spawnNode({
  env: { HANSA_ORDERBOOK_ENABLED: 'true', HANSA_LIMITS_MAX_AUTH_KEYS: '8' },
  log: () => {},
})
say(`node ${node.url} (pid ${node.pid}), seed ${seed}, ${seconds} s`)
const start = rss(node.pid)
let peak = start
const sampler = setInterval(() => {
  try {
    peak = Math.max(peak, rss(node.pid))
  } catch {}
}, 250)

const deadline = Date.now() + seconds * 1000
const problems: Array<{ input: unknown; problems: string[] }> = []
let frameCases = 0
let frames = 0
let httpCases = 0
const routes = await routesOf(node.httpUrl)
const sequenceOf = fc.array(frame, { minLength: 1, maxLength: 12 })
const requestOf = httpCase(routes)

// Cases are drawn in batches of 50, each batch from its own seed, so a run of any length
// starts at once and every problem can be replayed from (seed, batch).
async function frameWorker(worker: number, stride: number) {
  for (let batch = worker; Date.now() < deadline; batch += stride) {
    for (const sequence of fc.sample(sequenceOf, { numRuns: 50, seed: seed + batch })) {
      if (Date.now() >= deadline) return
      const found = await runFrames(node.url, sequence)
      frameCases++
      frames += sequence.length
      if (found.length > 0) problems.push({ input: { batch, sequence }, problems: found })
    }
  }
}
async function httpWorker() {
  for (let batch = 0; Date.now() < deadline; batch++) {
    for (const request of fc.sample(requestOf, { numRuns: 50, seed: seed + batch })) {
      if (Date.now() >= deadline) return
      const found = await runHttpCase(node.httpUrl, request)
      httpCases++
      if (found !== null) problems.push({ input: { batch, request }, problems: [found] })
    }
  }
}
const connections = Number(args.connections)
await Promise.all([
  ...Array.from({ length: connections }, (_, i) => frameWorker(i, connections)),
  httpWorker(),
])
clearInterval(sampler)
const health = await fetch(`${node.httpUrl}/health`)
  .then((r) => r.json() as Promise<{ status: string }>)
  .catch(() => ({ status: 'down' }))
const end = rss(node.pid)
const stopped = await node.stop()
console.log(
  JSON.stringify({
    bench: 'fuzz',
    seed,
    seconds,
    connections,
    frameSequences: frameCases,
    frames,
    httpCases,
    routes: routes.length,
    problems: problems.length,
    firstProblems: problems.slice(0, 10),
    nodeHealth: health.status,
    nodeExit: stopped,
    rssMiB: {
      start: +(start / 2 ** 20).toFixed(1),
      peak: +(peak / 2 ** 20).toFixed(1),
      end: +(end / 2 ** 20).toFixed(1),
    },
  }),
)
process.exit(problems.length === 0 && health.status === 'ok' ? 0 : 1)
