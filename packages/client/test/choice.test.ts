// The pure pieces of choosing a node: which candidates are kept and why the others are dropped
// (judge), the user's trust list, and the choice policies (properties with fast-check, and the
// devfund lottery's odds measured over many draws).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Manifest, Terms } from '@hansa/protocol'
import {
  type Candidate,
  DEFAULT_TRUST_LIST,
  type Evidence,
  type NodeReport,
  POLICIES,
  addCustomNode,
  judge,
  mergeCandidates,
  monthlyCost,
  parseTrustList,
  rankNodes,
  removeCustomNode,
  setCoordinator,
  setDefaultCoordinator,
} from '@hansa/client'

const hex = (n: number) => n.toString(16).padStart(2, '0').repeat(32)
const FED = hex(0xfe)
const [A, B, C] = [hex(0xa1), hex(0xb1), hex(0xc1)] // coordinators
const [N1, N2, N3, STRANGER] = [hex(1), hex(2), hex(3), hex(9)] // node keys

const manifest: Manifest = {
  hansa: 1,
  name: 'Test',
  version: 4,
  previous: hex(0x44),
  issuedAt: 1,
  expiresAt: 2_000_000_000,
  guardians: [{ pubkey: hex(0x61), name: 'g' }],
  threshold: 1,
  coordinators: [
    {
      pubkey: A,
      alias: 'hanseatic',
      description: '',
      contact: {},
      nodes: [
        { pubkey: N1, urls: ['ws://n1'], services: ['inbox', 'orderbook'] },
        { pubkey: N2, urls: ['ws://n2'], services: ['inbox'] },
      ],
    },
    {
      pubkey: B,
      alias: 'lubeck',
      description: '',
      contact: {},
      nodes: [{ pubkey: N3, urls: ['ws://n3'], services: ['inbox'] }],
    },
  ],
  services: { inbox: {}, orderbook: {} },
  devFund: { recipient: hex(0x61), suggestedRate: 0.2 },
}

const terms = (node: string, extra: Partial<Terms> = {}): Terms => ({
  hansa: 1,
  node,
  issuedAt: 1,
  services: { inbox: { access: 'free' } },
  settlement: { rails: ['ledger'], beneficiary: `0x${'11'.repeat(20)}`, chainId: 31337 },
  devTax: { rateBps: 2000, recipient: null },
  ...extra,
})
const good = (node: string): Evidence => ({
  reachable: true,
  terms: { ok: true, terms: terms(node) },
  proof: { ok: true },
  rttMs: 3,
})
const candidate = (
  url: string,
  pubkey: string | null,
  extra: Partial<Candidate> = {},
): Candidate => ({
  url,
  pubkey,
  services: null,
  sources: ['discv5'],
  ...extra,
})
const context = { federationId: FED, manifest, trust: DEFAULT_TRUST_LIST }

