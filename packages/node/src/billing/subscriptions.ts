// Subscriptions (Status's paid master nodes): a user pays a node for 1..N periods of a service
// and the node whitelists her pubkey until the expiry. The flow (docs/paid-access.md):
//   quote  POST /subscriptions {service, periods, pubkeys?} → a price for N periods, valid 15 min
//   pay    POST /subscriptions/payments {quote, proof} → the rail's proof (ledger: a cheque that
//          raises her cumulative payout by exactly the quoted amount) is verified, recorded,
//          booked, and her access extended: from the later of now and the current expiry.
// One subscription per owner and service; it covers up to `maxPubkeys` pubkeys — her app keys —
// which she adds and removes herself (on today's paid relays each app key pays again). Access
// is the latest expiry among the subscriptions that cover a pubkey; it is cached in memory for
// the request path and rebuilt after every change. Nothing is deleted at expiry: her stored
// mail waits, under the inbox's retention, for her to renew.
import { randomBytes } from 'node:crypto'
import {
  type NostrEvent,
  SUBSCRIPTION_CONSENT_KIND,
  type SubscriptionTerms,
  isHex64,
  subscriptionConsentError,
} from '@hansa/protocol'
import { verifyEvent } from 'nostr-tools/pure'
import type { BillingDb } from './db.js'
import { BillingRequestError, badRequest, forbidden, notFound } from './errors.js'

/** How long a quote may be paid. */
export const QUOTE_SECONDS = 900

export type Quote = {
  id: string
  owner: string
  service: string
  periods: number
  amount: bigint
  unit: string
  pubkeys: string[]
  createdAt: number
  expiresAt: number
  paidAt: number | null
}

export type SubscriptionView = {
  id: string
  service: string
  owner: string
  pubkeys: string[]
  createdAt: number
  expiresAt: number
  active: boolean
}

export type Access =
  | { active: true; expiresAt: number }
  | { active: false; expiredAt: number | null }

export type PaymentRecord = {
  subscription: SubscriptionView
  periods: number
  amount: bigint
  expiresBefore: number
  expiresAfter: number
}

/** A quotes row as either database returns it (PostgreSQL's bigints come as strings). */
export type QuoteRow = Omit<Quote, 'amount' | 'pubkeys' | 'createdAt' | 'expiresAt' | 'paidAt'> & {
  amount: string
  pubkeys: string
  created_at: number | string
  expires_at: number | string
  paid_at: number | string | null
}
type SubRow = { id: string; owner: string; service: string; expires_at: number; created_at: number }

export class Subscriptions {
  private readonly stmt
  private access_ = new Map<string, Map<string, number>>()

