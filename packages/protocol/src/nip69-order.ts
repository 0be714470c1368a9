// NIP-69 peer-to-peer order events (kind 38383, addressable): reading one with the reasons it
// is not a valid order, and building one. Pure; never mutates its inputs.
//
// The mandatory tags, as NIP-69 lists them:
//   d  order id             k  buy | sell (of bitcoin)      f  ISO 4217 currency
//   s  pending | canceled | in-progress | success | expired
//   amt  satoshis (0: priced at market when taken)          fa  fiat amount, or min and max
//   pm  payment methods     premium  percent over market    network  mainnet, signet, …
//   layer  onchain, lightning, liquid, …                     expires_at  end of `pending`
//   expiration  NIP-40: when relays may drop the event       y  platform (and instance name)
//   z  "order"
// Optional: source, rating, name, g (geohash), bond, created_at (the order's own creation
// time, stable across updates). Hansa adds one tag: `p`, the maker's pubkey — the coordinator
// signs the event, and the maker is named so a client can tell its own orders and so "only the
// maker may cancel" is checkable by anyone.
//
// Decisions NIP-69 leaves open, taken here:
// - `pm`: the spec's text says methods are comma-separated, its example puts one method per tag
//   value. Both are read; this module writes one method per value (like the example), so a
//   method may not contain a comma.
// - `f` is three capital letters (ISO 4217's form). `amt` is a whole number of satoshis, at
//   most 21 million bitcoin. `fa` values are positive decimal numbers; a range is min ≤ max.
// - `premium` is a decimal percentage above -100 (a 100 % discount would be a gift).
// - `expiration` may not come before `expires_at`: the event must outlive its pending status,
//   or the book could never learn that an order expired.
// - `bond` is in satoshis, like `amt`.
import { type NostrEvent, isHex64 } from './event.js'

export const ORDER_KIND = 38383
export const ORDER_SIDES = ['buy', 'sell'] as const
export type OrderSide = (typeof ORDER_SIDES)[number]
export const ORDER_STATUSES = ['pending', 'canceled', 'in-progress', 'success', 'expired'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]
export const ORDER_MANDATORY_TAGS = [
  'd',
  'k',
  'f',
  's',
  'amt',
  'fa',
  'pm',
  'premium',
  'network',
  'layer',
  'expires_at',
  'expiration',
  'y',
  'z',
] as const
/** 21 million bitcoin, in satoshis. */
export const MAX_ORDER_SATS = 2_100_000_000_000_000
export const ORDER_LIMITS = {
  idLength: 100,
  methodLength: 64,
  methods: 20,
  textLength: 256,
} as const

/** A NIP-69 order, read from (or to be written to) its tags. */
export type Order = {
  /** `d`: unique per publisher. */
  id: string
  /** `k`: whether the maker buys or sells bitcoin. */
  side: OrderSide
  /** `f`: ISO 4217 code. */
  currency: string
  /** `s` */
  status: OrderStatus
  /** `amt`: satoshis; 0 means the amount follows from the market price when taken. */
  amount: number
  /** `fa`: one amount, or a range [min, max] the taker chooses from. */
  fiatAmount: readonly [number] | readonly [number, number]
  /** `pm` */
  paymentMethods: readonly string[]
  /** `premium`: percent above (negative: below) the market price. */
  premium: number
  /** `network`: mainnet, testnet, signet, regtest, … */
  network: string
  /** `layer`: onchain, lightning, liquid, … */
  layer: string
  /** `expires_at`: unix seconds; a pending order is expired from then on. */
  expiresAt: number
  /** `expiration` (NIP-40): unix seconds; relays may drop the event from then on. */
  expiration: number
  /** `y`: the platform, then optionally its instance (Hansa: "hansa", coordinator alias). */
  platform: readonly string[]
  /** `p` (Hansa): the maker's pubkey. */
  maker?: string
  /** `created_at` tag: when the order was made (the event's created_at changes on updates). */
  createdAt?: number
  /** `bond`: satoshis each party locks as a security deposit. */
  bond?: number
  name?: string
  source?: string
  /** `rating`: JSON, as the platform defines it. */
  rating?: string
  /** `g` */
  geohash?: string
}

/** What is wrong with an order event: the tag (or field) and a reason a person can act on. */
export type OrderIssue = { tag: string; message: string }