describe('judge: which candidates are kept', () => {
  it('trusts a member that proves its key, with its coordinator and listed services', () => {
    expect(judge(candidate('ws://n1', N1), good(N1), context)).toEqual({
      status: 'trusted',
      reason: null,
      pubkey: N1,
      coordinator: { pubkey: A, alias: 'hanseatic' },
      services: ['inbox', 'orderbook'],
    })
  })

  it('names the first rule each impostor breaks', () => {
    const reason = (c: Candidate, e: Evidence, ctx = context) => judge(c, e, ctx).reason
    expect(reason(candidate('ws://x', N1, { federationId: hex(0x33) }), good(N1))).toBe(
      'its ENR announces federation 333333333333…, not fefefefefefe…',
    )
    expect(reason(candidate('ws://x', N1), { reachable: false, error: 'ECONNREFUSED' })).toBe(
      'unreachable: ECONNREFUSED',
    )
    expect(
      reason(candidate('ws://x', N1), {
        ...good(N1),
        terms: { ok: false, reason: 'the signature does not verify' },
      } as Evidence),
    ).toBe('terms: the signature does not verify')
    expect(reason(candidate('ws://x', N1), good(STRANGER))).toBe(
      'its ENR names key 010101010101…, but its terms are signed by 090909090909…',
    )
    expect(
      reason(candidate('ws://x', N1), {
        ...good(N1),
        proof: { ok: false, reason: 'the proof is signed by 0909…' },
      } as Evidence),
    ).toBe('key proof failed: the proof is signed by 0909…')
    expect(reason(candidate('ws://x', STRANGER), good(STRANGER))).toBe(
      'key 090909090909… is not in manifest version 4: not a member',
    )
    expect(reason(candidate('ws://n2', N2, { services: ['inbox', 'orderbook'] }), good(N2))).toBe(
      'claims orderbook, which manifest version 4 does not list for it',
    )
  })

  it('keeps a node the user added by hand as custom, and a member added by hand as a member', () => {
    const custom = candidate('ws://mine', null, { sources: ['custom'] })
    expect(judge(custom, good(STRANGER), context)).toMatchObject({
      status: 'custom',
      pubkey: STRANGER,
      services: ['inbox'],
    })
    expect(judge({ ...custom, url: 'ws://n3' }, good(N3), context)).toMatchObject({
      status: 'trusted',
      coordinator: { alias: 'lubeck' },
    })
  })

  it("marks a disabled coordinator's nodes disabled, not rejected", () => {
    const trust = setCoordinator(DEFAULT_TRUST_LIST, A, 'disabled')
    expect(judge(candidate('ws://n1', N1), good(N1), { ...context, trust })).toMatchObject({
      status: 'disabled',
      reason: 'coordinator hanseatic is disabled in your trust list',
    })
    const allowList = setCoordinator(
      setDefaultCoordinator(DEFAULT_TRUST_LIST, 'disabled'),
      B,
      'enabled',
    )
    expect(judge(candidate('ws://n1', N1), good(N1), { ...context, trust: allowList }).status).toBe(
      'disabled',
    )
    expect(judge(candidate('ws://n3', N3), good(N3), { ...context, trust: allowList }).status).toBe(
      'trusted',
    )
  })

  it('merges what several sources say about one URL', () => {
    const merged = mergeCandidates([
      [candidate('ws://n1/', null, { sources: ['invite'] })],
      [candidate('ws://n1', N1, { services: ['inbox', 'orderbook'], sources: ['manifest'] })],
      [candidate('ws://n1', N1, { services: ['inbox'], federationId: FED, enr: 'enr:x' })],
      [candidate('ws://n1', STRANGER)],
    ])
    expect(merged).toEqual([
      {
        url: 'ws://n1',
        pubkey: N1,
        services: ['inbox', 'orderbook'],
        federationId: FED,
        enr: 'enr:x',
        sources: ['invite', 'manifest', 'discv5'],
      },
      { url: 'ws://n1', pubkey: STRANGER, services: null, sources: ['discv5'] },
    ])
  })
})

