// The order book on one node: a maker submits an order over HTTP (NIP-98) and the node
// publishes it as a NIP-69 event signed by its own key, naming the maker; clients cannot
// publish kind 38383 themselves; orders outside the terms are refused with the reason; of many
// takers racing for one order exactly one wins, both parties find a NIP-17 notice in the
// node's inbox, and the coordinator's fees are booked with the dev tax once the maker confirms
// the take; only the maker
// cancels; the bitcoin seller completes; a pending order expires on time. The node runs on a
// clock of its own; clients sign with that clock.
import { join } from 'node:path'
import { ORDER_KIND, parseOrder } from '@hansa/protocol'
import { readKeyFile } from '@hansa/node'
import * as nip17 from 'nostr-tools/nip17'
import { getToken } from 'nostr-tools/nip98'
import {
  type Event,
  finalizeEvent,
  generateSecretKey,
  getPublicKey,
  verifyEvent,
} from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

let clock = Math.floor(Date.now() / 1000)
const now = () => clock

const makerSk = generateSecretKey()
const maker = getPublicKey(makerSk)
const takers = Array.from({ length: 12 }, () => generateSecretKey())

type Answer = {
  status: number
  body: Record<string, unknown> & { error?: { code: string; message: string } }
}

async function call(
  node: TestNode,
  method: string,
  path: string,
  sk?: Uint8Array,
  body?: unknown,
): Promise<Answer> {
  const url = `${node.httpUrl}${path}`
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (sk) {
    headers.authorization = await getToken(
      url,
      method,
      (t) => finalizeEvent({ ...t, created_at: clock }, sk),
      true,
      body as Record<string, unknown> | undefined,
    )
  }
  const response = await fetch(url, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

async function connectAs(url: string, sk?: Uint8Array): Promise<Relay> {
  const relay = new Relay(url)
  if (sk) relay.onauth = async (t) => finalizeEvent({ ...t, created_at: clock }, sk)
  await relay.connect()
  if (sk) await new Promise((r) => setTimeout(r, 150)) // the node's challenge is answered
  return relay
}

function read(relay: Relay, filter: Record<string, unknown>) {
  return new Promise<Event[]>((resolve) => {
    const events: Event[] = []
    const sub = relay.subscribe([filter], {
      onevent: (e) => events.push(e),
      oneose: () => {
        resolve(events)
        sub.close()
      },
    })
  })
}

const sell = {
  side: 'sell',
  currency: 'EUR',
  fiatAmount: [100],
  sats: 150_000,
  paymentMethods: ['SEPA', 'Revolut'],
  premium: 1.5,
  name: 'Satoshi',
}

describe('order book service', () => {
  let node: TestNode
  let reader: Relay

  beforeAll(async () => {
    node = await startTestNode(
      {
        'orderbook.enabled': true,
        'orderbook.currencies': 'EUR,USD',
        'orderbook.network': 'regtest',
        'billing.devTaxRate': 0.2,
        'maintenance.intervalSeconds': 3600,
      },
      undefined,
      now,
    )
    reader = await connectAs(node.url)
  })
  afterAll(async () => {
    reader?.close()
    await node?.stop()
    if (node) removeDir(node.dataDir)
  })

  it('publishes a made order as a NIP-69 event signed by the node key, naming the maker', async () => {
    const made = await call(node, 'POST', '/orderbook/orders', makerSk, sell)
    expect(made.status).toBe(201)
    const id = made.body.id as string
    const [event] = await read(reader, { kinds: [ORDER_KIND], '#d': [id] })
    expect(event).toBeDefined()
    expect(verifyEvent(event!)).toBe(true)
    expect(event!.pubkey).toBe(node.key.pubkey)
    const reading = parseOrder(event)
    expect(reading.ok).toBe(true)
    if (!reading.ok) return
    expect(reading.order).toMatchObject({
      id,
      side: 'sell',
      currency: 'EUR',
      status: 'pending',
      amount: 150_000,
      fiatAmount: [100],
      paymentMethods: ['SEPA', 'Revolut'],
      premium: 1.5,
      network: 'regtest',
      layer: 'lightning',
      maker,
      platform: ['hansa'],
      bond: 4500,
      name: 'Satoshi',
    })
    expect(reading.order.expiresAt).toBe(clock + 86_400)
    // The terms say what the book takes, signed with the node's other terms.
    const terms = await (await fetch(`${node.httpUrl}/terms`)).json()
    expect(terms.terms.services.orderbook).toMatchObject({
      access: 'free',
      trading: { currencies: ['EUR', 'USD'], makerFeePpm: 250, takerFeePpm: 1750, bondPpm: 30_000 },
    })
    // The robot is known from its first order on.
    const robot = await call(node, 'POST', '/orderbook/robot', makerSk)
    expect(robot.body).toMatchObject({ created: false, robot: { pubkey: maker, ordersMade: 1 } })
  })

  it('refuses kind 38383 published by anyone but the coordinator', async () => {
    const relay = await connectAs(node.url)
    const forged = finalizeEvent(
      {
        kind: ORDER_KIND,
        created_at: clock,
        content: '',
        tags: [
          ['d', 'x'],
          ['k', 'buy'],
        ],
      },
      makerSk,
    )
    await expect(relay.publish(forged)).rejects.toThrow(
      /^blocked: orders \(kind 38383\) on this node are published by the coordinator: submit yours with POST \/orderbook\/orders/,
    )
    relay.close()
  })

  it('refuses orders outside its terms and requests without NIP-98, saying why', async () => {
    const yen = await call(node, 'POST', '/orderbook/orders', makerSk, { ...sell, currency: 'JPY' })
    expect([yen.status, yen.body.error]).toEqual([
      422,
      { code: 'HANSA_ORDER_TERMS', message: 'this coordinator books EUR, USD, not JPY' },
    ])
    const huge = await call(node, 'POST', '/orderbook/orders', makerSk, { ...sell, sats: 9e8 })
    expect(huge.body.error?.message).toBe(
      'trades here are 20000 to 5000000 sats; the order asks for 900000000',
    )
    const comma = await call(node, 'POST', '/orderbook/orders', makerSk, {
      ...sell,
      paymentMethods: ['SEPA,Revolut'],
    })
    expect([comma.status, comma.body.error?.code]).toEqual([400, 'HANSA_ORDER_INVALID'])
    const anonymous = await call(node, 'POST', '/orderbook/orders', undefined, sell)
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([401, 'HANSA_HTTP_AUTH'])
  })

  it('lets exactly one of many racing takers win, tells both parties, books the fees', async () => {
    const made = await call(node, 'POST', '/orderbook/orders', makerSk, sell)
    const id = made.body.id as string
    const answers = await Promise.all(
      takers.map((sk) => call(node, 'POST', `/orderbook/orders/${id}/take`, sk, {})),
    )
    const won = answers.filter((a) => a.status === 200)
    const lost = answers.filter((a) => a.status !== 200)
    expect(won).toHaveLength(1)
    expect(lost.map((a) => [a.status, a.body.error?.code])).toEqual(
      lost.map(() => [409, 'HANSA_ORDER_NOT_PENDING']),
    )
    const winner = won[0]!.body.taker as string
    expect(won[0]!.body).toMatchObject({
      status: 'in-progress',
      trade: { sats: 150_000, fiat: 100, makerFee: 37, takerFee: 262 },
    })
    const [event] = await read(reader, { kinds: [ORDER_KIND], '#d': [id] })
    expect(parseOrder(event).ok && event!.tags.find((t) => t[0] === 's')?.[1]).toBe('in-progress')

    // Both parties find a NIP-17 message from the node in its inbox.
    const winnerSk = takers.find((sk) => getPublicKey(sk) === winner)!
    for (const [sk, pubkey, says] of [
      [makerSk, maker, `Your sell order was taken by`],
      [winnerSk, winner, `You took the sell order of`],
    ] as const) {
      const inbox = await connectAs(node.url, sk)
      const wraps = await read(inbox, { kinds: [1059], '#p': [pubkey] })
      const messages = wraps.map((w) => nip17.unwrapEvent(w, sk))
      const notice = messages.find((m) => m.content.startsWith(`Order ${id} taken.`))
      expect(notice?.pubkey).toBe(node.key.pubkey)
      expect(notice?.content).toContain(says)
      expect(notice?.content).toContain('100 EUR for 150000 sats')
      inbox.close()
    }

    // No fee is due before the maker confirms the take; then the fees (0.025 % + 0.175 % of
    // 150 000 sats) are the coordinator's income, less 20 %.
    const early = node.billing.books.recent(10).filter((p) => p.reference.startsWith(`order:${id}`))
    expect(early).toEqual([])
    const notMaker = await call(node, 'POST', `/orderbook/orders/${id}/confirm`, winnerSk)
    expect([notMaker.status, notMaker.body.error?.code]).toEqual([403, 'HANSA_ORDER_NOT_MAKER'])
    const confirmed = await call(node, 'POST', `/orderbook/orders/${id}/confirm`, makerSk)
    expect(confirmed.body.trade).toMatchObject({ confirmed: true, impliedPrice: 66_666.67 })
    const fees = node.billing.books.recent(10).filter((p) => p.reference.startsWith(`order:${id}`))
    expect(
      fees.map((p) => [p.purpose, p.peer, p.amount, p.income + p.devTax, p.service]).sort(),
    ).toEqual(
      [
        ['trade-fee', maker, 37_000n, 37_000n, 'orderbook'],
        ['trade-fee', winner, 262_000n, 262_000n, 'orderbook'],
      ].sort(),
    )
    expect(fees.reduce((sum, p) => sum + p.devTax, 0n)).toBe(59_800n)

    // Who took it, and on what terms, is for the two parties only.
    const anonymous = await call(node, 'GET', `/orderbook/orders/${id}`)
    expect([anonymous.body.status, anonymous.body.taker, anonymous.body.trade]).toEqual([
      'in-progress',
      null,
      null,
    ])
    const asMaker = await call(node, 'GET', `/orderbook/orders/${id}`, makerSk)
    expect([asMaker.body.taker, (asMaker.body.trade as { sats: number }).sats]).toEqual([
      winner,
      150_000,
    ])

    // The seller (the maker of a sell order) completes the trade; the taker cannot.
    const notSeller = await call(node, 'POST', `/orderbook/orders/${id}/complete`, winnerSk)
    expect([notSeller.status, notSeller.body.error?.code]).toEqual([403, 'HANSA_ORDER_NOT_SELLER'])
    const done = await call(node, 'POST', `/orderbook/orders/${id}/complete`, makerSk)
    expect(done.body.status).toBe('success')
  })

  it('lets only the maker cancel', async () => {
    const made = await call(node, 'POST', '/orderbook/orders', makerSk, sell)
    const id = made.body.id as string
    const stranger = await call(node, 'POST', `/orderbook/orders/${id}/cancel`, takers[0])
    expect([stranger.status, stranger.body.error]).toEqual([
      403,
      { code: 'HANSA_ORDER_NOT_MAKER', message: 'only the maker may cancel an order' },
    ])
    const own = await call(node, 'POST', `/orderbook/orders/${id}/cancel`, makerSk)
    expect(own.body.status).toBe('canceled')
    const [event] = await read(reader, { kinds: [ORDER_KIND], '#d': [id] })
    expect(event!.tags.find((t) => t[0] === 's')?.[1]).toBe('canceled')
    const late = await call(node, 'POST', `/orderbook/orders/${id}/take`, takers[0], {})
    expect(late.body.error?.message).toBe('cannot take it: the order is canceled')
  })

  it('expires a pending order at its expires_at, and nobody can take it after', async () => {
    const made = await call(node, 'POST', '/orderbook/orders', makerSk, {
      ...sell,
      sats: 0,
      fiatAmount: [50, 200],
      expiresIn: 600,
    })
    const id = made.body.id as string
    const range = await call(node, 'POST', `/orderbook/orders/${id}/take`, takers[1], {
      fiatAmount: 500,
      sats: 100_000,
    })
    expect(range.body.error?.message).toBe('the order takes 50 to 200 EUR; 500 is outside')
    clock += 599
    await node.runMaintenance()
    const [still] = await read(reader, { kinds: [ORDER_KIND], '#d': [id] })
    expect(still!.tags.find((t) => t[0] === 's')?.[1]).toBe('pending')
    clock += 1
    const late = await call(node, 'POST', `/orderbook/orders/${id}/take`, takers[1], {
      fiatAmount: 60,
      sats: 100_000,
    })
    expect([late.status, late.body.error?.code]).toEqual([410, 'HANSA_ORDER_EXPIRED'])
    await node.runMaintenance()
    const [expired] = await read(reader, { kinds: [ORDER_KIND], '#d': [id] })
    expect(expired!.tags.find((t) => t[0] === 's')?.[1]).toBe('expired')
    expect(parseOrder(expired).ok).toBe(true)
    const info = await call(node, 'GET', '/orderbook')
    expect(info.body.counts).toMatchObject({ expired: 1, canceled: 1, success: 1 })
  })

  it('shows its routes in the OpenAPI document', async () => {
    const doc = await (await fetch(`${node.httpUrl}/openapi.json`)).json()
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/orderbook',
        '/orderbook/orders',
        '/orderbook/orders/{id}/take',
        '/orderbook/orders/{id}/cancel',
      ]),
    )
    const nip11 = await (
      await fetch(node.httpUrl, { headers: { accept: 'application/nostr+json' } })
    ).json()
    expect(nip11.supported_nips).toEqual(expect.arrayContaining([69, 98]))
    // The node key on disk is the one that signs the book.
    expect(readKeyFile(join(node.dataDir, 'node.key')).pubkey).toBe(node.key.pubkey)
  })
})
