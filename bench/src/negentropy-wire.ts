// NIP-77 on the wire, without sockets: how many bytes two sets of N events that differ by one
// exchange, counting the JSON frames exactly as a node and its peer send them (NEG-OPEN,
// NEG-MSG both ways, NEG-CLOSE), with the node's own code on both sides — nostr-tools'
// Negentropy as the initiator (what the replicator runs) and the node's NegentropyResponder
// (what the relay answers with) — and the default frame limit of 60,000 bytes.
//
//   npm run build && node bench/dist/negentropy-wire.js [--events 100000] [--missing 1]
import { randomBytes } from 'node:crypto'
import { NegentropyResponder, nip77 } from '@hansa/node'
import { benchArgs } from './bench-args.js'

const args = benchArgs(import.meta.url, {
  events: { type: 'string', default: '100000' },
  missing: { type: 'string', default: '1' },
})
const N = Number(args.events)
const MISSING = Number(args.missing)
const now = Math.floor(Date.now() / 1000)

const items = Array.from(
  { length: N },
  () => [now - Math.floor(Math.random() * 30 * 86400), randomBytes(32).toString('hex')] as const,
)
const lacking = new Set(items.slice(0, MISSING).map((x) => x[1]))

function measure(clientLacks: Set<string>) {
  const client = new nip77.NegentropyStorageVector()
  const server = new nip77.NegentropyStorageVector()
  for (const [ts, id] of items) {
    server.insert(ts, id)
    if (!clientLacks.has(id)) client.insert(ts, id)
  }
  client.seal()
  server.seal()
  const started = performance.now()
  const initiator = new nip77.Negentropy(client, 60_000)
  const responder = new NegentropyResponder(new nip77.Negentropy(server, 60_000))
  const filter = { kinds: [1059] }
  let bytes = 0
  let rounds = 0
  const need: string[] = []
  let message: string | null = initiator.initiate()
  bytes += Buffer.byteLength(JSON.stringify(['NEG-OPEN', 'n1', filter, message]))
  while (message !== null) {
    const answer = responder.reconcile(message)
    rounds++
    bytes += Buffer.byteLength(JSON.stringify(['NEG-MSG', 'n1', answer]))
    message = initiator.reconcile(answer, undefined, (id) => need.push(id))
    if (message !== null) bytes += Buffer.byteLength(JSON.stringify(['NEG-MSG', 'n1', message]))
  }
  bytes += Buffer.byteLength(JSON.stringify(['NEG-CLOSE', 'n1']))
  return { bytes, rounds, found: need.length, ms: Math.round(performance.now() - started) }
}

const result = {
  bench: 'negentropy-wire',
  at: new Date().toISOString(),
  events: N,
  missing: MISSING,
  oneSideLacks: measure(lacking),
  identical: measure(new Set()),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