  constructor(
    private readonly db: BillingDb,
    /** The services on subscription, with their terms. */
    readonly terms: ReadonlyMap<string, SubscriptionTerms>,
    private readonly now: () => number,
    /** This node's pubkey: a consent to be covered names it. */
    private readonly nodePubkey: string,
  ) {
    this.stmt = {
      insertQuote: db.prepare(
        `INSERT INTO quotes (id, owner, service, periods, amount, unit, pubkeys, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      quote: db.prepare('SELECT * FROM quotes WHERE id = ?'),
      markPaid: db.prepare('UPDATE quotes SET paid_at = ? WHERE id = ? AND paid_at IS NULL'),
      byOwner: db.prepare('SELECT * FROM subscriptions WHERE owner = ? AND service = ?'),
      byId: db.prepare('SELECT * FROM subscriptions WHERE id = ?'),
      insertSub: db.prepare(
        'INSERT INTO subscriptions (id, owner, service, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      extend: db.prepare('UPDATE subscriptions SET expires_at = ? WHERE id = ?'),
      keys: db
        .prepare(
          'SELECT pubkey FROM subscription_keys WHERE subscription = ? ORDER BY added_at, pubkey',
        )
        .pluck(),
      addKey: db.prepare(
        'INSERT OR IGNORE INTO subscription_keys (subscription, pubkey, added_at) VALUES (?, ?, ?)',
      ),
      removeKey: db.prepare('DELETE FROM subscription_keys WHERE subscription = ? AND pubkey = ?'),
      ofPubkey: db.prepare(
        `SELECT s.* FROM subscriptions s JOIN subscription_keys k ON k.subscription = s.id
         WHERE k.pubkey = ? ORDER BY s.created_at, s.id`,
      ),
      accessRows: db.prepare(
        `SELECT k.pubkey, s.service, max(s.expires_at) AS expires_at FROM subscription_keys k
         JOIN subscriptions s ON s.id = k.subscription GROUP BY k.pubkey, s.service`,
      ),
      insertPayment: db.prepare(
        `INSERT INTO subscription_payments (subscription, quote, periods, amount, rail, reference, expires_before, expires_after, paid_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      all: db.prepare('SELECT * FROM subscriptions ORDER BY created_at, id'),
    }
    this.reloadAccess()
  }

  /**
   * Rebuilds the in-memory access table from the database. A payment calls it after its
   * transaction commits (applyPayment does not), so the relay never admits keys on a payment
   * that was rolled back.
   */
  reloadAccess(): void {
    const next = new Map<string, Map<string, number>>()
    for (const r of this.stmt.accessRows.all() as Array<{
      pubkey: string
      service: string
      expires_at: number
    }>) {
      const m = next.get(r.service) ?? new Map<string, number>()
      next.set(r.service, m)
      m.set(r.pubkey, r.expires_at)
    }
    this.access_ = next
  }

  /** Whether `pubkey` may use `service` now; when not, when its access ended (null: never had it). */
  access(pubkey: string, service: string): Access {
    const expiresAt = this.access_.get(service)?.get(pubkey)
    if (expiresAt === undefined) return { active: false, expiredAt: null }
    return expiresAt > this.now()
      ? { active: true, expiresAt }
      : { active: false, expiredAt: expiresAt }
  }

  activeCount(service: string): number {
    const now = this.now()
    let n = 0
    for (const r of this.stmt.all.all() as SubRow[])
      if (r.service === service && r.expires_at > now) n++
    return n
  }

  private termsOf(service: unknown): SubscriptionTerms & { service: string } {
    return subscriptionTermsOf(this.terms, service)
  }

  /** A price for `periods` periods of `service`, for `owner` and the extra `pubkeys`. */
  quote(
    owner: string,
    request: { service: unknown; periods: unknown; pubkeys?: unknown; consents?: unknown },
  ): Quote {
    const t = this.termsOf(request.service)
    const asked = quoteRequest(t, request)
    const existing = this.stmt.byOwner.get(owner, t.service) as SubRow | undefined
    const covered = existing ? (this.stmt.keys.all(existing.id) as string[]) : []
    const quote = newQuote(
      t,
      owner,
      asked,
      covered,
      (pubkey) => this.requireConsent(owner, t.service, pubkey, asked.consents),
      this.now(),
    )
    this.stmt.insertQuote.run(...quoteValues(quote))
    return quote
  }

  /** An unpaid, unexpired quote of `owner`; throws the reason otherwise. */
  payableQuote(id: unknown, owner: string): Quote {
    const row =
      typeof id === 'string' ? (this.stmt.quote.get(id) as QuoteRow | undefined) : undefined
    return payable(storedQuote(row), owner, this.now())
  }

  /**
   * Applies a verified payment of `amount` for `quote`: call inside the payment's transaction,
   * and reloadAccess() once it committed.
   * Renewal extends from the later of now and the current expiry.
   */
  applyPayment(quote: Quote, amount: bigint, rail: string, reference: string): PaymentRecord {
    checkPaymentAmount(quote, amount)
    const now = this.now()
    if (this.stmt.markPaid.run(now, quote.id).changes === 0) throw quotePaid()
    const t = this.termsOf(quote.service)
    let sub = this.stmt.byOwner.get(quote.owner, quote.service) as SubRow | undefined
    if (!sub) {
      sub = {
        id: randomBytes(16).toString('hex'),
        owner: quote.owner,
        service: quote.service,
        expires_at: now,
        created_at: now,
      }
      this.stmt.insertSub.run(sub.id, sub.owner, sub.service, now, now)
    }
    const before = sub.expires_at
    const after = extendedExpiry(now, before, quote.periods, t)
    this.stmt.extend.run(after, sub.id)
    for (const pk of [quote.owner, ...quote.pubkeys]) this.stmt.addKey.run(sub.id, pk, now)
    this.stmt.insertPayment.run(
      sub.id,
      quote.id,
      quote.periods,
      amount.toString(),
      rail,
      reference,
      before,
      after,
      now,
    )
    return {
      subscription: this.view(sub.id)!,
      periods: quote.periods,
      amount,
      expiresBefore: before,
      expiresAfter: after,
    }
  }

  view(id: string): SubscriptionView | undefined {
    const r = this.stmt.byId.get(id) as SubRow | undefined
    if (!r) return undefined
    return subscriptionView(r, this.stmt.keys.all(r.id) as string[], this.now())
  }

  /** The subscriptions that cover `pubkey` (as owner or as an added key). */
  listFor(pubkey: string): SubscriptionView[] {
    return (this.stmt.ofPubkey.all(pubkey) as SubRow[]).map((r) => this.view(r.id)!)
  }

  all(): SubscriptionView[] {
    return (this.stmt.all.all() as SubRow[]).map((r) => this.view(r.id)!)
  }

  /** The owner adds one of her keys to her subscription, with that key's signed consent. */
  addPubkey(id: string, by: string, pubkey: unknown, consent?: unknown): SubscriptionView {
    const sub = ownedSubscription(this.view(id), by)
    const key = addableKey({ node: this.nodePubkey, now: this.now() }, sub, pubkey, consent)
    checkKeyCount(new Set([...sub.pubkeys, key]).size, this.termsOf(sub.service))
    this.stmt.addKey.run(id, key, this.now())
    this.reloadAccess()
    return this.view(id)!
  }

  /** The owner removes a key (not her own); a key may also remove itself. */
  removePubkey(id: string, by: string, pubkey: string): SubscriptionView {
    checkRemovable(this.view(id), by, pubkey)
    this.db.transaction(() => this.stmt.removeKey.run(id, pubkey))()
    this.reloadAccess()
    return this.view(id)!
  }

  private requireConsent(
    owner: string,
    service: string,
    pubkey: string,
    consents: readonly unknown[],
  ): void {
    requireConsent({ node: this.nodePubkey, now: this.now() }, owner, service, pubkey, consents)
  }
}

/** The terms of a service sold by subscription; a 400 naming the ones there are otherwise. */
export function subscriptionTermsOf(
  terms: ReadonlyMap<string, SubscriptionTerms>,
  service: unknown,
): SubscriptionTerms & { service: string } {
  if (typeof service !== 'string' || !terms.has(service)) {
    const on = [...terms.keys()]
    throw badRequest(
      on.length === 0
        ? 'no service on this node is sold by subscription (see GET /terms)'
        : `service must be one sold by subscription here: ${on.join(', ')}`,
    )
  }
  return { ...terms.get(service)!, service }
}

/** A stored quote as its owner may pay it: a 403, 409 or 410 with the reason otherwise. */
export function payable(quote: Quote, owner: string, now: number): Quote {
  if (quote.owner !== owner) throw forbidden('this quote was made for another pubkey')
  if (quote.paidAt !== null) throw quotePaid()
  if (quote.expiresAt <= now) {
    throw new BillingRequestError(
      410,
      'HANSA_QUOTE_EXPIRED',
      'this quote has expired; ask for a new one with POST /subscriptions',
    )
  }
  return quote
}

/** What a quote request asks for, checked: a 400 with the reason otherwise. */
export function quoteRequest(
  t: SubscriptionTerms,
  request: { periods: unknown; pubkeys?: unknown; consents?: unknown },
): { periods: number; extra: string[]; consents: unknown[] } {
  const periods = request.periods
  if (
    typeof periods !== 'number' ||
    !Number.isInteger(periods) ||
    periods < 1 ||
    periods > t.maxPeriods
  ) {
    throw badRequest(`periods must be a whole number from 1 to ${t.maxPeriods}`)
  }
  const extra = request.pubkeys ?? []
  if (!Array.isArray(extra) || !extra.every((p) => isHex64(p))) {
    throw badRequest('pubkeys must be a list of pubkeys (64 lowercase hex characters)')
  }
  const consents = request.consents ?? []
  if (!Array.isArray(consents)) throw badRequest('consents must be a list of signed events')
  return { periods, extra: extra as string[], consents }
}

/**
 * A new quote for `owner`, whose subscription already covers `covered`: each extra key not
 * yet covered must have signed its consent (`consent` throws otherwise), and the keys in all
 * stay within the terms' maximum. Every store keeps quotes by these rules.
 */
export function newQuote(
  t: SubscriptionTerms & { service: string },
  owner: string,
  asked: { periods: number; extra: readonly string[] },
  covered: readonly string[],
  consent: (pubkey: string) => void,
  now: number,
): Quote {
  for (const pubkey of new Set(asked.extra)) {
    if (pubkey === owner || covered.includes(pubkey)) continue
    consent(pubkey)
  }
  const keys = new Set<string>([owner, ...covered, ...asked.extra])
  if (keys.size > t.maxPubkeys) {
    throw badRequest(
      `a subscription covers at most ${t.maxPubkeys} pubkeys; this one would cover ${keys.size}`,
    )
  }
  return {
    id: randomBytes(16).toString('hex'),
    owner,
    service: t.service,
    periods: asked.periods,
    amount: BigInt(t.price) * BigInt(asked.periods),
    unit: t.unit,
    pubkeys: [...new Set(asked.extra)].filter((p) => p !== owner),
    createdAt: now,
    expiresAt: now + QUOTE_SECONDS,
    paidAt: null,
  }
}

/**
 * Throws unless `consents` holds `pubkey`'s signed consent to be covered by `owner`'s
 * subscription to `service` on this node (protocol/subscription-consent.ts says why).
 */
export function requireConsent(
  at: { node: string; now: number },
  owner: string,
  service: string,
  pubkey: string,
  consents: readonly unknown[],
): void {
  const short = `${pubkey.slice(0, 12)}…`
  const theirs = consents.find(
    (c) => typeof c === 'object' && c !== null && (c as { pubkey?: unknown }).pubkey === pubkey,
  )
  if (theirs === undefined) {
    throw new BillingRequestError(
      403,
      'HANSA_SUBSCRIPTION_CONSENT',
      `${short} has not consented to be covered by your subscription: send its signed consent (kind ${SUBSCRIPTION_CONSENT_KIND}, made with hansa account consent by the holder of that key)`,
    )
  }
  const expected = { node: at.node, service, owner, pubkey, now: at.now }
  const error = subscriptionConsentError(theirs, expected)
  if (error !== null) {
    throw new BillingRequestError(403, 'HANSA_SUBSCRIPTION_CONSENT', error)
  }
  // a value parsed from the request: no verdict cached on it (nostr-tools caches one)
  if (!verifyEvent(theirs as NostrEvent)) {
    throw new BillingRequestError(
      403,
      'HANSA_SUBSCRIPTION_CONSENT',
      `the consent of ${short} has a bad signature`,
    )
  }
}

/** The values of a quotes row, in the column order both stores insert them. */
export const quoteValues = (q: Quote): Array<string | number> => [
  q.id,
  q.owner,
  q.service,
  q.periods,
  q.amount.toString(),
  q.unit,
  JSON.stringify(q.pubkeys),
  q.createdAt,
  q.expiresAt,
]

/** A quote as stored; undefined (no such id) is a 404. */
export function storedQuote(row: QuoteRow | undefined): Quote {
  if (!row) throw notFound('no such quote; ask for one with POST /subscriptions')
  return {
    id: row.id,
    owner: row.owner,
    service: row.service,
    periods: row.periods,
    amount: BigInt(row.amount),
    unit: row.unit,
    pubkeys: JSON.parse(row.pubkeys) as string[],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    paidAt: row.paid_at === null ? null : Number(row.paid_at),
  }
}

export const quotePaid = () =>
  new BillingRequestError(409, 'HANSA_QUOTE_PAID', 'this quote is already paid')

/** A payment pays a quote only with exactly the quoted amount (a 402 otherwise). */
export function checkPaymentAmount(quote: Quote, amount: bigint): void {
  if (amount !== quote.amount) {
    throw new BillingRequestError(
      402,
      'HANSA_PAYMENT_AMOUNT',
      `the payment is ${amount} ${quote.unit}; the quote asks for exactly ${quote.amount}`,
    )
  }
}

/** A renewal extends from the later of now and the current expiry. */
export const extendedExpiry = (
  now: number,
  before: number,
  periods: number,
  t: SubscriptionTerms,
): number => Math.max(now, before) + periods * t.periodSeconds

export function subscriptionView(
  r: {
    id: string
    owner: string
    service: string
    expires_at: number | string
    created_at: number | string
  },
  pubkeys: string[],
  now: number,
): SubscriptionView {
  return {
    id: r.id,
    service: r.service,
    owner: r.owner,
    pubkeys,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    active: Number(r.expires_at) > now,
  }
}

/** The subscription, when `by` owns it: a 404 or 403 otherwise. */
export function ownedSubscription(sub: SubscriptionView | undefined, by: string): SubscriptionView {
  if (!sub) throw notFound('no such subscription')
  if (sub.owner !== by) throw forbidden('only the owner changes a subscription')
  return sub
}

/** A key the owner may add to `sub`: well formed, and with its signed consent when new. */
export function addableKey(
  at: { node: string; now: number },
  sub: SubscriptionView,
  pubkey: unknown,
  consent: unknown,
): string {
  if (!isHex64(pubkey)) throw badRequest('pubkey must be 64 lowercase hex characters')
  if (!sub.pubkeys.includes(pubkey)) {
    requireConsent(at, sub.owner, sub.service, pubkey, consent === undefined ? [] : [consent])
  }
  return pubkey
}

/** A subscription covers at most the terms' maxPubkeys keys. */
export function checkKeyCount(keys: number, t: SubscriptionTerms): void {
  if (keys > t.maxPubkeys) {
    throw badRequest(`a subscription covers at most ${t.maxPubkeys} pubkeys`)
  }
}

/** `by` may take `pubkey` off `sub`: the owner (not her own key), or the key itself. */
export function checkRemovable(
  sub: SubscriptionView | undefined,
  by: string,
  pubkey: string,
): void {
  if (!sub) throw notFound('no such subscription')
  if (by !== sub.owner && by !== pubkey) {
    throw forbidden('only the owner removes keys from a subscription (a key may remove itself)')
  }
  if (pubkey === sub.owner) throw badRequest("the owner's own key stays on her subscription")
  if (!sub.pubkeys.includes(pubkey)) throw notFound('that pubkey is not on this subscription')
}