export type OrderReading = { ok: true; order: Order } | { ok: false; issues: OrderIssue[] }

export type OrderEventTemplate = {
  kind: typeof ORDER_KIND
  created_at: number
  tags: string[][]
  content: string
}

const CURRENCY = /^[A-Z]{3}$/
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/
const WHOLE = /^(0|[1-9][0-9]*)$/
const TOKEN = /^[a-z0-9][a-z0-9-]{0,31}$/
const GEOHASH = /^[0-9bcdefghjkmnpqrstuvwxyz]{1,12}$/

const isSafeWhole = (text: string, max = Number.MAX_SAFE_INTEGER) =>
  WHOLE.test(text) && text.length <= 16 && Number(text) <= max

/** The methods a `pm` tag names: every value, split at commas, trimmed, empty ones dropped. */
function methodsOf(values: readonly string[]): string[] {
  const out: string[] = []
  for (const v of values) {
    for (const part of v.split(',')) {
      const method = part.trim()
      if (method !== '') out.push(method)
    }
  }
  return out
}

type Tags = ReadonlyMap<string, readonly string[]>

/**
 * Checks an event (or just its kind and tags) against NIP-69 and the rules above. Returns
 * every issue found, in tag order, or an empty list. Never throws, whatever it is given.
 */
export function orderIssues(event: unknown): OrderIssue[] {
  return readOrder(event).issues
}

/** Reads an order event; `ok: false` lists every reason it is not a valid order. */
export function parseOrder(event: unknown): OrderReading {
  const { order, issues } = readOrder(event)
  return issues.length === 0 && order ? { ok: true, order } : { ok: false, issues }
}

function readOrder(event: unknown): { order?: Order; issues: OrderIssue[] } {
  const issues: OrderIssue[] = []
  const issue = (tag: string, message: string) => issues.push({ tag, message })
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    issue('event', 'an order event must be a JSON object')
    return { issues }
  }
  const e = event as { kind?: unknown; tags?: unknown }
  if (e.kind !== ORDER_KIND) issue('kind', `an order event has kind ${ORDER_KIND}`)
  if (!Array.isArray(e.tags)) {
    issue('tags', 'tags must be an array of arrays of strings')
    return { issues }
  }
  const tags = new Map<string, readonly string[]>()
  for (const tag of e.tags as unknown[]) {
    if (
      !Array.isArray(tag) ||
      tag.length === 0 ||
      !tag.every((x): x is string => typeof x === 'string')
    ) {
      issue('tags', 'each tag must be a non-empty array of strings')
      return { issues }
    }
    const name = tag[0] as string
    if (tags.has(name) && (ORDER_MANDATORY_TAGS as readonly string[]).includes(name)) {
      issue(name, `the ${name} tag must appear once`)
      continue
    }
    if (!tags.has(name)) tags.set(name, tag.slice(1))
  }
  for (const name of ORDER_MANDATORY_TAGS) {
    if (!tags.has(name)) issue(name, `the mandatory ${name} tag is missing (${MEANING[name]})`)
  }
  const order = readTags(tags, issue)
  return issues.length === 0 ? { order, issues } : { issues }
}

const MEANING: Record<(typeof ORDER_MANDATORY_TAGS)[number], string> = {
  d: 'the order id',
  k: 'buy or sell',
  f: 'the ISO 4217 currency',
  s: 'the status',
  amt: 'the amount in satoshis, 0 for market price',
  fa: 'the fiat amount',
  pm: 'the payment methods',
  premium: 'the premium in percent',
  network: 'the bitcoin network',
  layer: 'onchain, lightning, liquid, …',
  expires_at: 'when the pending order expires',
  expiration: 'the NIP-40 expiration',
  y: 'the platform',
  z: '"order"',
}