describe('trust list', () => {
  it('adds, updates and removes custom nodes without touching its input', () => {
    const one = addCustomNode(DEFAULT_TRUST_LIST, { url: 'wss://mine.example/' })
    expect(DEFAULT_TRUST_LIST.customNodes).toEqual([])
    expect(one.customNodes).toEqual([{ url: 'wss://mine.example' }])
    const pinned = addCustomNode(one, { url: 'wss://mine.example', pubkey: N1 })
    expect(pinned.customNodes).toEqual([{ url: 'wss://mine.example', pubkey: N1 }])
    expect(removeCustomNode(pinned, 'wss://mine.example/').customNodes).toEqual([])
    expect(() => addCustomNode(one, { url: 'https://x' })).toThrow(/ws:\/\/ or wss:\/\//)
  })

  it('reads a stored list, filling defaults and naming bad fields', () => {
    expect(parseTrustList(undefined)).toEqual(DEFAULT_TRUST_LIST)
    expect(parseTrustList({ coordinators: { [A]: 'disabled' } })).toMatchObject({
      defaultCoordinator: 'enabled',
      coordinators: { [A]: 'disabled' },
      preferCustom: true,
    })
    expect(() => parseTrustList({ coordinators: { [A]: 'off' } })).toThrow(
      `trust.coordinators.${A} must be "enabled" or "disabled"`,
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Policies

const statuses = ['trusted', 'custom', 'disabled', 'rejected'] as const
const coordinators = [A, B, C]
const arbReport = fc
  .record({
    n: fc.integer({ min: 0, max: 1_000_000 }),
    status: fc.constantFrom(...statuses),
    coordinator: fc.integer({ min: 0, max: 2 }),
    services: fc.subarray(['inbox', 'orderbook']),
    rttMs: fc.option(fc.integer({ min: 0, max: 500 }), { nil: null }),
    price: fc.integer({ min: 0, max: 100_000 }),
    rateBps: fc.constantFrom(0, 500, 2000, 6000),
  })
  .map(
    (r): NodeReport => ({
      url: `ws://node-${r.n}`,
      pubkey: hex(r.n % 256),
      sources: ['discv5'],
      status: r.status,
      reason: r.status === 'rejected' ? 'because' : null,
      coordinator:
        r.status === 'custom'
          ? null
          : { pubkey: coordinators[r.coordinator]!, alias: `c${r.coordinator}` },
      services: r.services,
      terms: terms(hex(r.n % 256), {
        services: {
          inbox:
            r.price === 0
              ? { access: 'free' }
              : {
                  access: 'subscription',
                  unit: 'msat',
                  price: String(r.price),
                  periodSeconds: 2_592_000,
                  maxPeriods: 12,
                  maxPubkeys: 10,
                },
        },
        devTax: { rateBps: r.rateBps, recipient: null },
      }),
      rttMs: r.rttMs,
      checkedAt: 0,
    }),
  )
const arbReports = fc.uniqueArray(arbReport, { selector: (r) => r.url, maxLength: 12 })
const seeded = (seed: number) => {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 2 ** 32
  }
}

describe('policies', () => {
  it('rank exactly the eligible nodes: never a rejected, disabled or service-less one', () => {
    fc.assert(
      fc.property(
        arbReports,
        fc.constantFrom(...POLICIES),
        fc.integer(),
        (reports, policy, seed) => {
          const ranked = rankNodes(reports, { service: 'inbox', policy, random: seeded(seed) })
          const eligible = reports.filter(
            (r) =>
              (r.status === 'trusted' || r.status === 'custom') && r.services.includes('inbox'),
          )
          expect(new Set(ranked)).toEqual(new Set(eligible))
          expect(ranked).toHaveLength(eligible.length)
        },
      ),
    )
  })

  it("put the user's own nodes first when the trust list prefers them, and down nodes last", () => {
    fc.assert(
      fc.property(
        arbReports,
        fc.constantFrom(...POLICIES),
        fc.integer(),
        (reports, policy, seed) => {
          const down = new Set(reports.filter((_, i) => i % 3 === 0).map((r) => r.url))
          const ranked = rankNodes(reports, {
            service: 'inbox',
            policy,
            random: seeded(seed),
            down,
          })
          const tier = (r: NodeReport) =>
            (r.status === 'custom' ? 0 : 2) + (down.has(r.url) ? 1 : 0)
          const hasCustom = ranked.some((r) => r.status === 'custom')
          const tiers = ranked.map((r) => (hasCustom ? tier(r) : tier(r) % 2))
          expect(tiers).toEqual([...tiers].sort((a, b) => a - b))
        },
      ),
    )
  })

  it('cheapest puts the lowest monthly cost first; fastest the lowest round trip', () => {
    fc.assert(
      fc.property(arbReports, fc.integer(), (reports, seed) => {
        const opts = { service: 'inbox', random: seeded(seed), preferCustom: false }
        const cheap = rankNodes(reports, { ...opts, policy: 'cheapest' })
        const costs = cheap.map((r) => monthlyCost(r.terms?.services.inbox).amount)
        expect(costs).toEqual([...costs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
        const fast = rankNodes(reports, { ...opts, policy: 'fastest' })
        const rtts = fast.map((r) => r.rttMs ?? Infinity)
        expect(rtts).toEqual([...rtts].sort((a, b) => a - b))
      }),
    )
  })

  it('random picks every eligible node, about equally often', () => {
    const reports = fc
      .sample(arbReport, { seed: 7, numRuns: 200 })
      .filter((r) => r.status === 'trusted' && r.services.includes('inbox'))
      .slice(0, 4)
    expect(reports).toHaveLength(4)
    const random = seeded(42)
    const counts = new Map<string, number>()
    for (let i = 0; i < 8000; i++) {
      const first = rankNodes(reports, { service: 'inbox', policy: 'random', random })[0]!
      counts.set(first.url, (counts.get(first.url) ?? 0) + 1)
    }
    for (const r of reports) expect((counts.get(r.url) ?? 0) / 8000).toBeCloseTo(0.25, 1)
  })

  it('devfund draws coordinators weighted by their dev-tax rate, capped at 50 %', () => {
    const node = (url: string, coordinator: string, rateBps: number): NodeReport => ({
      url,
      pubkey: hex(1),
      sources: ['manifest'],
      status: 'trusted',
      reason: null,
      coordinator: { pubkey: coordinator, alias: coordinator.slice(0, 4) },
      services: ['inbox'],
      terms: terms(hex(1), { devTax: { rateBps, recipient: null } }),
      rttMs: 1,
      checkedAt: 0,
    })
    // A: 20 % over two nodes; B: 5 %; C: 90 %, which counts as 50; D gives nothing.
    const reports = [
      node('ws://a1', A, 2000),
      node('ws://a2', A, 2000),
      node('ws://b1', B, 500),
      node('ws://c1', C, 9000),
      node('ws://d1', hex(0xd1), 0),
    ]
    const random = seeded(1234)
    const first = new Map<string, number>()
    const draws = 20_000
    for (let i = 0; i < draws; i++) {
      const ranked = rankNodes(reports, { service: 'inbox', policy: 'devfund', random })
      const owner = ranked[0]!.coordinator!.pubkey
      first.set(owner, (first.get(owner) ?? 0) + 1)
      expect(ranked.at(-1)!.url).toBe('ws://d1') // a non-donor comes after every donor
    }
    const share = (c: string) => (first.get(c) ?? 0) / draws
    expect(share(A)).toBeCloseTo(20 / 75, 1.5)
    expect(share(B)).toBeCloseTo(5 / 75, 1.5)
    expect(share(C)).toBeCloseTo(50 / 75, 1.5)
    expect(first.get(hex(0xd1))).toBeUndefined()
  })

  it('monthly cost: subscriptions per 30 days, metered at the usage given, free is 0', () => {
    expect(monthlyCost({ access: 'free' })).toEqual({ unit: null, amount: 0n })
    expect(
      monthlyCost({
        access: 'subscription',
        unit: 'msat',
        price: '1000',
        periodSeconds: 7 * 86_400,
        maxPeriods: 12,
        maxPubkeys: 1,
      }),
    ).toEqual({ unit: 'msat', amount: 5000n })
    expect(
      monthlyCost(
        {
          access: 'metered',
          unit: 'sat',
          prices: { query: '2', event: '3', kilobyte: '1' },
          paymentThreshold: '100',
          disconnectThreshold: '125',
          swap: 'mock',
        },
        { queries: 10, events: 10, kilobytes: 10 },
      ),
    ).toEqual({ unit: 'sat', amount: 60n })
  })
})
