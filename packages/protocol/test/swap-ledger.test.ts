// SWAP accounting properties: the balance is what was priced minus what cheques credited; a
// client that pays when its debt reaches the payment threshold is never refused; cumulative
// cheques are never counted twice; soft mode never refuses.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  EMPTY_ACCOUNT,
  type SwapAccount,
  type SwapPolicy,
  admit,
  basePrice,
  bounds,
  charge,
  creditCheque,
  paymentDue,
  priceOf,
  swapPolicy,
} from '@hansa/protocol'

const policy = (p: Partial<SwapPolicy> = {}): SwapPolicy => ({
  prices: { query: 10n, event: 20n, kilobyte: 5n },
  paymentThreshold: 10_000n,
  disconnectThreshold: 12_500n,
  mode: 'mock',
  ...p,
})

const request = fc.record({
  kind: fc.constantFrom<'query' | 'event'>('query', 'event'),
  bytes: fc.integer({ min: 0, max: 200_000 }),
})

/** Terms a node may publish: disconnect ≥ payment + the largest base price. */
const validPolicy = fc
  .record({
    query: fc.bigInt({ min: 0n, max: 1000n }),
    event: fc.bigInt({ min: 0n, max: 1000n }),
    kilobyte: fc.bigInt({ min: 0n, max: 100n }),
    pay: fc.bigInt({ min: 1n, max: 100_000n }),
    slack: fc.bigInt({ min: 0n, max: 50_000n }),
  })
  .map(
    ({ query, event, kilobyte, pay, slack }): SwapPolicy => ({
      prices: { query, event, kilobyte },
      paymentThreshold: pay,
      disconnectThreshold: pay + (query > event ? query : event) + slack,
      mode: 'mock',
    }),
  )

describe('pricing', () => {
  it('is the base price plus the kilobytes, rounded up', () => {
    const p = policy().prices
    expect(priceOf(p, { kind: 'query', bytes: 0 })).toBe(10n)
    expect(priceOf(p, { kind: 'query', bytes: 1 })).toBe(11n)
    expect(priceOf(p, { kind: 'event', bytes: 1024 })).toBe(25n)
    expect(priceOf(p, { kind: 'event', bytes: 1025 })).toBe(26n)
  })

  it('parses metered terms', () => {
    expect(
      swapPolicy({
        access: 'metered',
        unit: 'msat',
        prices: { query: '10', event: '20', kilobyte: '5' },
        paymentThreshold: '10000',
        disconnectThreshold: '12500',
        swap: 'soft',
      }),
    ).toEqual(policy({ mode: 'soft' }))
  })
})

describe('the accounting state machine', () => {
  it('balance == sum of priced requests - sum of credited cheques', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            request.map((r) => ({ type: 'serve' as const, r })),
            fc.bigInt({ min: 0n, max: 100_000n }).map((c) => ({ type: 'cheque' as const, c })),
          ),
          { maxLength: 200 },
        ),
        (steps) => {
          const prices = policy().prices
          let account: SwapAccount = EMPTY_ACCOUNT
          let priced = 0n
          let credited = 0n
          let cumulative = 0n
          for (const step of steps) {
            if (step.type === 'serve') {
              const price = priceOf(prices, step.r)
              priced += price
              account = charge(account, price)
            } else {
              cumulative += step.c // a client's cheques: each states a new cumulative total
              const result = creditCheque(account, cumulative)
              if (step.c === 0n) expect(result.ok).toBe(false)
              if (result.ok) {
                expect(result.increment).toBe(step.c)
                credited += result.increment
                account = result.account
              }
            }
            expect(account.balance).toBe(priced - credited)
            expect(account.charged).toBe(priced)
            expect(account.paid).toBe(credited)
            expect(account.cumulativePayout).toBe(credited)
          }
        },
      ),
    )
  })

  it('never counts a cumulative payout twice, whatever order cheques arrive in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: 1_000_000n }), { maxLength: 60 }),
        (payouts) => {
          let account: SwapAccount = EMPTY_ACCOUNT
          let paid = 0n
          for (const payout of payouts) {
            const before = account
            const r = creditCheque(account, payout)
            if (r.ok) {
              account = r.account
              paid += r.increment
            } else expect(account).toBe(before)
          }
          // However cheques are replayed or reordered, the total credited is the highest payout.
          const highest = payouts.reduce((a, b) => (b > a ? b : a), 0n)
          expect(paid).toBe(highest)
          expect(account.paid).toBe(highest)
        },
      ),
    )
  })

  it('a client that pays when asked is never refused', () => {
    fc.assert(
      fc.property(
        validPolicy,
        fc.array(request, { maxLength: 300 }),
        fc.integer({ min: 0, max: 100 }),
        (p, requests, early) => {
          let node: SwapAccount = EMPTY_ACCOUNT
          let client: SwapAccount = EMPTY_ACCOUNT
          let cumulative = 0n
          for (const r of requests) {
            const decision = admit(node, basePrice(p.prices, r.kind), p)
            expect(decision.serve).toBe(true)
            const price = priceOf(p.prices, r)
            node = charge(node, price)
            client = charge(client, price)
            const due = paymentDue(client, p, early)
            if (due > 0n) {
              cumulative += due
              const paid = creditCheque(client, cumulative)
              const credited = creditCheque(node, cumulative)
              if (!paid.ok || !credited.ok) throw new Error('a rising cheque is always credited')
              client = paid.account
              node = credited.account
            }
            expect(node).toEqual(client) // both sides' books agree
          }
        },
      ),
    )
  })

  it('refuses a client that stops paying past the disconnect threshold, except in soft mode', () => {
    const p = policy()
    let account: SwapAccount = EMPTY_ACCOUNT
    let served = 0
    for (;;) {
      const d = admit(account, 10n, p)
      if (!d.serve) {
        expect(d).toEqual({ serve: false, balance: account.balance, disconnectThreshold: 12_500n })
        break
      }
      account = charge(account, priceOf(p.prices, { kind: 'query', bytes: 2048 }))
      served++
    }
    expect(account.balance + 10n > 12_500n && account.balance <= 12_500n).toBe(true)
    expect(served).toBe(625)
    const soft = policy({ mode: 'soft' })
    for (let i = 0; i < 10; i++) account = charge(account, 1000n)
    expect(admit(account, 10n, soft)).toEqual({ serve: true, bounds: 'debt' })
    expect(bounds(account, soft)).toBe('debt')
  })

  it('reports a peer that paid far ahead as out of bounds on the credit side', () => {
    const r = creditCheque(EMPTY_ACCOUNT, 20_000n)
    if (!r.ok) throw new Error('credited')
    expect(bounds(r.account, policy())).toBe('credit')
    expect(admit(r.account, 10n, policy())).toEqual({ serve: true, bounds: 'credit' })
  })

  it('asks for payment at the threshold, or earlier with early payment', () => {
    const p = policy()
    expect(paymentDue(charge(EMPTY_ACCOUNT, 9_999n), p)).toBe(0n)
    expect(paymentDue(charge(EMPTY_ACCOUNT, 10_000n), p)).toBe(10_000n)
    expect(paymentDue(charge(EMPTY_ACCOUNT, 5_000n), p, 50)).toBe(5_000n)
    expect(paymentDue(EMPTY_ACCOUNT, p, 100)).toBe(0n)
  })
})