function readTags(tags: Tags, issue: (tag: string, message: string) => void): Order {
  const first = (name: string): string | undefined => tags.get(name)?.[0]
  const present = (name: string) => tags.has(name)

  const id = first('d') ?? ''
  if (present('d') && (id === '' || id.length > ORDER_LIMITS.idLength)) {
    issue('d', `the order id must be 1 to ${ORDER_LIMITS.idLength} characters`)
  }
  const side = first('k') as OrderSide
  if (present('k') && !(ORDER_SIDES as readonly unknown[]).includes(side)) {
    issue('k', `must be buy or sell (of bitcoin); got ${JSON.stringify(first('k') ?? '')}`)
  }
  const currency = first('f') ?? ''
  if (present('f') && !CURRENCY.test(currency)) {
    issue(
      'f',
      `must be an ISO 4217 code, three capital letters (EUR); got ${JSON.stringify(currency)}`,
    )
  }
  const status = first('s') as OrderStatus
  if (present('s') && !(ORDER_STATUSES as readonly unknown[]).includes(status)) {
    issue(
      's',
      `must be one of ${ORDER_STATUSES.join(', ')}; got ${JSON.stringify(first('s') ?? '')}`,
    )
  }
  const amt = first('amt') ?? ''
  if (present('amt') && !isSafeWhole(amt, MAX_ORDER_SATS)) {
    issue(
      'amt',
      `must be a whole number of satoshis (0 for market price), at most 21 million bitcoin; got ${JSON.stringify(amt)}`,
    )
  }
  const fa = tags.get('fa') ?? []
  const fiat = fa.map(Number)
  if (present('fa')) {
    if (fa.length < 1 || fa.length > 2 || !fa.every((v) => DECIMAL.test(v) && v.length <= 24)) {
      issue('fa', 'must be one decimal amount, or two (the min and max of a range)')
    } else if (!fiat.every((n) => Number.isFinite(n) && n > 0)) {
      issue('fa', 'fiat amounts must be more than 0')
    } else if (fiat.length === 2 && fiat[0]! > fiat[1]!) {
      issue('fa', `a range is min then max; got ${fa[0]} > ${fa[1]}`)
    }
  }
  const methods = methodsOf(tags.get('pm') ?? [])
  if (present('pm')) {
    if (methods.length === 0) issue('pm', 'must name at least one payment method')
    else if (methods.length > ORDER_LIMITS.methods) {
      issue('pm', `at most ${ORDER_LIMITS.methods} payment methods`)
    } else if (methods.some((m) => m.length > ORDER_LIMITS.methodLength)) {
      issue('pm', `a payment method is at most ${ORDER_LIMITS.methodLength} characters`)
    }
  }
  const premiumText = first('premium') ?? ''
  const premium = Number(premiumText)
  if (present('premium')) {
    if (!DECIMAL.test(premiumText) || premiumText.length > 24 || !Number.isFinite(premium)) {
      issue('premium', `must be a decimal percentage (1.5, -2); got ${JSON.stringify(premiumText)}`)
    } else if (premium <= -100) {
      issue('premium', 'must be above -100 (percent)')
    }
  }
  const network = first('network') ?? ''
  if (present('network') && !TOKEN.test(network)) {
    issue(
      'network',
      `must name a network in lowercase (mainnet, signet, …); got ${JSON.stringify(network)}`,
    )
  }
  const layer = first('layer') ?? ''
  if (present('layer') && !TOKEN.test(layer)) {
    issue(
      'layer',
      `must name a layer in lowercase (onchain, lightning, liquid, …); got ${JSON.stringify(layer)}`,
    )
  }
  const expiresAtText = first('expires_at') ?? ''
  if (present('expires_at') && !isSafeWhole(expiresAtText)) {
    issue('expires_at', `must be unix seconds; got ${JSON.stringify(expiresAtText)}`)
  }
  const expirationText = first('expiration') ?? ''
  if (present('expiration') && !isSafeWhole(expirationText)) {
    issue('expiration', `must be unix seconds (NIP-40); got ${JSON.stringify(expirationText)}`)
  }
  const expiresAt = Number(expiresAtText)
  const expiration = Number(expirationText)
  if (isSafeWhole(expiresAtText) && isSafeWhole(expirationText) && expiration < expiresAt) {
    issue(
      'expiration',
      'must not come before expires_at: the event has to outlive its pending status',
    )
  }
  const platform = tags.get('y') ?? []
  if (
    present('y') &&
    (platform.length === 0 || platform.some((p) => p === '' || p.length > ORDER_LIMITS.textLength))
  ) {
    issue('y', 'must name the platform (and optionally its instance), each a non-empty value')
  }
  if (present('z') && first('z') !== 'order') {
    issue('z', `must be "order"; got ${JSON.stringify(first('z') ?? '')}`)
  }

  const order: Order = {
    id,
    side,
    currency,
    status,
    amount: Number(amt),
    fiatAmount: (fiat.length === 2 ? [fiat[0]!, fiat[1]!] : [fiat[0]!]) as Order['fiatAmount'],
    paymentMethods: methods,
    premium,
    network,
    layer,
    expiresAt,
    expiration,
    platform: [...platform],
  }
  // Optional tags: read when well formed, reported when present but malformed.
  const maker = first('p')
  if (maker !== undefined) {
    if (isHex64(maker)) order.maker = maker
    else issue('p', "the maker's pubkey must be 64 lowercase hex characters")
  }
  const createdAt = first('created_at')
  if (createdAt !== undefined) {
    if (isSafeWhole(createdAt)) order.createdAt = Number(createdAt)
    else issue('created_at', `must be unix seconds; got ${JSON.stringify(createdAt)}`)
  }
  const bond = first('bond')
  if (bond !== undefined) {
    if (isSafeWhole(bond, MAX_ORDER_SATS)) order.bond = Number(bond)
    else issue('bond', `must be a whole number of satoshis; got ${JSON.stringify(bond)}`)
  }
  const geohash = first('g')
  if (geohash !== undefined) {
    if (GEOHASH.test(geohash)) order.geohash = geohash
    else issue('g', 'must be a geohash (1 to 12 of 0-9 b-z without a i l o)')
  }
  for (const [tag, key] of [
    ['name', 'name'],
    ['source', 'source'],
    ['rating', 'rating'],
  ] as const) {
    const value = first(tag)
    if (value === undefined) continue
    if (value.length > (tag === 'rating' ? 4 * ORDER_LIMITS.textLength : ORDER_LIMITS.textLength)) {
      issue(
        tag,
        `is too long (at most ${tag === 'rating' ? 4 * ORDER_LIMITS.textLength : ORDER_LIMITS.textLength} characters)`,
      )
    } else order[key] = value
  }
  return order
}

