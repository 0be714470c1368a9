// SWAP accounting as pure functions (the Waku store's SWAP, Swarm Bee's accounting): each side
// keeps, per peer, a running balance of what the client owes the node for service. Both sides
// price every request with the same function from the node's signed terms, so their books
// agree without talking; cheques settle the balance.
//
//   node:   admit (refuse past the disconnect threshold) → serve → charge(price)
//           cheque arrives → creditCheque(cumulativePayout)
//   client: request answered → charge(price); paymentDue > 0 → send a cheque for it → creditCheque
//
// The balance is "what the client owes": positive is debt, negative is credit paid ahead.
// Cheques are cumulative (Bee's and the Swarm chequebook's rule): a cheque states the total
// ever paid from the client's chequebook to this node, so crediting one adds the rise over the
// last credited total, and a cheque that does not rise is refused — never counted twice.
//
// Thresholds (Bee's): the client pays once it owes `paymentThreshold` (or earlier: `early`
// percent before it); the node refuses a request when the debt plus the request's base price
// would pass `disconnectThreshold` (Bee: 25 % above the payment threshold). Terms validation
// keeps disconnectThreshold ≥ paymentThreshold + the largest base price, so a client that pays
// when asked is never refused. In `soft` mode nothing is refused; the peer is only reported
// out of bounds. A peer is out of bounds in either direction: owing more than the disconnect
// threshold (`debt`), or having paid more than it ahead (`credit`, the node owes service).
import type { MeteredTerms, SwapMode } from './terms.js'

export type SwapPrices = { query: bigint; event: bigint; kilobyte: bigint }

/** The parsed metered terms the accounting runs on. */
export type SwapPolicy = {
  prices: SwapPrices
  paymentThreshold: bigint
  disconnectThreshold: bigint
  mode: SwapMode
}

export function swapPolicy(terms: MeteredTerms): SwapPolicy {
  return {
    prices: {
      query: BigInt(terms.prices.query),
      event: BigInt(terms.prices.event),
      kilobyte: BigInt(terms.prices.kilobyte),
    },
    paymentThreshold: BigInt(terms.paymentThreshold),
    disconnectThreshold: BigInt(terms.disconnectThreshold),
    mode: terms.swap,
  }
}

/** A priced request: a REQ/COUNT answered, or an event stored, with the event bytes it moved. */
export type SwapRequest = {
  /**
   * query: a REQ or COUNT answered; event: an event stored; delivery: an event sent live to a
   * subscription that is already open (its REQ paid the base price, so only its bytes count).
   */
  kind: 'query' | 'event' | 'delivery'
  /** UTF-8 bytes of the events served (query, delivery) or stored (event), as NIP-01 serialises them. */
  bytes: number
}

/** The price of a request before its size is known: what admission checks. */
export const basePrice = (prices: SwapPrices, kind: SwapRequest['kind']): bigint =>
  kind === 'query' ? prices.query : kind === 'event' ? prices.event : 0n

/** base price + ⌈bytes × kilobyte / 1024⌉ — integer arithmetic, rounded up. */
export function priceOf(prices: SwapPrices, request: SwapRequest): bigint {
  const bytes = BigInt(Math.max(0, Math.floor(request.bytes)))
  return basePrice(prices, request.kind) + (bytes * prices.kilobyte + 1023n) / 1024n
}

export type SwapAccount = Readonly<{
  /** What the client owes: charged - paid. */
  balance: bigint
  /** Every price charged, summed. */
  charged: bigint
  /** Every cheque's rise, summed. */
  paid: bigint
  /** The highest cumulative payout credited: the next cheque must state more. */
  cumulativePayout: bigint
}>

export const EMPTY_ACCOUNT: SwapAccount = Object.freeze({
  balance: 0n,
  charged: 0n,
  paid: 0n,
  cumulativePayout: 0n,
})

/** Books `amount` (≥ 0) of service against the client. */
export function charge(account: SwapAccount, amount: bigint): SwapAccount {
  if (amount < 0n) throw new RangeError('a charge is not negative')
  return {
    ...account,
    balance: account.balance + amount,
    charged: account.charged + amount,
  }
}

/**
 * Books a payment of `amount` (≥ 0) to the client. `creditCheque` calls it with a cheque's
 * rise; a receiver whose chequebook also pays for other things (a subscription) counts the
 * rise against the chequebook itself and credits only the share meant for this account.
 */
export function credit(account: SwapAccount, amount: bigint): SwapAccount {
  if (amount < 0n) throw new RangeError('a payment is not negative')
  return { ...account, balance: account.balance - amount, paid: account.paid + amount }
}

export type CreditResult =
  | { ok: true; account: SwapAccount; increment: bigint }
  | { ok: false; reason: 'not-increasing' }

/** Credits a cumulative cheque: adds its rise over the last credited total. */
export function creditCheque(account: SwapAccount, cumulativePayout: bigint): CreditResult {
  if (cumulativePayout <= account.cumulativePayout) return { ok: false, reason: 'not-increasing' }
  const increment = cumulativePayout - account.cumulativePayout
  return { ok: true, increment, account: { ...credit(account, increment), cumulativePayout } }
}

export type Bounds = 'within' | 'debt' | 'credit'

/** Whether the peer is out of bounds, and in which direction. */
export function bounds(account: SwapAccount, policy: SwapPolicy): Bounds {
  if (account.balance > policy.disconnectThreshold) return 'debt'
  if (-account.balance > policy.disconnectThreshold) return 'credit'
  return 'within'
}

export type Admission =
  | { serve: true; bounds: Bounds }
  /** Refused: serving would take the debt past the disconnect threshold. */
  | { serve: false; balance: bigint; disconnectThreshold: bigint }

/**
 * The node's decision on a request whose base price is `price`: refuse when the debt would
 * pass the disconnect threshold, except in soft mode, which serves and reports the bounds.
 */
export function admit(account: SwapAccount, price: bigint, policy: SwapPolicy): Admission {
  const after = account.balance + price
  if (after <= policy.disconnectThreshold) return { serve: true, bounds: bounds(account, policy) }
  if (policy.mode === 'soft') return { serve: true, bounds: 'debt' }
  return { serve: false, balance: account.balance, disconnectThreshold: policy.disconnectThreshold }
}

/**
 * What the client should pay now: its whole debt once it reaches the payment threshold, or
 * `earlyPercent` percent before it (Bee's early payment); 0n when nothing is due yet.
 */
export function paymentDue(account: SwapAccount, policy: SwapPolicy, earlyPercent = 0): bigint {
  if (!Number.isInteger(earlyPercent) || earlyPercent < 0 || earlyPercent > 100) {
    throw new RangeError('earlyPercent is a whole number from 0 to 100')
  }
  const due = (policy.paymentThreshold * BigInt(100 - earlyPercent)) / 100n
  return account.balance > 0n && account.balance >= due ? account.balance : 0n
}
