// Replication between member nodes, on three real `hansa node start` processes that follow one
// federation (hanseatic runs node-1 and node-2, lubeck runs node-3; all run the inbox and the
// order book): mail reaches every member live, and one that was down catches up by NIP-77 when
// it comes back; an order made on one coordinator is on every member, and the joint book read
// from one member shows it (each coordinator live or stale by that member's word); a deletion by its author
// propagates; a non-member asking for gift wraps by NIP-77 gets nothing; a node the guardians
// remove stops receiving private kinds; sync-status shows each peer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type JointBook, coordinatorsFromManifest, createOrderBook } from '@hansa/client'
import { type KeyPair, createKeyFile, nip77 } from '@hansa/node'
import { type Manifest, type NostrEvent, nextManifestDraft, signManifest } from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type NodeProcess, getJson, hansa, startNodeProcess, waitFor } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-replication-'))
const now = () => Math.floor(Date.now() / 1000)
const DAY = 86_400
const guardianSk = generateSecretKey()
const aliceSk = generateSecretKey()
const alice = getPublicKey(aliceSk)
const makerSk = generateSecretKey()

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A short-lived raw connection: optionally AUTH as `sk`, then one exchange. */
async function session<T>(
  url: string,
  sk: Uint8Array | null,
  run: (
    send: (m: unknown) => void,
    next: (match: (m: unknown[]) => boolean) => Promise<unknown[]>,
  ) => Promise<T>,
): Promise<T> {
  const ws = new WebSocket(url)
  const inbox: unknown[][] = []
  const waiters: Array<{ match: (m: unknown[]) => boolean; resolve: (m: unknown[]) => void }> = []
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as unknown[]
    const i = waiters.findIndex((w) => w.match(m))
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m)
    else inbox.push(m)
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const next = (match: (m: unknown[]) => boolean) =>
    new Promise<unknown[]>((resolve, reject) => {
      const i = inbox.findIndex(match)
      if (i >= 0) return resolve(inbox.splice(i, 1)[0]!)
      const timer = setTimeout(() => reject(new Error(`no answer from ${url}`)), 10_000)
      waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
  const send = (m: unknown) => ws.send(JSON.stringify(m))
  try {
    if (sk) {
      const [, challenge] = await next((m) => m[0] === 'AUTH')
      const auth = finalizeEvent(
        {
          kind: 22242,
          created_at: now(),
          tags: [
            ['relay', url],
            ['challenge', challenge as string],
          ],
          content: '',
        },
        sk,
      )
      send(['AUTH', auth])
      const ok = await next((m) => m[0] === 'OK' && m[1] === auth.id)
      if (ok[2] !== true) throw new Error(`AUTH refused: ${String(ok[3])}`)
    }
    return await run(send, next)
  } finally {
    ws.close()
  }
}

const publish = (url: string, event: NostrEvent) =>
  session(url, null, async (send, next) => {
    send(['EVENT', event])
    return next((m) => m[0] === 'OK' && m[1] === event.id)
  })

/** Event ids a REQ returns (as `sk` when given); a CLOSED answers its reason instead. */
const read = (url: string, filter: Record<string, unknown>, sk: Uint8Array | null = null) =>
  session(url, sk, async (send, next) => {
    send(['REQ', 'r', filter])
    const ids: string[] = []
    for (;;) {
      const m = await next((x) => x[1] === 'r')
      if (m[0] === 'EVENT') ids.push((m[2] as NostrEvent).id)
      else if (m[0] === 'CLOSED') return `closed: ${String(m[2])}`
      else return ids
    }
  })

/** What an empty NIP-77 client learns it lacks, or the NEG-ERR reason. */
const negentropyIds = (url: string, filter: Record<string, unknown>, sk: Uint8Array | null) =>
  session(url, sk, async (send, next) => {
    const storage = new nip77.NegentropyStorageVector()
    storage.seal()
    const neg = new nip77.Negentropy(storage)
    send(['NEG-OPEN', 'n', filter, neg.initiate()])
    const need: string[] = []
    for (;;) {
      const m = await next((x) => x[1] === 'n')
      if (m[0] === 'NEG-ERR') return `NEG-ERR ${String(m[2])}`
      const reply = neg.reconcile(m[2] as string, undefined, (id) => need.push(id))
      if (reply === null) return need
      send(['NEG-MSG', 'n', reply])
    }
  })

const wrapFor = (text: string) => nip17.wrapEvent(generateSecretKey(), { publicKey: alice }, text)

describe('replication between member nodes (3 node processes)', () => {
  const dirs = [1, 2, 3].map((i) => join(root, `node-${i}`))
  const keys: KeyPair[] = []
  const ports: number[] = []
  const nodes: NodeProcess[] = []
  const url = (i: number) => `ws://127.0.0.1:${ports[i]}`
  let genesis: Manifest
  let chainFile: string
  /** Lubeck's order as node-1 holds it (signed by node-3's key). */
  let order: NostrEvent | undefined

  const start = async (i: number) => {
    nodes[i] = await startNodeProcess(
      dirs[i]!,
      {
        HANSA_FEDERATION_CHAIN_FILE: chainFile,
        HANSA_REPLICATION_RECONCILE_INTERVAL_SECONDS: '30',
        HANSA_REPLICATION_TIMEOUT_SECONDS: '5',
        HANSA_DISCOVERY_ENABLED: 'false',
        HANSA_ORDERBOOK_ENABLED: 'true',
      },
      ports[i],
    )
  }
  const syncStatus = async (i: number) =>
    (await getJson(`${url(i).replace('ws', 'http')}/federation/sync-status`)) as {
      peers: Array<{
        pubkey: string
        connected: boolean
        eventsSent: number
        eventsReceived: number
      }>
    }

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      keys.push(createKeyFile(join(dirs[i]!, 'node.key')))
      ports.push(await freePort())
    }
    const node = (i: number) => ({
      pubkey: keys[i]!.pubkey,
      urls: [url(i)],
      services: ['inbox', 'orderbook'],
    })
    genesis = {
      hansa: 1,
      name: 'Replication League',
      version: 1,
      previous: null,
      issuedAt: now(),
      expiresAt: now() + 90 * DAY,
      guardians: [{ pubkey: getPublicKey(guardianSk), name: 'ana' }],
      threshold: 1,
      coordinators: [
        {
          pubkey: getPublicKey(generateSecretKey()),
          alias: 'hanseatic',
          description: 'Two nodes.',
          contact: {},
          nodes: [node(0), node(1)],
        },
        {
          pubkey: getPublicKey(generateSecretKey()),
          alias: 'lubeck',
          description: 'One node.',
          contact: {},
          nodes: [node(2)],
        },
      ],
      services: { inbox: { retentionDays: 30 }, orderbook: { currencies: ['EUR', 'USD'] } },
      devFund: { recipient: getPublicKey(guardianSk), suggestedRate: 0.2 },
    }
    chainFile = join(root, 'chain.json')
    writeFileSync(
      chainFile,
      JSON.stringify([{ manifest: genesis, signatures: [signManifest(genesis, guardianSk)] }]),
    )
    await Promise.all([0, 1, 2].map(start))
    // Every node is connected to its two peers.
    for (let i = 0; i < 3; i++) {
      await waitFor(
        () => syncStatus(i),
        (s) => s.peers.length === 2 && s.peers.every((p) => p.connected),
        60_000,
      )
    }
  }, 180_000)

  afterAll(async () => {
    for (const n of nodes) await n?.stop()
    rmSync(root, { recursive: true, force: true })
  }, 60_000)

  it('mail accepted by node-1 is on node-2 and node-3 at once (live subscription), and goes no further', async () => {
    const sent = async () =>
      Promise.all([0, 1, 2].map(async (i) => (await syncStatus(i)).peers.map((p) => p.eventsSent)))
    const before = await sent()
    const wrap = wrapFor('live')
    expect((await publish(url(0), wrap))[2]).toBe(true)
    for (const i of [1, 2]) {
      await waitFor(
        () => read(url(i), { kinds: [1059] }, aliceSk),
        (ids) => Array.isArray(ids) && ids.includes(wrap.id),
      )
    }
    // Node-1 sent it to each peer's subscription once; node-2 and node-3, which had it from a
    // member, sent it to nobody (fan-out's echo rule): no echo back, no second hop.
    const after = await sent()
    expect(after[0]!.map((n, j) => n - before[0]![j]!)).toEqual([1, 1])
    expect(after[1]).toEqual(before[1])
    expect(after[2]).toEqual(before[2])
  })

  it('mail sent to node-1 while node-3 is down is readable from node-3 after it comes back', async () => {
    await nodes[2]!.stop()
    const wrap = wrapFor('while you were out')
    expect((await publish(url(0), wrap))[2]).toBe(true)
    await start(2)
    await waitFor(
      () => read(url(2), { kinds: [1059] }, aliceSk),
      (ids) => Array.isArray(ids) && ids.includes(wrap.id),
    )
  })

  it("an order made on lubeck's node shows on every member node, signed by lubeck's node", async () => {
    const body = {
      side: 'sell',
      currency: 'EUR',
      fiatAmount: [100],
      sats: 150_000,
      paymentMethods: ['SEPA'],
      premium: 1,
    }
    const target = `${url(2).replace('ws', 'http')}/orderbook/orders`
    const response = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: await getToken(target, 'POST', (t) => finalizeEvent(t, makerSk), true, body),
      },
      body: JSON.stringify(body),
    })
    const made = (await response.json()) as { id: string }
    expect(response.status).toBe(201)
    for (const i of [0, 1]) {
      const events = await waitFor(
        () =>
          session(url(i), null, async (send, next) => {
            send(['REQ', 'o', { kinds: [38383], '#d': [made.id] }])
            const found: NostrEvent[] = []
            for (;;) {
              const m = await next((x) => x[1] === 'o')
              if (m[0] !== 'EVENT') return found
              found.push(m[2] as NostrEvent)
            }
          }),
        (found) => found.length === 1,
      )
      expect(events[0]!.pubkey).toBe(keys[2]!.pubkey)
      order = events[0]
    }
    // Verified, not trusted: the same order signed by anyone else is refused by every member.
    const forged = finalizeEvent(
      { kind: 38383, created_at: now(), tags: order!.tags, content: order!.content },
      generateSecretKey(),
    )
    const refused = await publish(url(0), forged)
    expect(refused[2]).toBe(false)
    expect(refused[3]).toMatch(/^blocked: /)
  })

  it("the joint book read from one member holds lubeck's order; lubeck is live by that member's word, stale once node-3 stops", async () => {
    const id = order!.tags.find((t) => t[0] === 'd')![1]
    // One source: node-1 (hanseatic's first node). Node-3, lubeck's only node, is not asked.
    const list = () =>
      createOrderBook({
        coordinators: { coordinators: () => coordinatorsFromManifest(genesis) },
        sources: 1,
        timeoutMs: 5000,
      }).list()
    const states = (book: JointBook) =>
      Object.fromEntries(book.coordinators.map((c) => [c.alias, c.state]))
    const first = await list()
    expect(first.orders.find((o) => o.id === id)).toMatchObject({
      coordinator: { alias: 'lubeck' },
      node: { pubkey: keys[2]!.pubkey },
      stale: false,
    })
    expect(states(first)).toEqual({ hanseatic: 'live', lubeck: 'live' })
    await nodes[2]!.stop()
    await waitFor(
      () => syncStatus(0),
      (s) => s.peers.some((p) => p.pubkey === keys[2]!.pubkey && !p.connected),
    )
    // Node-3 is down: its order is still in the book (node-1 holds it), marked stale.
    const after = await list()
    expect(after.orders.find((o) => o.id === id)).toMatchObject({
      coordinator: { alias: 'lubeck' },
      stale: true,
    })
    expect(states(after)).toEqual({ hanseatic: 'live', lubeck: 'stale' })
    expect(after.coordinators.find((c) => c.alias === 'lubeck')!.error).toMatch(
      /^not connected to ws:\/\/127\.0\.0\.1:\d+/,
    )
    await start(2)
    await waitFor(
      () => syncStatus(2),
      (s) => s.peers.length === 2 && s.peers.every((p) => p.connected),
    )
  })

  it('a deletion by its author propagates to every member', async () => {
    const userSk = generateSecretKey()
    const relays = finalizeEvent(
      { kind: 10050, created_at: now(), tags: [['relay', url(1)]], content: '' },
      userSk,
    )
    expect((await publish(url(1), relays))[2]).toBe(true)
    for (const i of [0, 2]) {
      await waitFor(
        () => read(url(i), { ids: [relays.id] }),
        (ids) => Array.isArray(ids) && ids.length === 1,
      )
    }
    const deletion = finalizeEvent(
      {
        kind: 5,
        created_at: now(),
        tags: [
          ['e', relays.id],
          ['k', '10050'],
        ],
        content: 'moved',
      },
      userSk,
    )
    expect((await publish(url(1), deletion))[2]).toBe(true)
    for (const i of [0, 2]) {
      await waitFor(
        () => read(url(i), { ids: [relays.id] }),
        (ids) => Array.isArray(ids) && ids.length === 0,
      )
    }
  })

  it('a deletion without a k tag, made while node-3 is down, reaches it by catch-up', async () => {
    const userSk = generateSecretKey()
    const relays = finalizeEvent(
      { kind: 10050, created_at: now(), tags: [['relay', url(0)]], content: '' },
      userSk,
    )
    expect((await publish(url(0), relays))[2]).toBe(true)
    await waitFor(
      () => read(url(2), { ids: [relays.id] }),
      (ids) => Array.isArray(ids) && ids.length === 1,
    )
    await nodes[2]!.stop()
    // NIP-09's `k` tag is a SHOULD: this deletion has none, so no filter can tell its kind.
    const deletion = finalizeEvent(
      { kind: 5, created_at: now(), tags: [['e', relays.id]], content: '' },
      userSk,
    )
    expect((await publish(url(0), deletion))[2]).toBe(true)
    await waitFor(
      () => read(url(1), { ids: [relays.id] }),
      (ids) => Array.isArray(ids) && ids.length === 0,
    )
    // node-1's pushes waiting for node-3 go with node-1's restart: only catch-up is left.
    await nodes[0]!.stop()
    await start(0)
    await start(2)
    await waitFor(
      () => read(url(2), { ids: [relays.id] }),
      (ids) => Array.isArray(ids) && ids.length === 0,
    )
  })

  it('gift wraps by NIP-77: a stranger is told to authenticate, a non-member gets nothing, a member node all', async () => {
    expect(await negentropyIds(url(0), { kinds: [1059] }, null)).toMatch(/^NEG-ERR auth-required: /)
    expect(await negentropyIds(url(0), { kinds: [1059] }, generateSecretKey())).toEqual([])
    const asMember = await negentropyIds(url(0), { kinds: [1059] }, keys[1]!.secretKey)
    expect(Array.isArray(asMember) && asMember.length).toBeGreaterThanOrEqual(2)
  })

  it('a node removed by a manifest proposal stops receiving private kinds', async () => {
    const lubeck = genesis.coordinators[1]!.pubkey
    const v2 = nextManifestDraft(genesis, [{ op: 'remove-coordinator', pubkey: lubeck }], {
      issuedAt: now(),
      expiresAt: now() + 90 * DAY,
    })
    const offer = await fetch(`${url(0).replace('ws', 'http')}/federation/chain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { manifest: genesis, signatures: [signManifest(genesis, guardianSk)] },
        { manifest: v2, signatures: [signManifest(v2, guardianSk)] },
      ]),
    })
    expect(offer.status).toBeLessThan(300)
    // Node-1 and node-2 drop node-3 within seconds (node-2 pulls the new version itself).
    for (const i of [0, 1]) {
      await waitFor(
        () => syncStatus(i),
        (s) => s.peers.length === 1 && !s.peers.some((p) => p.pubkey === keys[2]!.pubkey),
      )
    }
    const wrap = wrapFor('after the removal')
    expect((await publish(url(0), wrap))[2]).toBe(true)
    await waitFor(
      () => read(url(1), { kinds: [1059] }, aliceSk),
      (ids) => Array.isArray(ids) && ids.includes(wrap.id),
    )
    // Node-3's key no longer reads the federation's mail, by NIP-77 or REQ.
    const asRemoved = await negentropyIds(url(0), { kinds: [1059] }, keys[2]!.secretKey)
    expect(asRemoved).toEqual([])
    expect(await read(url(0), { kinds: [1059] }, keys[2]!.secretKey)).toEqual([])
    // Its orders are no longer a member's: a copy passed on is refused.
    const copy = await publish(url(1), order!)
    expect([copy[2], copy[3]]).toEqual([false, expect.stringMatching(/^blocked: /)])
    // And node-3 itself replicates with nobody.
    await waitFor(
      () => syncStatus(2),
      (s) => s.peers.length === 0,
    )
  })

  it('hansa federation sync-status prints a table of the peers', async () => {
    const run = await hansa(['federation', 'sync-status', '--node', url(0)])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/peer/i)
    expect(run.stdout).toContain(keys[1]!.pubkey.slice(0, 12))
    const json = await hansa(['federation', 'sync-status', '--node', url(0), '--json'])
    const doc = JSON.parse(json.stdout) as { peers: Array<{ eventsSent: number }> }
    expect(doc.peers).toHaveLength(1)
    // An event node-1 accepts goes to its peer live and is counted as sent. (After the last
    // manifest change the mail before this one may have reached node-2 by catch-up instead,
    // before its subscription at node-1 was open again: publish one now and wait for it.)
    expect((await publish(url(0), wrapFor('counted as sent')))[2]).toBe(true)
    await waitFor(
      () => syncStatus(0),
      (s) => s.peers.length === 1 && s.peers[0]!.eventsSent > 0,
    )
    const after = JSON.parse(
      (await hansa(['federation', 'sync-status', '--node', url(0), '--json'])).stdout,
    ) as { peers: Array<{ eventsSent: number }> }
    expect(after.peers[0]!.eventsSent).toBeGreaterThan(0)
  })
})
