// NIP-77 on the relay: nostr-tools' NegentropySync, a client nobody here wrote, reconciles
// against a node and learns exactly which ids each side lacks; gift wraps stay private (a
// stranger gets auth-required, an authenticated non-member reconciles over her own mail only);
// and every bound answers NEG-ERR with its prefix instead of hanging or growing.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nip77 } from '@hansa/node'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

const authorSk = generateSecretKey()
const aliceSk = generateSecretKey()
const alice = getPublicKey(aliceSk)
const eveSk = generateSecretKey()

const note = (i: number): Event =>
  finalizeEvent(
    { kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `note ${i}` },
    authorSk,
  )

/** Runs nostr-tools' NegentropySync to the end; resolves with what each side lacks. */
function reconcile(relay: Relay, local: Event[], filter: Record<string, unknown>) {
  const storage = new nip77.NegentropyStorageVector()
  for (const e of local) storage.insert(e.created_at, e.id)
  storage.seal()
  const have: string[] = []
  const need: string[] = []
  return new Promise<{ have: string[]; need: string[]; reason?: string }>((resolve) => {
    const sync = new nip77.NegentropySync(relay, storage, filter, {
      onhave: (id) => have.push(id),
      onneed: (id) => need.push(id),
      onclose: (reason) => resolve({ have, need, ...(reason ? { reason } : {}) }),
    })
    void sync.start()
  })
}

/** A raw NEG-OPEN with an empty set: the answer names every id the node has for the filter. */
async function rawOpen(client: RawClient, subId: string, filter: unknown) {
  const storage = new nip77.NegentropyStorageVector()
  storage.seal()
  const neg = new nip77.Negentropy(storage)
  client.send(['NEG-OPEN', subId, filter, neg.initiate()])
  const answer = await client.next((m) => m[1] === subId)
  if (answer[0] !== 'NEG-MSG') return { answer, need: [] as string[] }
  const need: string[] = []
  neg.reconcile(answer[2] as string, undefined, (id) => need.push(id))
  return { answer, need }
}

