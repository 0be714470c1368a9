// joint-book: how fast the SDK's joint order book shows, and whether takes stay exclusive under
// load. Starts N coordinators' nodes in this process (order book on, embedded SQLite), has a
// maker put --orders orders on them through the HTTP API, then times `listOrders` with every
// coordinator answering and with one more coordinator that never answers (a TCP port that
// accepts and stays silent), and races --takers takers for each of --race orders. Prints one
// JSON line on stdout. Nodes and client share this process's CPU, as on a laptop.
//
//   node bench/dist/joint-book.js [--orders 200] [--coordinators 2] [--runs 10] [--takers 8] [--race 20]
import { mkdtempSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BookCoordinator, OrderBookError, createOrderBook } from '@hansa/client'
import { type HansaNode, resolveConfig, startNode } from '@hansa/node'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import pino from 'pino'
import { benchArgs } from './bench-args.js'

const values = benchArgs(import.meta.url, {
  orders: { type: 'string', default: '200' },
  coordinators: { type: 'string', default: '2' },
  runs: { type: 'string', default: '10' },
  takers: { type: 'string', default: '8' },
  race: { type: 'string', default: '20' },
})
const orders = Number(values.orders)
const runs = Number(values.runs)

const dirs: string[] = []
async function start(): Promise<HansaNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hansa-joint-book-'))
  dirs.push(dataDir)
  const config = resolveConfig({
    flags: {
      dataDir,
      port: 0,
      logLevel: 'silent',
      'verify.threads': 1,
      'orderbook.enabled': true,
      'orderbook.maxOrdersPerMaker': 100_000,
      'limits.maxLimit': 5000,
    },
  })
  return startNode(config, { log: pino({ level: 'silent' }) })
}

const nodes = await Promise.all(Array.from({ length: Number(values.coordinators) }, start))
const coordinators: BookCoordinator[] = nodes.map((node, i) => ({
  pubkey: getPublicKey(generateSecretKey()),
  alias: `c${i + 1}`,
  nodes: [{ pubkey: node.key.pubkey, urls: [node.url], services: ['orderbook'] }],
}))
const hole: Server = createServer(() => {})
await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r))
const silent: BookCoordinator = {
  pubkey: getPublicKey(generateSecretKey()),
  alias: 'silent',
  nodes: [
    {
      pubkey: getPublicKey(generateSecretKey()),
      urls: [`ws://127.0.0.1:${(hole.address() as { port: number }).port}`],
      services: ['orderbook'],
    },
  ],
}
const source = (list: BookCoordinator[]) => ({ coordinators: () => list })

const maker = createOrderBook({
  coordinators: source(coordinators),
  identity: { secretKey: generateSecretKey() },
})
let t = performance.now()
for (let i = 0; i < orders; i++) {
  await maker.make({
    coordinator: coordinators[i % coordinators.length]!.alias,
    side: i % 2 ? 'sell' : 'buy',
    currency: 'EUR',
    fiatAmount: 10 + i,
    sats: 50_000,
    paymentMethods: ['SEPA'],
  })
}
const makeMs = (performance.now() - t) / orders

async function timeLists(list: BookCoordinator[]) {
  const ms: number[] = []
  let shown = 0
  for (let i = 0; i < runs; i++) {
    const book = createOrderBook({ coordinators: source(list) }) // a fresh client each time
    const t0 = performance.now()
    const view = await book.list()
    ms.push(performance.now() - t0)
    shown = view.orders.length
  }
  ms.sort((a, b) => a - b)
  const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!)
  return { orders: shown, p50Ms: at(0.5), maxMs: at(1) }
}
const allLive = await timeLists(coordinators)
const oneSilent = await timeLists([...coordinators, silent])

// Races: --takers takers at once for each of --race orders; each order must have one winner.
const pending = (await createOrderBook({ coordinators: source(coordinators) }).list()).orders
let winners = 0
let refused = 0
t = performance.now()
for (const order of pending.slice(0, Number(values.race))) {
  const outcomes = await Promise.allSettled(
    Array.from({ length: Number(values.takers) }, () =>
      createOrderBook({
        coordinators: source(coordinators),
        identity: { secretKey: generateSecretKey() },
      }).take({ order }),
    ),
  )
  winners += outcomes.filter((o) => o.status === 'fulfilled').length
  refused += outcomes.filter(
    (o) =>
      o.status === 'rejected' &&
      o.reason instanceof OrderBookError &&
      o.reason.code === 'HANSA_ORDER_NOT_PENDING',
  ).length
}
const raceMs = performance.now() - t

process.stdout.write(
  `${JSON.stringify({
    bench: 'joint-book',
    coordinators: coordinators.length,
    makeMsPerOrder: Number(makeMs.toFixed(1)),
    list: { allLive, oneSilent },
    race: {
      orders: Math.min(pending.length, Number(values.race)),
      takersPerOrder: Number(values.takers),
      winners,
      refusedNotPending: refused,
      ms: Math.round(raceMs),
    },
  })}\n`,
)
hole.close()
for (const node of nodes) await node.close()
for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
