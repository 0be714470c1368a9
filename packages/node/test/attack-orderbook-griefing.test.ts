// Attacks on a running node's order book by takers who never mean to trade (issue: order-book
// griefing). A griefer takes orders and walks away, so the book empties: a take the maker does
// not confirm within orderbook.takeTimeoutSeconds returns the order to the book, and both
// parties are told. One key holds at most orderbook.maxOpenTakesPerKey orders at once. A taker
// who names an absurd amount on a market-priced order shows the maker the price it implies,
// and cannot end the trade (complete it) before the maker confirms. The node's clock is the
// test's, so fifteen minutes pass at once.
import { ORDER_KIND } from '@hansa/protocol'
import * as nip17 from 'nostr-tools/nip17'
import { getToken } from 'nostr-tools/nip98'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type TestNode, removeDir, startTestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

let clock = Math.floor(Date.now() / 1000)
const now = () => clock

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

/** The NIP-17 notices the node keeps for `sk`, read over an authenticated connection. */
async function notices(node: TestNode, sk: Uint8Array): Promise<string[]> {
  const relay = new Relay(node.url)
  const authed = new Promise<void>((resolve) => {
    relay.onauth = async (t) => {
      setTimeout(resolve, 100)
      return finalizeEvent({ ...t, created_at: clock }, sk)
    }
  })
  await relay.connect()
  await authed
  const wraps = await new Promise<Event[]>((resolve) => {
    const got: Event[] = []
    const sub = relay.subscribe([{ kinds: [1059], '#p': [getPublicKey(sk)] }], {
      onevent: (e) => got.push(e),
      oneose: () => {
        sub.close()
        resolve(got)
      },
    })
  })
  relay.close()
  return wraps.map((w) => nip17.unwrapEvent(w, sk).content)
}

async function statusOnRelay(node: TestNode, id: string): Promise<string | undefined> {
  const relay = await Relay.connect(node.url)
  const events = await new Promise<Event[]>((resolve) => {
    const got: Event[] = []
    const sub = relay.subscribe([{ kinds: [ORDER_KIND], '#d': [id] }], {
      onevent: (e) => got.push(e),
      oneose: () => {
        sub.close()
        resolve(got)
      },
    })
  })
  relay.close()
  return events[0]?.tags.find((t) => t[0] === 's')?.[1]
}

const order = {
  side: 'sell',
  currency: 'EUR',
  fiatAmount: [100],
  sats: 150_000,
  paymentMethods: ['SEPA'],
}