describe('NIP-77 negentropy server', () => {
  let node: TestNode
  const notes = Array.from({ length: 300 }, (_, i) => note(i))
  let wrap: Event

  beforeAll(async () => {
    node = await startTestNode({ 'limits.eventsPerSecond': 0, 'limits.eventsPerSecondPerIp': 0 })
    const publisher = await Relay.connect(node.url)
    await Promise.all(notes.map((e) => publisher.publish(e)))
    wrap = nip17.wrapEvent(eveSk, { publicKey: alice }, 'for alice only')
    await publisher.publish(wrap)
    publisher.close()
  })

  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('NegentropySync reconciles: the client learns what it lacks and what the node lacks', async () => {
    const relay = await Relay.connect(node.url)
    const mine = notes.filter((_, i) => i % 3 !== 0) // lacks every third
    const extra = [1000, 1001, 1002].map(note) // the node lacks these
    const result = await reconcile(relay, [...mine, ...extra], { kinds: [1] })
    relay.close()
    expect(result.reason).toBeUndefined()
    expect(result.need.sort()).toEqual(
      notes
        .filter((_, i) => i % 3 === 0)
        .map((e) => e.id)
        .sort(),
    )
    expect(result.have.sort()).toEqual(extra.map((e) => e.id).sort())
  })

  it('an identical set reconciles to nothing', async () => {
    const relay = await Relay.connect(node.url)
    const result = await reconcile(relay, notes, { kinds: [1] })
    relay.close()
    expect(result).toEqual({ have: [], need: [] })
  })

  it('gift wraps: a stranger is told to authenticate, a non-member sees only her own mail', async () => {
    const stranger = await RawClient.connect(node.url)
    const refused = await rawOpen(stranger, 'gw', { kinds: [1059] })
    expect(refused.answer[0]).toBe('NEG-ERR')
    expect(refused.answer[2]).toMatch(/^auth-required: /)
    stranger.close()

    // Eve authenticates (she is no member node): the wrap for Alice is not in her set.
    const eve = await RawClient.connect(node.url)
    const [, challenge] = await eve.next((m) => m[0] === 'AUTH')
    const auth = finalizeEvent(
      {
        kind: 22242,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['relay', node.url],
          ['challenge', challenge as string],
        ],
        content: '',
      },
      eveSk,
    )
    eve.send(['AUTH', auth])
    expect((await eve.ok(auth.id))[2]).toBe(true)
    const asEve = await rawOpen(eve, 'gw', { kinds: [1059] })
    expect(asEve.answer[0]).toBe('NEG-MSG')
    expect(asEve.need).toEqual([])
    // Nor in a filter that names no kind.
    const all = await rawOpen(eve, 'all', {})
    expect(all.need).not.toContain(wrap.id)
    expect(all.need).toHaveLength(notes.length)
    eve.close()

    // Alice reads her own.
    const aliceRelay = new Relay(node.url)
    aliceRelay.onauth = async (t) => finalizeEvent(t, aliceSk)
    await aliceRelay.connect()
    await new Promise((r) => setTimeout(r, 300))
    const asAlice = await reconcile(aliceRelay, [], { kinds: [1059] })
    aliceRelay.close()
    expect(asAlice.need).toEqual([wrap.id])
  })

  it('refuses bad frames and too many sessions with NEG-ERR, and drops closed sessions', async () => {
    const client = await RawClient.connect(node.url)
    client.send(['NEG-OPEN', 'x', { kinds: [1] }, 'not hex'])
    expect(await client.next((m) => m[1] === 'x')).toEqual([
      'NEG-ERR',
      'x',
      expect.stringMatching(/^invalid: /),
    ])
    client.send(['NEG-OPEN', 'y', { kinds: 'one' }, '61'])
    expect((await client.next((m) => m[1] === 'y'))[2]).toMatch(/^invalid: /)
    client.send(['NEG-MSG', 'nobody', '61'])
    expect(await client.next((m) => m[1] === 'nobody')).toEqual([
      'NEG-ERR',
      'nobody',
      expect.stringMatching(/^closed: /),
    ])
    // A version this node does not speak is answered with the one it does (0x61).
    client.send(['NEG-OPEN', 'v', { kinds: [1] }, '62'])
    expect(await client.next((m) => m[1] === 'v')).toEqual(['NEG-MSG', 'v', '61'])

    for (const id of ['s1', 's2', 's3', 's4']) {
      const opened = await rawOpen(client, id, { kinds: [1] })
      expect(opened.answer[0]).toBe('NEG-MSG')
    }
    const fifth = await rawOpen(client, 's5', { kinds: [1] })
    expect(fifth.answer[0]).toBe('NEG-ERR')
    expect(fifth.answer[2]).toMatch(/^rate-limited: too many open negentropy sessions/)
    client.send(['NEG-CLOSE', 's1'])
    client.send(['NEG-CLOSE', 's2'])
    await new Promise((r) => setTimeout(r, 1500)) // the NEG-OPEN budget refills
    const again = await rawOpen(client, 's5', { kinds: [1] })
    expect(again.answer[0]).toBe('NEG-MSG')
    client.close()
  })
})

