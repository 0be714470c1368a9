// A coordinator's order-book terms: which currencies it books, the smallest and largest trade,
// its maker and taker fees and the bond share — what RoboSats shows beside each coordinator's
// logo. They travel inside the node's signed terms (terms.ts), as the `trading` object of the
// orderbook service's entry, so one signature by the node key covers prices and limits alike:
//
//   "orderbook": { "access": "free",
//     "trading": { "currencies": ["EUR", "USD"], "minSats": 20000, "maxSats": 5000000,
//                  "makerFeePpm": 250, "takerFeePpm": 1750, "bondPpm": 30000,
//                  "maxLifetimeSeconds": 86400, "network": "mainnet", "layers": ["lightning"] } }
//
// Fees and the bond are parts per million of the trade's satoshis (250 ppm = 0.025 %), so
// RoboSats's usual 0.025 % maker fee is a whole number. Fee arithmetic rounds down.
import type { ServiceTerms } from './terms.js'

export type OrderbookTradingTerms = {
  /** ISO 4217 codes the coordinator books. */
  currencies: string[]
  /** Smallest and largest trade, in satoshis. */
  minSats: number
  maxSats: number
  /** Fees the coordinator charges, parts per million of the trade's satoshis. */
  makerFeePpm: number
  takerFeePpm: number
  /** The security deposit each party locks, parts per million of the trade. */
  bondPpm: number
  /** Longest time an order may stay pending. */
  maxLifetimeSeconds: number
  network: string
  layers: string[]
}

export const PPM = 1_000_000

export type OrderbookTermsIssue = { path: string; message: string }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isWhole = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max

/** Every issue with a `trading` object, or an empty list. */
export function orderbookTermsIssues(value: unknown): OrderbookTermsIssue[] {
  const issues: OrderbookTermsIssue[] = []
  const issue = (path: string, message: string) => issues.push({ path, message })
  if (!isObject(value)) {
    issue('trading', 'must be an object')
    return issues
  }
  const c = value.currencies
  if (
    !Array.isArray(c) ||
    c.length === 0 ||
    !c.every((x) => typeof x === 'string' && /^[A-Z]{3}$/.test(x))
  ) {
    issue('currencies', 'must list one or more ISO 4217 codes (three capital letters)')
  }
  if (!isWhole(value.minSats, 1)) issue('minSats', 'must be a whole number of satoshis ≥ 1')
  if (!isWhole(value.maxSats, 1)) issue('maxSats', 'must be a whole number of satoshis ≥ 1')
  else if (isWhole(value.minSats, 1) && value.maxSats < value.minSats) {
    issue('maxSats', 'must be at least minSats')
  }
  for (const name of ['makerFeePpm', 'takerFeePpm', 'bondPpm'] as const) {
    if (!isWhole(value[name], 0, PPM))
      issue(name, `must be whole parts per million from 0 to ${PPM}`)
  }
  if (!isWhole(value.maxLifetimeSeconds, 60)) {
    issue('maxLifetimeSeconds', 'must be a whole number of seconds ≥ 60')
  }
  if (typeof value.network !== 'string' || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(value.network)) {
    issue('network', 'must name a bitcoin network in lowercase (mainnet, signet, regtest, …)')
  }
  const l = value.layers
  if (
    !Array.isArray(l) ||
    l.length === 0 ||
    !l.every((x) => typeof x === 'string' && /^[a-z0-9][a-z0-9-]{0,31}$/.test(x))
  ) {
    issue('layers', 'must list one or more layers in lowercase (lightning, onchain, …)')
  }
  return issues
}

/**
 * The trading terms inside a service's terms entry (`services.orderbook`), or null when the
 * entry has none or they are malformed (a node that does not run the order book).
 */
export function tradingTermsOf(service: ServiceTerms | undefined): OrderbookTradingTerms | null {
  const trading = (service as { trading?: unknown } | undefined)?.trading
  if (trading === undefined || orderbookTermsIssues(trading).length > 0) return null
  const t = trading as OrderbookTradingTerms
  return {
    currencies: [...t.currencies],
    minSats: t.minSats,
    maxSats: t.maxSats,
    makerFeePpm: t.makerFeePpm,
    takerFeePpm: t.takerFeePpm,
    bondPpm: t.bondPpm,
    maxLifetimeSeconds: t.maxLifetimeSeconds,
    network: t.network,
    layers: [...t.layers],
  }
}

/** A share (ppm) of a trade's satoshis, rounded down. */
export const ppmOf = (sats: number, ppm: number): number =>
  Number((BigInt(sats) * BigInt(ppm)) / BigInt(PPM))

/** The fees of a trade of `sats` satoshis under these terms. */
export function tradeFees(
  sats: number,
  terms: Pick<OrderbookTradingTerms, 'makerFeePpm' | 'takerFeePpm'>,
): { maker: number; taker: number } {
  return { maker: ppmOf(sats, terms.makerFeePpm), taker: ppmOf(sats, terms.takerFeePpm) }
}

/** A rate in ppm as a percentage for people: 250 → "0.025 %". */
export function formatPpm(ppm: number): string {
  const whole = Math.floor(ppm / 10_000)
  const frac = String(ppm % 10_000)
    .padStart(4, '0')
    .replace(/0+$/, '')
  return `${whole}${frac === '' ? '' : `.${frac}`} %`
}

/** A fraction (0.00025) as whole ppm (250); RangeError outside 0..1. */
export function rateToPpm(rate: number): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`a rate is a number from 0 to 1; got ${rate}`)
  }
  return Math.round(rate * PPM)
}
