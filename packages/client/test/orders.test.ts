// The joint order book, against real nodes: two coordinators (hanseatic, lubeck) run the order
// book; a third node, not in the manifest, runs one too. The SDK merges the members' orders
// into one book, each tagged with its coordinator and terms, and leaves out the outsider's;
// a coordinator the user turned off is hidden; a take goes to the order's own coordinator, and
// of two takers racing exactly one wins; a cancel by anyone but the maker is refused; a
// coordinator that does not answer never holds the book back — the rest shows within a second
// and its orders are marked stale with the time last seen; the live view follows new orders
// and drops expired ones; per-coordinator keys keep a user unlinkable across coordinators.
import { mkdtempSync, rmSync } from 'node:fs'
import { type Server, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type BookCoordinator,
  type JointBook,
  type JointOrder,
  OrderBookError,
  coordinatorsFromManifest,
  createOrderBook,
  deriveCoordinatorKey,
  fixedCoordinators,
  pubkeyFor,
} from '@hansa/client'
import { type HansaNode, resolveConfig, startNode } from '@hansa/node'
import { type Manifest, ORDER_KIND, parseOrder } from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)

type Node = HansaNode & { dataDir: string }

async function startBookNode(flags: Record<string, unknown>): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hansa-orders-'))
  const config = resolveConfig({
    flags: {
      dataDir,
      port: 0,
      logLevel: 'silent',
      'verify.threads': 1,
      'orderbook.enabled': true,
      'orderbook.network': 'regtest',
      ...flags,
    },
  })
  const node = await startNode(config, { log: pino({ level: 'silent' }) })
  return Object.assign(node, { dataDir })
}

const DAY = 86_400
const T = Math.floor(Date.now() / 1000)
const coordinatorKeys = { hanseatic: generateSecretKey(), lubeck: generateSecretKey() }

function manifestOf(nodes: { hanseatic: Node; lubeck: Node }, blackHole: string): Manifest {
  const coordinator = (alias: 'hanseatic' | 'lubeck', node: Node) => ({
    pubkey: getPublicKey(coordinatorKeys[alias]),
    alias,
    description: `${alias} coordinator`,
    contact: {},
    nodes: [{ pubkey: node.key.pubkey, urls: [node.url], services: ['inbox', 'orderbook'] }],
  })
  return {
    hansa: 1,
    name: 'Order League',
    version: 1,
    previous: null,
    issuedAt: T,
    expiresAt: T + 30 * DAY,
    guardians: [{ pubkey: getPublicKey(generateSecretKey()), name: 'ana' }],
    threshold: 1,
    coordinators: [
      coordinator('hanseatic', nodes.hanseatic),
      coordinator('lubeck', nodes.lubeck),
      {
        // A member whose node never answers (it accepts TCP and says nothing).
        pubkey: getPublicKey(generateSecretKey()),
        alias: 'sleepy',
        description: 'a slow coordinator',
        contact: {},
        nodes: [
          {
            pubkey: getPublicKey(generateSecretKey()),
            urls: [blackHole],
            services: ['orderbook'],
          },
        ],
      },
    ],
    services: { inbox: {}, orderbook: { currencies: ['EUR', 'USD'] } },
    devFund: { recipient: getPublicKey(generateSecretKey()), suggestedRate: 0.2 },
  }
}

const alice = generateSecretKey() // a maker
const bob = generateSecretKey() // a taker
const carol = generateSecretKey() // another taker
const mallory = generateSecretKey()

