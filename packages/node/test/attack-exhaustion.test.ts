// Attacks that try to exhaust a running node, over plain `ws`: a client that subscribes and
// never reads while events flood in, one that re-uses a subscription id again and again, REQ
// and AUTH floods, one connection authenticating as many keys, a tag-heavy event against
// filters with a thousand values; and the reader threads' bounds (queue, time budget).
import { finalizeEvent, generateSecretKey, type Event } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { matchFilters, type Filter, type NostrEvent } from '@hansa/protocol'
import { SubscriptionIndex, compileFilter } from '../src/relay/subscription-index.js'
import { StoreBusyError, StoreTimeoutError } from '../src/store/event-store.js'
import { ReadQueue } from '../src/store/read-queue.js'
import { WorkerPool } from '../src/worker-pool.js'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

const now = Math.floor(Date.now() / 1000)
const writer = generateSecretKey()
const note = (content: string, tags: string[][] = [], kind = 1): Event =>
  finalizeEvent({ kind, content, tags, created_at: now }, writer)
const authEvent = (challenge: string, url: string, sk = generateSecretKey()) =>
  finalizeEvent(
    {
      kind: 22242,
      content: '',
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['relay', url],
        ['challenge', challenge],
      ],
    },
    sk,
  )

describe('exhaustion attacks on a running node', () => {
  let node: TestNode
  const sendBuffer = 256 * 1024

  beforeAll(async () => {
    node = await startTestNode({
      'limits.maxSendBufferBytes': sendBuffer,
      'limits.eventsPerSecond': 10_000,
      'limits.eventsPerSecondPerIp': 10_000,
      'limits.maxEventTags': 3000,
    })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('a subscriber that never reads is cut off before the node buffers more than its bound', async () => {
    const lazy = await RawClient.connect(node.url)
    await lazy.next((m) => m[0] === 'AUTH')
    lazy.send(['REQ', 'flood', { kinds: [1], '#t': ['flood'] }])
    await lazy.next((m) => m[0] === 'EOSE')
    const tcp = (lazy.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
    tcp.pause() // stops reading: the kernel's buffers fill, then the node's
    const serverSide = [...node.relay.connections].at(-1)!
    const publisher = await RawClient.connect(node.url)
    const big = 'x'.repeat(60_000)
    let peak = 0
    for (let i = 0; i < 300; i++) {
      const e = note(`${i}${big}`, [['t', 'flood']])
      publisher.send(['EVENT', e])
      await publisher.ok(e.id)
      peak = Math.max(peak, serverSide.buffered)
    }
    // 18 MB were published for it; the node never held more than its bound plus one event
    expect(peak).toBeLessThan(sendBuffer * 4 + 70_000)
    tcp.resume()
    const closed = await lazy
      .next((m) => m[0] === 'CLOSED' && m[1] === 'flood', 20_000)
      .catch(() => null)
    if (closed) expect(closed[2]).toMatch(/^error: you are not reading/)
    else expect(serverSide.closed || lazy.closed).toBe(true)
    expect(serverSide.subscriptions.size).toBe(0)
    lazy.close()
    publisher.close()
  }, 60_000)

  it('re-using one subscription id replaces it: one subscription, whatever the count', async () => {
    const client = await RawClient.connect(node.url)
    const serverSide = [...node.relay.connections].at(-1)!
    for (let i = 0; i < 30; i++) client.send(['REQ', 'same', { kinds: [i], limit: 1 }])
    await client.next((m) => m[0] === 'EOSE' || m[0] === 'CLOSED')
    expect(serverSide.subscriptions.size).toBe(1)
    client.close()
  })

  it('a REQ flood is answered CLOSED "rate-limited:" past the per-connection rate', async () => {
    const client = await RawClient.connect(node.url)
    for (let i = 0; i < 200; i++) client.send(['REQ', `s${i}`, { kinds: [1], limit: 1 }])
    const limited = await client.next(
      (m) => m[0] === 'CLOSED' && String(m[2]).startsWith('rate-limited:'),
    )
    expect(limited[2]).toMatch(/REQ and COUNT filters a second|at once/)
    client.close()
  })

  it('a REQ with a thousand values costs its size in query tokens', async () => {
    const answers = async (filter: (i: number) => Record<string, unknown>) => {
      const client = await RawClient.connect(node.url)
      for (let i = 0; i < 8; i++) client.send(['REQ', `q${i}`, filter(i)])
      const got: string[] = []
      for (let i = 0; i < 8; i++) {
        const m = await client.next(
          (x) => (x[0] === 'EOSE' || x[0] === 'CLOSED') && x[1] === `q${i}`,
        )
        got.push(m[0] === 'EOSE' ? 'EOSE' : String(m[2]).split(':')[0]!)
      }
      client.close()
      return got
    }
    // Eight cheap REQs fit a connection's burst (twice limits.queriesPerSecond, 20)...
    expect(await answers((i) => ({ '#t': [`cheap-${i}`] }))).toEqual(new Array(8).fill('EOSE'))
    // ...eight with a thousand tag values each (11 tokens apiece) do not.
    const heavy = await answers((i) => ({
      '#t': Array.from({ length: 1000 }, (_, j) => `heavy-${i}-${j}`),
    }))
    expect(heavy.slice(0, 3)).toEqual(['EOSE', 'EOSE', 'EOSE'])
    expect(heavy).toContain('rate-limited')
  })

  it('a COUNT with ten filters costs ten query tokens: each is its own scan', async () => {
    const client = await RawClient.connect(node.url)
    const filters = Array.from({ length: 10 }, (_, j) => ({ kinds: [1, 7, j], since: j }))
    for (let i = 0; i < 6; i++) client.send(['COUNT', `c${i}`, ...filters])
    const got: string[] = []
    for (let i = 0; i < 6; i++) {
      const m = await client.next(
        (x) => (x[0] === 'COUNT' || x[0] === 'CLOSED') && x[1] === `c${i}`,
      )
      got.push(m[0] === 'COUNT' ? 'COUNT' : String(m[2]).split(':')[0]!)
    }
    // A connection's burst is twice limits.queriesPerSecond (20): four such COUNTs, not six.
    expect(got).toEqual(['COUNT', 'COUNT', 'COUNT', 'COUNT', 'rate-limited', 'rate-limited'])
    client.close()
  })

  it('AUTH is rate-limited, and one connection may authenticate as a bounded number of keys', async () => {
    const client = await RawClient.connect(node.url)
    const challenge = (await client.next((m) => m[0] === 'AUTH'))[1] as string
    const answers: string[] = []
    for (let i = 0; i < 12; i++) {
      const e = authEvent(challenge, node.relay.relayUrl)
      client.send(['AUTH', e])
      const ok = await client.ok(e.id)
      answers.push(ok[2] === true ? 'ok' : String(ok[3]).split(':')[0]!)
    }
    expect(answers.slice(0, 4)).toEqual(['ok', 'ok', 'ok', 'ok'])
    expect(answers).toContain('rate-limited')
    client.close()

    const many = await startTestNode({ 'limits.authPerSecond': 1000 })
    try {
      const c = await RawClient.connect(many.url)
      const ch = (await c.next((m) => m[0] === 'AUTH'))[1] as string
      const results: unknown[] = []
      for (let i = 0; i < 10; i++) {
        const e = authEvent(ch, many.relay.relayUrl)
        c.send(['AUTH', e])
        results.push((await c.ok(e.id))[3])
      }
      expect(results.slice(0, 8)).toEqual(Array(8).fill(''))
      expect(String(results[8])).toMatch(/^restricted: .*8 keys/)
      c.close()
    } finally {
      await many.stop()
      removeDir(many.dataDir)
    }
  })

  it('a tag-heavy event against filters with a thousand values reaches exactly its subscribers', async () => {
    // Two heavy subscriptions a connection: a REQ of a thousand values costs 11 query tokens.
    const clients = await Promise.all([0, 1, 2, 3, 4].map(() => RawClient.connect(node.url)))
    const values = (prefix: string) => Array.from({ length: 1000 }, (_, i) => `${prefix}${i}`)
    for (let s = 0; s < 10; s++) {
      clients[s >> 1]!.send(['REQ', `heavy${s}`, { '#t': values(`v${s}-`) }])
    }
    for (let s = 0; s < 10; s++) {
      await clients[s >> 1]!.next((m) => m[0] === 'EOSE' && m[1] === `heavy${s}`)
    }
    const tags = Array.from({ length: 2500 }, (_, i) => ['t', `v3-${i}`])
    const publisher = await RawClient.connect(node.url)
    const e = note('tags', tags)
    publisher.send(['EVENT', e])
    expect((await publisher.ok(e.id))[2]).toBe(true)
    const got = await clients[1]!.next((m) => m[0] === 'EVENT')
    expect(got[1]).toBe('heavy3')
    for (const client of clients) {
      await expect(client.next((m) => m[0] === 'EVENT', 300)).rejects.toThrow()
      client.close()
    }
    publisher.close()
  })
})

describe('many non-reading connections from one address', () => {
  let node: TestNode
  const perConnection = 1024 * 1024
  const perAddress = 1024 * 1024

  beforeAll(async () => {
    node = await startTestNode({
      'limits.maxSendBufferBytes': perConnection,
      'limits.maxSendBufferBytesPerIp': perAddress,
      'limits.eventsPerSecond': 10_000,
      'limits.eventsPerSecondPerIp': 10_000,
    })
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it("share one address's send budget instead of each holding the connection bound", async () => {
    const lazies: RawClient[] = []
    for (let i = 0; i < 8; i++) {
      const lazy = await RawClient.connect(node.url)
      await lazy.next((m) => m[0] === 'AUTH')
      lazy.send(['REQ', 'flood', { kinds: [1], '#t': ['shared-flood'] }])
      await lazy.next((m) => m[0] === 'EOSE')
      ;(lazy.ws as unknown as { _socket: { pause(): void } })._socket.pause()
      lazies.push(lazy)
    }
    const serverSides = [...node.relay.connections]
    const publisher = await RawClient.connect(node.url)
    const big = 'y'.repeat(60_000)
    let peak = 0
    for (let i = 0; i < 300; i++) {
      const e = note(`${i}${big}`, [['t', 'shared-flood']])
      publisher.send(['EVENT', e])
      await publisher.ok(e.id)
      peak = Math.max(
        peak,
        serverSides.reduce((sum, c) => sum + c.buffered, 0),
      )
      if (serverSides.every((c) => c.subscriptions.size === 0)) break
    }
    // Eight connections of 1 MiB each could hold 8 MiB; together they hold the address's 1 MiB
    // (plus the event that crossed each one's share).
    expect(peak).toBeLessThan(perAddress + 8 * 70_000)
    expect(serverSides.every((c) => c.subscriptions.size === 0)).toBe(true)
    for (const lazy of lazies) lazy.ws.terminate()
    publisher.close()
  }, 60_000)
})

describe('the subscription index', () => {
  const hex = fc.constantFrom('aa', 'bb', 'cc').map((c) => c.repeat(32))
  const filterArb = fc.record(
    {
      ids: fc.array(hex, { minLength: 1, maxLength: 2 }),
      authors: fc.array(hex, { minLength: 1, maxLength: 2 }),
      kinds: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 2 }),
      '#t': fc.array(fc.constantFrom('x', 'y', 'z'), { minLength: 1, maxLength: 2 }),
      '#p': fc.array(fc.constantFrom('x', 'y'), { minLength: 1, maxLength: 2 }),
      since: fc.integer({ min: 0, max: 10 }),
      until: fc.integer({ min: 0, max: 10 }),
    },
    { requiredKeys: [] },
  )
  const eventArb = fc.record({
    id: hex,
    pubkey: hex,
    kind: fc.integer({ min: 0, max: 3 }),
    created_at: fc.integer({ min: 0, max: 10 }),
    tags: fc.array(fc.tuple(fc.constantFrom('t', 'p', 'e'), fc.constantFrom('x', 'y', 'z'))),
    content: fc.constant(''),
    sig: fc.constant(''),
  })

  it('finds exactly the subscriptions whose filters match (the same as trying each)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(filterArb, { minLength: 1, maxLength: 3 }), { maxLength: 8 }),
        eventArb,
        fc.array(fc.nat(), { maxLength: 3 }),
        (subs, e, removed) => {
          const index = new SubscriptionIndex<{
            n: number
            filters: Filter[]
            compiled: ReturnType<typeof compileFilter>[]
          }>()
          const entries = subs.map((filters, n) => ({
            n,
            filters: filters as Filter[],
            compiled: (filters as Filter[]).map(compileFilter),
          }))
          for (const entry of entries) index.add(entry)
          const gone = new Set(removed.map((r) => r % Math.max(1, entries.length)))
          for (const n of gone) if (entries[n]) index.remove(entries[n]!)
          const event = e as unknown as NostrEvent
          const expected = entries
            .filter((x) => !gone.has(x.n) && matchFilters(x.filters, event))
            .map((x) => x.n)
          expect(
            index
              .matching(event)
              .map((x) => x.n)
              .sort(),
          ).toEqual(expected.sort())
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe("the reader threads' bounds", () => {
  const script = new URL('./fixtures/spin-worker.mjs', import.meta.url)
  const readers = () =>
    new WorkerPool({
      script,
      workerData: null,
      size: 1,
      name: 'spin',
      crashed: (details) => new Error(details),
      dead: () => new Error('dead'),
      failed: (message) => new Error(message),
      closed: () => new Error('closed'),
    })

  it('stops a query past its time budget, replaces the thread, and keeps answering', async () => {
    const pool = readers()
    await pool.ready
    const queue = new ReadQueue(pool, { timeoutMs: 200 })
    try {
      await expect(queue.request({ op: 'spin', ms: 60_000 })).rejects.toBeInstanceOf(
        StoreTimeoutError,
      )
      // the pool put a fresh thread in its place (asked without a budget: a busy machine may
      // take a while to start it)
      await queue.idle()
      await expect(new ReadQueue(pool).request({ op: 'echo', value: 7 })).resolves.toBe(7)
    } finally {
      await pool.close()
    }
  })

  it('refuses at once past its queue bound', async () => {
    const pool = readers()
    await pool.ready
    const queue = new ReadQueue(pool, { maxQueued: 2, timeoutMs: 5000 })
    try {
      const busy = queue.request({ op: 'spin', ms: 300 })
      const waiting = [
        queue.request({ op: 'echo', value: 1 }, 'a'),
        queue.request({ op: 'echo', value: 2 }, 'b'),
      ]
      await expect(queue.request({ op: 'echo', value: 3 })).rejects.toBeInstanceOf(StoreBusyError)
      await expect(busy).resolves.toBe('spun')
      await expect(Promise.all(waiting)).resolves.toEqual([1, 2])
    } finally {
      await pool.close()
    }
  })
})

describe('a node stopping under queries', () => {
  // Queries still waiting when the store closes get an answer a person understands, and the
  // node does not log them as failures (they are the shutdown, not a fault).
  it('answers REQ and COUNT "the node is shutting down" once its store is closed', async () => {
    const logged: string[] = []
    const node = await startTestNode({}, undefined, undefined)
    const errorLog = node.log.error.bind(node.log)
    node.log.error = ((obj: unknown, msg?: string) => {
      logged.push(String(msg))
      return errorLog(obj as object, msg)
    }) as typeof node.log.error
    const client = await RawClient.connect(node.url)
    try {
      await node.store.close()
      client.send(['REQ', 'r', { kinds: [1] }])
      client.send(['COUNT', 'c', { kinds: [1] }])
      const req = await client.next((m) => m[1] === 'r')
      const count = await client.next((m) => m[1] === 'c')
      expect(req).toEqual(['CLOSED', 'r', 'error: the node is shutting down; try again shortly'])
      expect(count).toEqual(['CLOSED', 'c', 'error: the node is shutting down; try again shortly'])
      expect(logged.filter((m) => m.includes('failed'))).toEqual([])
    } finally {
      client.close()
      await node.stop().catch(() => {})
      removeDir(node.dataDir)
    }
  })
})
