// NIP-69 orders: the vectors (NIP-69's own example, and one broken tag per case) give their
// verdicts; any valid order reads back as built; the reader never throws and names the tag
// that is wrong; the state machine keeps its rules under any sequence of actions.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, verifyEvent } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import {
  FINAL_STATUSES,
  ORDER_MANDATORY_TAGS,
  type Order,
  type OrderAction,
  type OrderState,
  formatPpm,
  nextOrderState,
  orderEventTemplate,
  orderIssues,
  orderTags,
  orderbookTermsIssues,
  parseOrder,
  rateToPpm,
  sellerOf,
  tradeFees,
  tradingTermsOf,
} from '@hansa/protocol'

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/nip69-orders.json', import.meta.url), 'utf8'),
) as {
  cases: Array<{ name: string; tags: string[][]; valid: boolean; order?: Order; issues?: string[] }>
}

describe('NIP-69 vectors', () => {
  it('read NIP-69 example as an order and name the broken tag of every bad case', () => {
    expect(vectors.cases.length).toBeGreaterThan(20)
    for (const c of vectors.cases) {
      const r = parseOrder({ kind: 38383, tags: c.tags })
      if (c.valid) {
        expect(r.ok, c.name).toBe(true)
        if (r.ok) expect(JSON.parse(JSON.stringify(r.order)), c.name).toEqual(c.order)
      } else {
        expect(r.ok, c.name).toBe(false)
        if (!r.ok)
          expect(
            r.issues.map((i) => i.tag),
            c.name,
          ).toEqual(c.issues)
      }
    }
  })

  it('says what a missing tag means, and refuses other kinds', () => {
    const example = vectors.cases[0]!.tags
    const r = parseOrder({ kind: 38383, tags: example.filter((t) => t[0] !== 'fa') })
    expect(r).toEqual({
      ok: false,
      issues: [{ tag: 'fa', message: 'the mandatory fa tag is missing (the fiat amount)' }],
    })
    expect(orderIssues({ kind: 30023, tags: example })).toEqual([
      { tag: 'kind', message: 'an order event has kind 38383' },
    ])
    expect(orderIssues(null)[0]?.tag).toBe('event')
  })
})

const method = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => !s.includes(',') && s.trim() === s && s !== '')
const orderArb: fc.Arbitrary<Order> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 100 }),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    currency: fc.stringMatching(/^[A-Z]{3}$/),
    status: fc.constantFrom(
      'pending' as const,
      'canceled' as const,
      'in-progress' as const,
      'success' as const,
      'expired' as const,
    ),
    amount: fc.integer({ min: 0, max: 2_100_000_000_000_000 }),
    fiat: fc.array(
      fc.integer({ min: 1, max: 10_000_000 }).map((n) => n / 100),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
    paymentMethods: fc.array(method, { minLength: 1, maxLength: 5 }),
    premium: fc.integer({ min: -9999, max: 100_000 }).map((n) => n / 100),
    network: fc.constantFrom('mainnet', 'signet', 'regtest', 'testnet4'),
    layer: fc.constantFrom('lightning', 'onchain', 'liquid'),
    expiresAt: fc.integer({ min: 0, max: 4_000_000_000 }),
    grace: fc.integer({ min: 0, max: 10_000_000 }),
    platform: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 2 }),
    maker: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
  })
  .map(({ fiat, grace, maker, ...o }) => {
    const sorted = [...fiat].sort((a, b) => a - b)
    const order: Order = {
      ...o,
      fiatAmount: sorted.length === 2 ? [sorted[0]!, sorted[1]!] : [sorted[0]!],
      expiration: o.expiresAt + grace,
    }
    if (maker !== undefined) order.maker = maker
    return order
  })

describe('NIP-69 properties', () => {
  it('any valid order reads back exactly as it was built', () => {
    fc.assert(
      fc.property(orderArb, fc.nat(), (order, createdAt) => {
        const template = orderEventTemplate(order, createdAt)
        const r = parseOrder(template)
        expect(r.ok && r.order).toEqual(order)
      }),
    )
  })

  it('dropping any mandatory tag is reported as exactly that tag', () => {
    fc.assert(
      fc.property(orderArb, fc.constantFrom(...ORDER_MANDATORY_TAGS), (order, name) => {
        const tags = orderTags(order).filter((t) => t[0] !== name)
        const issues = orderIssues({ kind: 38383, tags })
        expect(issues.map((i) => i.tag)).toEqual([name])
      }),
    )
  })

  it('never throws, whatever the tags hold', () => {
    const tagArb = fc.oneof(
      fc.array(fc.string(), { maxLength: 4 }),
      fc.tuple(fc.constantFrom(...ORDER_MANDATORY_TAGS, 'p', 'bond', 'g'), fc.string()),
      fc.anything(),
    )
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 20 }), fc.anything(), (tags, kind) => {
        const issues = orderIssues({ kind, tags })
        expect(Array.isArray(issues)).toBe(true)
        for (const i of issues) expect(typeof i.message).toBe('string')
      }),
    )
  })

  it('does not mutate its inputs, and signed orders verify with nostr-tools', () => {
    const order = fc.sample(orderArb, 1)[0]!
    const frozen = JSON.stringify(order)
    const event = finalizeEvent(orderEventTemplate(order, 1_800_000_000), generateSecretKey())
    expect(JSON.stringify(order)).toBe(frozen)
    expect(verifyEvent(event)).toBe(true)
    expect(parseOrder(event).ok).toBe(true)
  })

  it('refuses to build what would not read back', () => {
    const order = fc.sample(orderArb, 1)[0]!
    expect(() => orderEventTemplate({ ...order, paymentMethods: ['SEPA, Revolut'] }, 1)).toThrow(
      /pm: a payment method may not contain a comma/,
    )
    expect(() => orderEventTemplate({ ...order, currency: 'eur' }, 1)).toThrow(/f: must be an ISO/)
  })
})

