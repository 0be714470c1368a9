// Choosing a node (seed 004: "a random one is selected"; seed 001: users choose by price and,
// beyond it, by quality): pure functions over the verified node reports. Every policy returns a
// *ranking* of the eligible nodes — the first is the choice, the rest the failover order — so
// a node that is down costs one step, not a new choice.
//
// Eligible: status trusted (a member, coordinator enabled in the trust list) or custom (added
// by the user), and offering the service. Never a rejected or disabled node.
//
// Order, outermost first:
//   1. the user's own nodes, when the trust list prefers them and one is eligible;
//   2. nodes not recently seen down before those that were;
//   3. the policy:
//      random    uniformly at random (the default, Status's "random one among the trusted")
//      cheapest  lowest cost of `usage` over 30 days under the node's signed terms (free is 0;
//                nodes priced in another unit than `unit` after those priced in it)
//      fastest   lowest measured round trip
//      devfund   RoboSats's coordinator lottery: coordinators drawn at random, each weighted by
//                its dev-tax rate capped at 50 % (a coordinator donating nothing comes after all
//                who donate), then one of its nodes; weighted sampling without replacement
//                (Efraimidis–Spirakis keys), so the whole ranking is a lottery draw.
//   Ties are broken at random, never by list position.
import type { ServiceTerms, Terms } from '@hansa/protocol'
import type { CandidateSource, NodeStatus } from './candidates.js'

export const POLICIES = ['random', 'cheapest', 'fastest', 'devfund'] as const
export type Policy = (typeof POLICIES)[number]

/** What a verified node looks like to the chooser (and to `hansa nodes`). */
export type NodeReport = {
  url: string
  pubkey: string | null
  sources: CandidateSource[]
  status: NodeStatus
  reason: string | null
  coordinator: { pubkey: string; alias: string } | null
  services: string[]
  terms: Terms | null
  /** Round trip measured while verifying, milliseconds (null: never reached). */
  rttMs: number | null
  /** Unix seconds of the check. */
  checkedAt: number
}

/** A month of use, to compare subscription and metered prices (per 30 days). */
export type Usage = { queries: number; events: number; kilobytes: number }
export const DEFAULT_USAGE: Usage = Object.freeze({ queries: 3000, events: 300, kilobytes: 3000 })

export type RankOptions = {
  service: string
  policy: Policy
  /** A number in [0, 1), as Math.random (passed in: tests and benchmarks seed it). */
  random: () => number
  preferCustom?: boolean
  usage?: Usage
  /** The unit `cheapest` compares in (default msat). */
  unit?: string
  /** URLs seen down recently: ranked after the others. */
  down?: ReadonlySet<string>
}

const MONTH = 30 * 86_400

export function isEligible(report: NodeReport, service: string): boolean {
  return (
    (report.status === 'trusted' || report.status === 'custom') && report.services.includes(service)
  )
}

/** The cost of `usage` over 30 days under these terms; free services cost 0 in any unit. */
export function monthlyCost(
  terms: ServiceTerms | undefined,
  usage: Usage = DEFAULT_USAGE,
): { unit: string | null; amount: bigint } {
  if (terms === undefined || terms.access === 'free') return { unit: null, amount: 0n }
  if (terms.access === 'subscription') {
    const periods = BigInt(Math.ceil(MONTH / terms.periodSeconds))
    return { unit: terms.unit, amount: BigInt(terms.price) * periods }
  }
  const { prices } = terms
  const amount =
    BigInt(prices.query) * BigInt(usage.queries) +
    BigInt(prices.event) * BigInt(usage.events) +
    BigInt(prices.kilobyte) * BigInt(usage.kilobytes)
  return { unit: terms.unit, amount }
}

/** The lottery weight of a coordinator: its dev-tax rate in percent, capped at 50. */
export function devfundChance(report: NodeReport): number {
  const bps = report.terms?.devTax.rateBps ?? 0
  return Math.min(50, Math.max(0, bps / 100))
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Sorts after a shuffle: a stable sort keeps the random order among equals. */
function sortShuffled<T>(
  items: readonly T[],
  random: () => number,
  compare: (a: T, b: T) => number,
) {
  return shuffle(items, random).sort(compare)
}

function byPolicy(nodes: NodeReport[], options: RankOptions): NodeReport[] {
  const { random } = options
  switch (options.policy) {
    case 'random':
      return shuffle(nodes, random)
    case 'fastest':
      return sortShuffled(nodes, random, (a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity))
    case 'cheapest': {
      const unit = options.unit ?? 'msat'
      const cost = new Map(
        nodes.map((n) => [n, monthlyCost(n.terms?.services[options.service], options.usage)]),
      )
      const foreign = (n: NodeReport) => {
        const c = cost.get(n)!
        return c.unit !== null && c.unit !== unit ? 1 : 0
      }
      return sortShuffled(nodes, random, (a, b) => {
        const f = foreign(a) - foreign(b)
        if (f !== 0) return f
        const x = cost.get(a)!.amount
        const y = cost.get(b)!.amount
        return x < y ? -1 : x > y ? 1 : 0
      })
    }
    case 'devfund': {
      // Each coordinator holds its chance once, shared among its eligible nodes.
      const perCoordinator = new Map<string, number>()
      const owner = (n: NodeReport) => n.coordinator?.pubkey ?? `custom ${n.url}`
      for (const n of nodes) perCoordinator.set(owner(n), (perCoordinator.get(owner(n)) ?? 0) + 1)
      const keyed = nodes.map((n) => {
        const weight = devfundChance(n) / perCoordinator.get(owner(n))!
        // 1 - random() is in (0, 1]: the log is finite.
        const key = weight > 0 ? -Math.log(1 - random()) / weight : Infinity
        return { n, key, tie: random() }
      })
      keyed.sort((a, b) => (a.key === b.key ? a.tie - b.tie : a.key - b.key))
      return keyed.map((k) => k.n)
    }
  }
}

/** The eligible nodes for `options.service`, best first (see the header for the order). */
export function rankNodes(reports: readonly NodeReport[], options: RankOptions): NodeReport[] {
  const eligible = reports.filter((r) => isEligible(r, options.service))
  const down = options.down ?? new Set<string>()
  const preferCustom = options.preferCustom ?? true
  const hasCustom = preferCustom && eligible.some((r) => r.status === 'custom')
  const tier = (r: NodeReport) =>
    (hasCustom && r.status !== 'custom' ? 2 : 0) + (down.has(r.url) ? 1 : 0)
  const tiers = new Map<number, NodeReport[]>()
  for (const r of eligible) tiers.set(tier(r), [...(tiers.get(tier(r)) ?? []), r])
  return [...tiers.keys()].sort((a, b) => a - b).flatMap((t) => byPolicy(tiers.get(t)!, options))
}
