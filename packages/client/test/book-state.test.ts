// The joint book's state without I/O: an order seen on several relays, and in several versions,
// is one order in its newest version; a node's complete answer replaces what was known of it;
// forged signatures, invalid orders and strangers are left out with their reason; a pending
// order leaves the view at its expires_at; a coordinator's orders are stale while its node is.
import { BookState, type BookCoordinator } from '@hansa/client'
import { type Order, orderEventTemplate } from '@hansa/protocol'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'

const nodeSk = generateSecretKey()
const node = getPublicKey(nodeSk)
const coordinator: BookCoordinator = {
  pubkey: getPublicKey(generateSecretKey()),
  alias: 'hanseatic',
  nodes: [{ pubkey: node, urls: ['ws://a'], services: ['orderbook'] }],
}
const T = 1_800_000_000
const order = (id: string, status: Order['status'] = 'pending', expiresAt = T + 600): Order => ({
  id,
  side: 'sell',
  currency: 'EUR',
  status,
  amount: 100_000,
  fiatAmount: [50],
  paymentMethods: ['SEPA'],
  premium: 0,
  network: 'regtest',
  layer: 'lightning',
  expiresAt,
  expiration: expiresAt + 600,
  platform: ['hansa', 'hanseatic'],
})
const signed = (o: Order, createdAt: number, sk = nodeSk) =>
  JSON.parse(JSON.stringify(finalizeEvent(orderEventTemplate(o, createdAt), sk)))

const fresh = () => {
  const state = new BookState((e) => verifyEvent({ ...e }))
  state.setCoordinators([coordinator])
  return state
}

describe('the joint book state', () => {
  it('keeps one order per address, in its newest version, wherever it was seen', () => {
    const state = fresh()
    const v1 = signed(order('x'), T)
    const v2 = signed(order('x', 'in-progress'), T + 5)
    expect(state.offer(v1, 'ws://a')).toBe(true)
    expect(state.offer(v1, 'ws://mirror')).toBe(false) // the same event elsewhere
    expect(state.offer(v2, 'ws://mirror')).toBe(true)
    expect(state.offer(v1, 'ws://a')).toBe(false) // an older version changes nothing
    const view = state.view({ status: ['pending', 'in-progress'] }, T)
    expect(view.orders.map((o) => [o.id, o.order.status])).toEqual([['x', 'in-progress']])
  })

  it("replaces a node's orders with its complete answer", () => {
    const state = fresh()
    state.offer(signed(order('gone'), T), 'ws://a')
    state.answered(node, new Map(), T + 1)
    expect(state.view({}, T + 1).orders).toEqual([])
    expect(state.view({}, T + 1).coordinators[0]).toMatchObject({ state: 'live', lastSeen: T + 1 })
  })

  it('leaves out forgeries, invalid orders and strangers, saying why', () => {
    const state = fresh()
    const good = signed(order('a'), T)
    state.offer({ ...good, content: 'tampered' }, 'ws://a')
    const template = orderEventTemplate(order('b'), T)
    const invalid = finalizeEvent(
      { ...template, tags: template.tags.filter((t) => t[0] !== 'fa') },
      nodeSk,
    )
    state.offer(JSON.parse(JSON.stringify(invalid)), 'ws://a')
    state.offer(signed(order('c'), T, generateSecretKey()), 'ws://r')
    expect(state.view({}, T).orders).toEqual([])
    expect(state.view({}, T).excluded.map((x) => [x.id, x.reason.split(':')[0]])).toEqual([
      ['a', 'the signature does not verify'],
      ['b', 'not a valid NIP-69 order'],
      ['c', expect.stringMatching(/^signed by [0-9a-f]{12}…, which is no node of a member/)],
    ])
  })

  it('drops a pending order at its expires_at, and marks orders stale while their node is', () => {
    const state = fresh()
    state.offer(signed(order('soon', 'pending', T + 10), T), 'ws://a')
    state.answered(node, new Map(), T) // nothing in the answer...
    state.offer(signed(order('soon', 'pending', T + 10), T), 'ws://a') // ...then it arrives live
    expect(state.view({}, T + 9).orders.map((o) => o.id)).toEqual(['soon'])
    expect(state.view({}, T + 10).orders).toEqual([])
    state.down(node, 'closed')
    expect(state.view({}, T + 9).orders[0]).toMatchObject({ stale: true, lastSeen: T })
  })
})

describe('sources: the member nodes a whole-book read asks', () => {
  it('takes one node per coordinator first, then fills up; unset or too many: every node', async () => {
    const { createOrderBookClient, sourceNodes } = await import('@hansa/client')
    const nodeOf = (name: string) => ({
      pubkey: getPublicKey(generateSecretKey()),
      urls: [`ws://${name}`],
      services: ['orderbook'],
    })
    const list: BookCoordinator[] = [
      {
        pubkey: getPublicKey(generateSecretKey()),
        alias: 'a',
        nodes: [nodeOf('a1'), nodeOf('a2')],
      },
      { pubkey: getPublicKey(generateSecretKey()), alias: 'b', nodes: [nodeOf('b1')] },
      { pubkey: getPublicKey(generateSecretKey()), alias: 'c', nodes: [nodeOf('c1')] },
    ]
    const urls = (sources: number | undefined) => {
      const client = createOrderBookClient({
        coordinators: { coordinators: () => list },
        ...(sources === undefined ? {} : { sources }),
        verify: () => true,
      })
      client.state.setCoordinators(list)
      return sourceNodes(client).map((n) => n.urls[0])
    }
    expect(urls(1)).toEqual(['ws://a1'])
    expect(urls(2)).toEqual(['ws://a1', 'ws://b1'])
    expect(urls(3)).toEqual(['ws://a1', 'ws://b1', 'ws://c1'])
    expect(urls(undefined)).toEqual(['ws://a1', 'ws://a2', 'ws://b1', 'ws://c1'])
    expect(urls(9)).toEqual(['ws://a1', 'ws://a2', 'ws://b1', 'ws://c1'])
  })
})