describe('NIP-77 bounds', () => {
  let node: TestNode
  beforeAll(async () => {
    node = await startTestNode({ 'replication.negentropyMaxRecords': 5 })
    const publisher = await Relay.connect(node.url)
    for (let i = 0; i < 6; i++) await publisher.publish(note(i))
    publisher.close()
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('a filter matching more than negentropyMaxRecords is "blocked: this query is too big"', async () => {
    const client = await RawClient.connect(node.url)
    const big = await rawOpen(client, 'big', { kinds: [1] })
    expect(big.answer).toEqual([
      'NEG-ERR',
      'big',
      expect.stringMatching(/^blocked: this query is too big/),
    ])
    const narrowed = await rawOpen(client, 'small', { kinds: [1], until: 1_700_000_002 })
    expect(narrowed.need).toHaveLength(3)
    client.close()
  })
})

describe('NegentropyResponder (property)', () => {
  it('any two sets reconcile to exactly their differences, under a small frame limit', async () => {
    const fc = await import('fast-check')
    const { NegentropyResponder, PrefixSumStorage } = await import('@hansa/node')
    const hexId = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => Buffer.from(b).toString('hex'))
    const item = fc.record({ ts: fc.integer({ min: 0, max: 50 }), id: hexId })
    fc.assert(
      fc.property(
        fc.uniqueArray(item, { selector: (x) => x.id, maxLength: 400 }),
        fc.func(fc.integer({ min: 0, max: 2 })),
        fc.boolean(),
        fc.boolean(),
        (items, side, fastClient, fastServer) => {
          // Each item is on the client (0), the node (1) or both (2). Either side keeps its set
          // in the library's storage or in PrefixSumStorage: they must interoperate.
          const onlyClient: string[] = []
          const onlyServer: string[] = []
          const clientItems: Array<[number, string]> = []
          const serverItems: Array<[number, string]> = []
          for (const x of items) {
            const where = side(x.id)
            if (where !== 1) clientItems.push([x.ts, x.id])
            if (where !== 0) serverItems.push([x.ts, x.id])
            if (where === 0) onlyClient.push(x.id)
            if (where === 1) onlyServer.push(x.id)
          }
          const storage = (fast: boolean, list: Array<[number, string]>) => {
            if (fast) return PrefixSumStorage.of(list)
            const s = new nip77.NegentropyStorageVector()
            for (const [ts, id] of list) s.insert(ts, id)
            s.seal()
            return s
          }
          const client = storage(fastClient, clientItems)
          const server = storage(fastServer, serverItems)
          const initiator = new nip77.Negentropy(client, 4096)
          const responder = new NegentropyResponder(new nip77.Negentropy(server, 4096))
          const have: string[] = []
          const need: string[] = []
          let message: string | null = initiator.initiate()
          for (let round = 0; message !== null; round++) {
            if (round > 200) throw new Error('no end')
            message = initiator.reconcile(
              responder.reconcile(message),
              (id) => have.push(id),
              (id) => need.push(id),
            )
          }
          expect(have.sort()).toEqual(onlyClient.sort())
          expect(need.sort()).toEqual(onlyServer.sort())
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('PrefixSumStorage (property)', () => {
  it("gives the library storage's fingerprints and bounds for every range", async () => {
    const fc = await import('fast-check')
    const { PrefixSumStorage } = await import('@hansa/node')
    type Lib = InstanceType<typeof nip77.NegentropyStorageVector> & {
      fingerprint(begin: number, end: number): Uint8Array
      findLowerBound(b: number, e: number, bound: { timestamp: number; id: Uint8Array }): number
      getItem(i: number): { timestamp: number; id: Uint8Array }
    }
    const hexId = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => Buffer.from(b).toString('hex'))
    // Ids near 0 and near 2^256 make the sums carry and the differences borrow.
    const edgeId = fc.constantFrom('00'.repeat(32), 'ff'.repeat(32), `${'ff'.repeat(31)}fe`)
    const item = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.oneof(hexId, edgeId))
    fc.assert(
      fc.property(
        fc.uniqueArray(item, { selector: (x) => x[1], maxLength: 300 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
        fc.integer({ min: 0, max: 21 }),
        fc.uint8Array({ maxLength: 32 }),
        (items, ranges, ts, prefix) => {
          const lib = new nip77.NegentropyStorageVector() as Lib
          for (const [t, id] of items) lib.insert(t, id)
          lib.seal()
          const fast = PrefixSumStorage.of(items)
          const n = items.length
          expect(fast.size()).toBe(n)
          for (const [x, y] of [[0, n] as const, ...ranges]) {
            const a = n === 0 ? 0 : x % (n + 1)
            const b = n === 0 ? 0 : y % (n + 1)
            const [lo, hi] = a <= b ? [a, b] : [b, a]
            expect(Buffer.from(fast.fingerprint(lo, hi))).toEqual(
              Buffer.from(lib.fingerprint(lo, hi)),
            )
          }
          for (let i = 0; i < n; i++) {
            expect(fast.getItem(i).timestamp).toBe(lib.getItem(i).timestamp)
            expect(Buffer.from(fast.getItem(i).id)).toEqual(Buffer.from(lib.getItem(i).id))
          }
          const bound = { timestamp: ts, id: prefix }
          expect(fast.findLowerBound(0, n, bound)).toBe(lib.findLowerBound(0, n, bound))
        },
      ),
      { numRuns: 100 },
    )
  })
})