describe('the joint order book', () => {
  let hanseatic: Node
  let lubeck: Node
  let rogue: Node
  let blackHole: Server
  let manifest: Manifest
  const sockets: import('node:net').Socket[] = []

  beforeAll(async () => {
    ;[hanseatic, lubeck, rogue] = await Promise.all([
      startBookNode({ 'orderbook.makerFee': 0.001, 'orderbook.takerFee': 0.002 }),
      startBookNode({}),
      startBookNode({}),
    ])
    blackHole = createServer((socket) => sockets.push(socket))
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r))
    const port = (blackHole.address() as { port: number }).port
    manifest = manifestOf({ hanseatic, lubeck }, `ws://127.0.0.1:${port}`)
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    blackHole?.close()
    for (const node of [hanseatic, lubeck, rogue]) {
      if (!node) continue
      await node.close()
      rmSync(node.dataDir, { recursive: true, force: true })
    }
  })

  const bookFor = (
    secretKey: Uint8Array | undefined,
    options: { disabled?: string[]; perCoordinator?: boolean; now?: () => number } = {},
  ) =>
    createOrderBook({
      coordinators: {
        coordinators: () =>
          coordinatorsFromManifest(manifest, { disabled: options.disabled ?? [] }),
      },
      ...(secretKey
        ? { identity: { secretKey, perCoordinator: options.perCoordinator ?? false } }
        : {}),
      relays: [rogue.url],
      ...(options.now ? { now: options.now } : {}),
    })

  let aliceAtHanseatic: string
  let aliceAtLubeck: string

  it('merges both coordinators into one book, each order tagged with its coordinator and terms', async () => {
    const makerBook = bookFor(alice)
    const made = [
      await makerBook.make({
        coordinator: 'hanseatic',
        side: 'sell',
        currency: 'EUR',
        fiatAmount: 100,
        sats: 150_000,
        paymentMethods: ['SEPA'],
        premium: 1,
      }),
      await makerBook.make({
        coordinator: 'hanseatic',
        side: 'buy',
        currency: 'USD',
        fiatAmount: [20, 200],
        paymentMethods: ['Zelle', 'Cash App'],
        premium: -0.5,
      }),
      await makerBook.make({
        coordinator: 'lubeck',
        side: 'sell',
        currency: 'EUR',
        fiatAmount: 250,
        sats: 400_000,
        paymentMethods: ['Revolut', 'SEPA Instant'],
      }),
    ]
    aliceAtHanseatic = made[0]!.maker
    aliceAtLubeck = made[2]!.maker
    expect(made.map((m) => m.coordinator.alias)).toEqual(['hanseatic', 'hanseatic', 'lubeck'])

    // An outsider's node publishes its own order; the book reads it (a relay added by hand)
    // and leaves it out: its key is no member coordinator's.
    await postAs(rogue, mallory, '/orderbook/orders', {
      side: 'sell',
      currency: 'EUR',
      fiatAmount: [1],
      sats: 30_000,
      paymentMethods: ['SEPA'],
    })

    // sleepy takes the connection and never says a word: the book answers without it, from
    // the coordinators that do answer, and shows sleepy as stale.
    const accepted = sockets.length
    const book = await bookFor(undefined).list()
    expect(sockets.length).toBeGreaterThan(accepted)
    expect(Object.fromEntries(book.coordinators.map((c) => [c.alias, c.state]))).toEqual({
      hanseatic: 'live',
      lubeck: 'live',
      sleepy: 'stale',
    })
    const ids = (alias: string) =>
      book.orders.filter((o) => o.coordinator.alias === alias).map((o) => o.id)
    expect(ids('hanseatic').sort()).toEqual([made[0]!.id, made[1]!.id].sort())
    expect(ids('lubeck')).toEqual([made[2]!.id])
    expect(book.orders).toHaveLength(3)
    const atLubeck = book.orders.find((o) => o.id === made[2]!.id)!
    expect(atLubeck).toMatchObject({
      coordinator: { alias: 'lubeck', pubkey: getPublicKey(coordinatorKeys.lubeck) },
      node: { pubkey: lubeck.key.pubkey, url: lubeck.url },
      stale: false,
      order: {
        side: 'sell',
        currency: 'EUR',
        amount: 400_000,
        fiatAmount: [250],
        maker: aliceAtLubeck,
      },
      terms: { makerFeePpm: 250, takerFeePpm: 1750, network: 'regtest' },
    })
    const atHanseatic = book.orders.find((o) => o.id === made[0]!.id)!
    expect(atHanseatic.terms).toMatchObject({ makerFeePpm: 1000, takerFeePpm: 2000 })
    expect(atHanseatic.event.pubkey).toBe(hanseatic.key.pubkey)
    // Excluded, with the reason.
    expect(book.excluded).toEqual([
      expect.objectContaining({
        pubkey: rogue.key.pubkey,
        relay: rogue.url,
        reason: expect.stringMatching(/no node of a member coordinator in the verified manifest$/),
      }),
    ])
    expect(book.coordinators.map((c) => [c.alias, c.state, c.orders])).toEqual([
      ['hanseatic', 'live', 2],
      ['lubeck', 'live', 1],
      ['sleepy', 'stale', 0],
    ])
    expect(book.coordinators[2]!.error).toMatch(
      /^no answer from ws:\/\/127\.0\.0\.1:\d+ within 800 ms$/,
    )
    // Filters: currency, side, payment method (any case, part of a name).
    const eur = await bookFor(undefined).list({
      currency: 'EUR',
      side: 'sell',
      paymentMethod: 'sepa',
    })
    expect(eur.orders.map((o) => o.id).sort()).toEqual([made[0]!.id, made[2]!.id].sort())
  })

  it('hides a coordinator the user turned off', async () => {
    const book = await bookFor(undefined, { disabled: ['lubeck'] }).list()
    expect(new Set(book.orders.map((o) => o.coordinator.alias))).toEqual(new Set(['hanseatic']))
    expect(book.coordinators.find((c) => c.alias === 'lubeck')?.state).toBe('disabled')
    await expect(
      bookFor(alice, { disabled: ['lubeck'] }).make({
        coordinator: 'lubeck',
        side: 'buy',
        currency: 'EUR',
        fiatAmount: 10,
        paymentMethods: ['SEPA'],
      }),
    ).rejects.toThrow('coordinator lubeck is turned off in your trust list')
  })

  it("routes a take to the order's coordinator, where exactly one of two racing takers wins", async () => {
    const [order] = (await bookFor(undefined).list({ coordinator: 'lubeck' })).orders
    expect(order).toBeDefined()
    const outcomes = await Promise.allSettled([
      bookFor(bob).take({ order: order! }),
      bookFor(carol).take({ order: order! }),
    ])
    const won = outcomes.filter((o) => o.status === 'fulfilled')
    const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[]
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(lost[0]!.reason).toBeInstanceOf(OrderBookError)
    expect((lost[0]!.reason as OrderBookError).code).toBe('HANSA_ORDER_NOT_PENDING')
    expect((lost[0]!.reason as OrderBookError).url).toContain(lubeck.httpUrl)
    const receipt = (won[0] as PromiseFulfilledResult<{ status: string; taker: string }>).value
    expect(receipt.status).toBe('in-progress')
    expect([getPublicKey(bob), getPublicKey(carol)]).toContain(receipt.taker)
    // Lubeck ran it; hanseatic never heard of it.
    expect((await fetch(`${lubeck.httpUrl}/orderbook/orders/${order!.id}`)).status).toBe(200)
    expect((await fetch(`${hanseatic.httpUrl}/orderbook/orders/${order!.id}`)).status).toBe(404)
    // The book no longer shows it as pending; it does as in progress.
    const pending = await bookFor(undefined).list()
    expect(pending.orders.map((o) => o.id)).not.toContain(order!.id)
    const inProgress = await bookFor(undefined).list({ status: ['in-progress'] })
    expect(inProgress.orders.map((o) => o.id)).toEqual([order!.id])
    // The maker confirms the take (else it lapses back to the book); then lubeck books its
    // fees: 0.025 % + 0.175 % of 400 000 sats, in msat.
    const confirmed = await bookFor(alice).confirm({ order: order! })
    expect(confirmed.status).toBe('in-progress')
    const fees = lubeck.billing.books.recent(10).filter((p) => p.purpose === 'trade-fee')
    expect(fees.map((p) => p.amount).sort()).toEqual([100_000n, 700_000n])
  })

  it('refuses a cancel by anyone but the maker', async () => {
    const [order] = (await bookFor(undefined).list({ coordinator: 'hanseatic', side: 'sell' }))
      .orders
    const refused = await bookFor(mallory)
      .cancel({ order: order! })
      .catch((e: OrderBookError) => e)
    expect(refused).toBeInstanceOf(OrderBookError)
    expect([(refused as OrderBookError).code, (refused as OrderBookError).status]).toEqual([
      'HANSA_ORDER_NOT_MAKER',
      403,
    ])
    const canceled = await bookFor(alice).cancel({ order: order! })
    expect(canceled.status).toBe('canceled')
    const book = await bookFor(undefined).list({ coordinator: 'hanseatic' })
    expect(book.orders.map((o) => o.id)).not.toContain(order!.id)
  })

  it('are plain NIP-69 events for any Nostr client (nostr-tools)', async () => {
    const relay = await Relay.connect(hanseatic.url)
    const events = await new Promise<import('nostr-tools').Event[]>((resolve) => {
      const got: import('nostr-tools').Event[] = []
      const sub = relay.subscribe([{ kinds: [ORDER_KIND], '#s': ['pending'] }], {
        onevent: (e) => got.push(e),
        oneose: () => {
          sub.close()
          resolve(got)
        },
      })
    })
    relay.close()
    expect(events.length).toBeGreaterThan(0)
    for (const e of events) {
      expect(verifyEvent(e)).toBe(true)
      const r = parseOrder(e)
      expect(r.ok && r.order.platform).toEqual(['hansa'])
    }
  })

  it('keeps the book live: new orders appear, expired ones leave on time', async () => {
    let offset = 0
    // Each wait ends with the update it waits for (onUpdate), not after a fixed time.
    let last: JointBook | undefined
    const waiting: Array<{ check: (view: JointBook) => boolean; found: (v: JointBook) => void }> =
      []
    const watcher = bookFor(undefined, { now: () => Math.floor(Date.now() / 1000) + offset }).watch(
      {
        onUpdate: (view) => {
          last = view
          for (const w of [...waiting]) {
            if (!w.check(view)) continue
            waiting.splice(waiting.indexOf(w), 1)
            w.found(view)
          }
        },
      },
    )
    const waitFor = (check: (view: JointBook) => boolean) =>
      new Promise<JointBook>((found) => {
        if (last && check(last)) found(last)
        else waiting.push({ check, found })
      })
    // The first view does not wait for sleepy, which never answers: the others are live in it.
    const first = await waitFor(() => true)
    expect(Object.fromEntries(first.coordinators.map((c) => [c.alias, c.state]))).toEqual({
      hanseatic: 'live',
      lubeck: 'live',
      sleepy: 'stale',
    })
    const before = first.orders.length

    // The watcher's clock runs 117 s ahead: an order made for 120 s expires for it in about
    // 3 s, and leaves the view then, before the node publishes "expired".
    offset = 117
    const made = await bookFor(alice).make({
      coordinator: 'lubeck',
      side: 'buy',
      currency: 'EUR',
      fiatAmount: 40,
      sats: 60_000,
      paymentMethods: ['SEPA'],
      expiresIn: 120,
    })
    const seen = await waitFor((v) => v.orders.some((o) => o.id === made.id))
    expect(seen.orders).toHaveLength(before + 1)
    // It leaves the view by the watcher's clock, long before the node would say "expired".
    const gone = await waitFor((v) => !v.orders.some((o) => o.id === made.id))
    expect(gone.orders).toHaveLength(before)
    watcher.stop()
  })

  it('derives one unlinkable key per coordinator from one secret', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => i + 1)
    const coordinator = 'a'.repeat(64)
    // A vector: HKDF-SHA256(secret, salt "hansa/orderbook/coordinator-key/v1", info pubkey).
    expect(Buffer.from(deriveCoordinatorKey(secret, coordinator)).toString('hex')).toBe(
      DERIVED_VECTOR,
    )
    const identity = { secretKey: alice, perCoordinator: true }
    const h = pubkeyFor(identity, getPublicKey(coordinatorKeys.hanseatic))
    const l = pubkeyFor(identity, getPublicKey(coordinatorKeys.lubeck))
    expect(new Set([h, l, getPublicKey(alice)]).size).toBe(3)
    // The same derivation every time: the SDK finds the user's orders again.
    expect(pubkeyFor(identity, getPublicKey(coordinatorKeys.hanseatic))).toBe(h)
    const book = bookFor(alice, { perCoordinator: true })
    const robot = await book.registerRobot({ coordinator: 'hanseatic' })
    expect(robot).toMatchObject({ created: true, robot: { pubkey: h, ordersMade: 0 } })
    const made = await book.make({
      coordinator: 'lubeck',
      side: 'sell',
      currency: 'USD',
      fiatAmount: 30,
      sats: 45_000,
      paymentMethods: ['Zelle'],
    })
    expect(made.maker).toBe(l)
    expect([aliceAtHanseatic, aliceAtLubeck]).toEqual([getPublicKey(alice), getPublicKey(alice)])
  })

  it('shows a coordinator that went down as stale, with its orders as last seen', async () => {
    const live = await bookFor(undefined).list({ coordinator: 'lubeck' })
    expect(live.orders.length).toBeGreaterThan(0)
    const lastSeen = live.coordinators.find((c) => c.alias === 'lubeck')!.lastSeen
    expect(lastSeen).toBeGreaterThanOrEqual(T)
    // The same book object remembers what it saw; lubeck now stops.
    const book = bookFor(undefined)
    await book.list()
    await lubeck.close()
    // lubeck is down: the book still answers, from hanseatic, and keeps lubeck's orders stale.
    const after = await book.list()
    const lubecks = after.orders.filter((o: JointOrder) => o.coordinator.alias === 'lubeck')
    expect(lubecks.length).toBe(live.orders.length)
    for (const o of lubecks) {
      expect(o.stale).toBe(true)
      expect(o.lastSeen).toBeGreaterThanOrEqual(lastSeen!)
    }
    expect(
      after.orders.filter((o) => o.coordinator.alias === 'hanseatic').every((o) => !o.stale),
    ).toBe(true)
    expect(after.coordinators.find((c) => c.alias === 'lubeck')).toMatchObject({ state: 'stale' })
    expect(after.coordinators.find((c) => c.alias === 'hanseatic')).toMatchObject({ state: 'live' })
  })

  it('works with a fixed list of coordinators too (the trust list interface)', async () => {
    const list: BookCoordinator[] = [
      {
        pubkey: getPublicKey(coordinatorKeys.hanseatic),
        alias: 'hanseatic',
        nodes: [{ pubkey: hanseatic.key.pubkey, urls: [hanseatic.url], services: ['orderbook'] }],
      },
    ]
    const book = await createOrderBook({ coordinators: fixedCoordinators(list) }).list()
    expect(book.orders.every((o) => o.coordinator.alias === 'hanseatic')).toBe(true)
    expect(book.orders.length).toBeGreaterThan(0)
  })
})

const DERIVED_VECTOR = '0e1ecee9e5610b1bf11b600ed578a5d3bd80a0eacce25f35ed554b187221811d'

async function postAs(node: Node, sk: Uint8Array, path: string, body: Record<string, unknown>) {
  const url = `${node.httpUrl}${path}`
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: await getToken(url, 'POST', (t) => finalizeEvent(t, sk), true, body),
    },
    body: JSON.stringify(body),
  })
  expect(response.status).toBe(201)
  return response.json()
}