describe('order state machine', () => {
  const keys = ['maker', 'alice', 'bob'] as const
  const actionArb: fc.Arbitrary<OrderAction> = fc.oneof(
    fc.record({
      type: fc.constant('take' as const),
      by: fc.constantFrom(...keys),
      at: fc.integer({ min: 0, max: 200 }),
    }),
    fc.record({
      type: fc.constant('cancel' as const),
      by: fc.constantFrom(...keys),
      at: fc.integer({ min: 0, max: 200 }),
    }),
    fc.record({
      type: fc.constant('complete' as const),
      by: fc.constantFrom(...keys),
      at: fc.integer({ min: 0, max: 200 }),
    }),
    fc.record({ type: fc.constant('expire' as const), at: fc.integer({ min: 0, max: 200 }) }),
  )

  it('keeps its rules under any sequence of actions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('buy' as const, 'sell' as const),
        fc.array(actionArb, { maxLength: 30 }),
        (side, actions) => {
          let state: OrderState = {
            status: 'pending',
            side,
            maker: 'maker',
            taker: null,
            expiresAt: 100,
          }
          for (const action of actions) {
            const before = state
            const r = nextOrderState(state, action)
            if (!r.ok) {
              expect(r.error.code).toMatch(/^HANSA_ORDER_/)
              continue
            }
            state = r.state
            // Final states never change; the maker, side and expiry never change.
            expect(FINAL_STATUSES).not.toContain(before.status)
            expect([state.maker, state.side, state.expiresAt]).toEqual([
              before.maker,
              before.side,
              before.expiresAt,
            ])
            // One taker per trade, set once, never the maker, only before expiry.
            if (before.taker !== null) expect(state.taker).toBe(before.taker)
            if (action.type === 'take') {
              expect([before.status, state.status]).toEqual(['pending', 'in-progress'])
              expect(action.by).not.toBe('maker')
              expect(action.at).toBeLessThan(100)
              expect(state.taker).toBe(action.by)
            }
            if (action.type === 'cancel') {
              expect(action.by).toBe('maker')
              expect(before.status).toBe('pending')
            }
            if (action.type === 'expire') expect(action.at).toBeGreaterThanOrEqual(100)
            if (action.type === 'complete') {
              expect(action.by).toBe(sellerOf(before))
              expect(state.status).toBe('success')
            }
          }
        },
      ),
    )
  })

  it('explains each refusal', () => {
    const pending: OrderState = {
      status: 'pending',
      side: 'sell',
      maker: 'm',
      taker: null,
      expiresAt: 10,
    }
    const taken = nextOrderState(pending, { type: 'take', by: 't', at: 1 })
    expect(taken.ok && taken.state).toMatchObject({ status: 'in-progress', taker: 't' })
    const again = nextOrderState(taken.ok ? taken.state : pending, { type: 'take', by: 'u', at: 2 })
    expect(!again.ok && again.error.message).toBe(
      'cannot take it: the order is in-progress (taken by someone else)',
    )
    const notMaker = nextOrderState(pending, { type: 'cancel', by: 't', at: 1 })
    expect(!notMaker.ok && [notMaker.error.code, notMaker.error.message]).toEqual([
      'HANSA_ORDER_NOT_MAKER',
      'only the maker may cancel an order',
    ])
    const late = nextOrderState(pending, { type: 'take', by: 't', at: 10 })
    expect(!late.ok && late.error.code).toBe('HANSA_ORDER_EXPIRED')
  })
})

describe('order-book terms', () => {
  const trading = {
    currencies: ['EUR', 'USD'],
    minSats: 20_000,
    maxSats: 5_000_000,
    makerFeePpm: 250,
    takerFeePpm: 1750,
    bondPpm: 30_000,
    maxLifetimeSeconds: 86_400,
    network: 'mainnet',
    layers: ['lightning'],
  }

  it('validates, reads from a service entry, and computes fees rounded down', () => {
    expect(orderbookTermsIssues(trading)).toEqual([])
    expect(orderbookTermsIssues({ ...trading, maxSats: 1 }).map((i) => i.path)).toEqual(['maxSats'])
    expect(tradingTermsOf({ access: 'free', trading } as never)).toEqual(trading)
    expect(tradingTermsOf({ access: 'free' })).toBeNull()
    expect(tradeFees(1_000_000, trading)).toEqual({ maker: 250, taker: 1750 })
    expect(tradeFees(3999, trading)).toEqual({ maker: 0, taker: 6 })
    expect([formatPpm(250), formatPpm(30_000), formatPpm(0)]).toEqual(['0.025 %', '3 %', '0 %'])
    expect(rateToPpm(0.00175)).toBe(1750)
  })
})