describe('order-book griefing against a running node', () => {
  let node: TestNode
  const makerSk = generateSecretKey()

  beforeAll(async () => {
    node = await startTestNode(
      {
        'orderbook.enabled': true,
        'orderbook.network': 'regtest',
        'maintenance.intervalSeconds': 3600,
      },
      undefined,
      now,
    )
  })
  afterAll(async () => {
    await node?.stop()
    if (node) removeDir(node.dataDir)
  })

  const make = async (body: Record<string, unknown> = order) => {
    const made = await call(node, 'POST', '/orderbook/orders', makerSk, body)
    expect(made.status).toBe(201)
    return made.body.id as string
  }

  it('a take the maker does not confirm in 15 minutes returns the order to the book, telling both', async () => {
    const griefer = generateSecretKey()
    const id = await make()
    const taken = await call(node, 'POST', `/orderbook/orders/${id}/take`, griefer, {})
    expect(taken.body).toMatchObject({ status: 'in-progress', trade: { confirmed: false } })
    expect((taken.body.trade as { confirmBy: number }).confirmBy).toBe(clock + 900)
    expect(await statusOnRelay(node, id)).toBe('in-progress')

    clock += 899
    await node.runMaintenance()
    expect((await call(node, 'GET', `/orderbook/orders/${id}`)).body.status).toBe('in-progress')
    clock += 1
    await node.runMaintenance()
    const back = await call(node, 'GET', `/orderbook/orders/${id}`, makerSk)
    expect([back.body.status, back.body.taker, back.body.trade]).toEqual(['pending', null, null])
    expect(await statusOnRelay(node, id)).toBe('pending')
    expect(await notices(node, makerSk)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Order ${id}: the take by npub1\\w+ was not confirmed within 15 minutes; the order is back in the book`,
        ),
      ),
    )
    expect(await notices(node, griefer)).toContainEqual(
      expect.stringMatching(new RegExp(`^Order ${id}: your take was not confirmed by the maker`)),
    )
    // The griefer's lapsed take cost nobody a fee, and the order can be taken again.
    const fees = node.billing.books.recent(50).filter((p) => p.reference.startsWith(`order:${id}`))
    expect(fees).toEqual([])
    const honest = generateSecretKey()
    const again = await call(node, 'POST', `/orderbook/orders/${id}/take`, honest, {})
    expect(again.body.status).toBe('in-progress')
    // A confirmed take never lapses.
    const confirmed = await call(node, 'POST', `/orderbook/orders/${id}/confirm`, makerSk)
    expect(confirmed.body.trade).toMatchObject({ confirmed: true, confirmBy: null })
    clock += 3600
    await node.runMaintenance()
    expect((await call(node, 'GET', `/orderbook/orders/${id}`)).body.status).toBe('in-progress')
  })

  it('one key holds at most orderbook.maxOpenTakesPerKey orders; past it a take is refused', async () => {
    const griefer = generateSecretKey()
    const ids = [await make(), await make(), await make()]
    for (const id of ids.slice(0, 2)) {
      expect((await call(node, 'POST', `/orderbook/orders/${id}/take`, griefer, {})).status).toBe(
        200,
      )
    }
    const third = await call(node, 'POST', `/orderbook/orders/${ids[2]}/take`, griefer, {})
    expect(third.status).toBe(429)
    expect(third.body.error?.code).toBe('HANSA_ORDER_OPEN_TAKES')
    expect(third.body.error?.message).toMatch(/^rate-limited: you hold 2 orders in progress/)
    expect((await call(node, 'GET', `/orderbook/orders/${ids[2]}`)).body.status).toBe('pending')
    // Once its takes lapse, the key may take again.
    clock += 900
    await node.runMaintenance()
    const later = await call(node, 'POST', `/orderbook/orders/${ids[2]}/take`, griefer, {})
    expect(later.status).toBe(200)
  })

  it("shows the maker the price a taker's amount implies on a market-priced order", async () => {
    const taker = generateSecretKey()
    const id = await make({ ...order, sats: 0, fiatAmount: [100], premium: 2 })
    // 100 EUR for 5,000,000 sats: 2,000 EUR per bitcoin, far below any market.
    const taken = await call(node, 'POST', `/orderbook/orders/${id}/take`, taker, {
      sats: 5_000_000,
    })
    expect(taken.status).toBe(200)
    const asMaker = await call(node, 'GET', `/orderbook/orders/${id}`, makerSk)
    expect(asMaker.body.trade).toMatchObject({ sats: 5_000_000, fiat: 100, impliedPrice: 2000 })
    expect(await notices(node, makerSk)).toContainEqual(
      expect.stringContaining(
        `The taker chose the amount: that is 2000 EUR/BTC (your premium: 2 % over market). Confirm the take within 15 minutes`,
      ),
    )
  })

  it('a taker who sells cannot end a trade its maker has not confirmed', async () => {
    const taker = generateSecretKey()
    const id = await make({ ...order, side: 'buy' })
    await call(node, 'POST', `/orderbook/orders/${id}/take`, taker, {})
    const early = await call(node, 'POST', `/orderbook/orders/${id}/complete`, taker)
    expect([early.status, early.body.error?.code]).toEqual([409, 'HANSA_ORDER_UNCONFIRMED'])
    await call(node, 'POST', `/orderbook/orders/${id}/confirm`, makerSk)
    const done = await call(node, 'POST', `/orderbook/orders/${id}/complete`, taker)
    expect(done.body.status).toBe('success')
  })
})