/** The tags of an order, mandatory ones first in NIP-69's order. */
export function orderTags(order: Order): string[][] {
  const tags: string[][] = [
    ['d', order.id],
    ['k', order.side],
    ['f', order.currency],
    ['s', order.status],
    ['amt', String(order.amount)],
    ['fa', ...order.fiatAmount.map(String)],
    ['pm', ...order.paymentMethods],
    ['premium', String(order.premium)],
    ['network', order.network],
    ['layer', order.layer],
  ]
  if (order.maker !== undefined) tags.push(['p', order.maker])
  if (order.name !== undefined) tags.push(['name', order.name])
  if (order.source !== undefined) tags.push(['source', order.source])
  if (order.rating !== undefined) tags.push(['rating', order.rating])
  if (order.geohash !== undefined) tags.push(['g', order.geohash])
  if (order.bond !== undefined) tags.push(['bond', String(order.bond)])
  if (order.createdAt !== undefined) tags.push(['created_at', String(order.createdAt)])
  tags.push(
    ['expires_at', String(order.expiresAt)],
    ['expiration', String(order.expiration)],
    ['y', ...order.platform],
    ['z', 'order'],
  )
  return tags
}

/**
 * An unsigned order event for `order`, created at `createdAt`. Throws a RangeError naming
 * the first issue when the order would not read back as valid (a comma in a payment method,
 * a currency in lowercase, …): what is published is always a valid order.
 */
export function orderEventTemplate(
  order: Order,
  createdAt: number,
  content = '',
): OrderEventTemplate {
  const template: OrderEventTemplate = {
    kind: ORDER_KIND,
    created_at: createdAt,
    tags: orderTags(order),
    content,
  }
  const problems = orderIssues(template)
  const commas = order.paymentMethods.some((m) => m.includes(',') || m.trim() !== m || m === '')
  if (commas)
    problems.unshift({ tag: 'pm', message: 'a payment method may not contain a comma or be blank' })
  if (problems.length > 0) {
    const p = problems[0]!
    throw new RangeError(`not a valid NIP-69 order: ${p.tag}: ${p.message}`)
  }
  return template
}

/** `38383:<pubkey>:<d>`: what identifies an order across its updates (NIP-01 `a` address). */
export function orderAddress(event: Pick<NostrEvent, 'pubkey' | 'tags'>): string {
  const d = event.tags.find((t) => t[0] === 'd')?.[1] ?? ''
  return `${ORDER_KIND}:${event.pubkey}:${d}`
}
