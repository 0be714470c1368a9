// The joint order book's types: who the user trusts (the input), and what the book shows.
import type {
  Manifest,
  NostrEvent,
  Order,
  OrderSide,
  OrderStatus,
  OrderbookTradingTerms,
} from '@hansa/protocol'

/** A node the manifest lists for a coordinator: its key signs the coordinator's orders. */
export type BookNode = {
  pubkey: string
  urls: string[]
  /** The services the manifest lists for the node; its orders count only with "orderbook". */
  services: string[]
}

/** A member coordinator, as the verified manifest and the user's trust list say. */
export type BookCoordinator = {
  pubkey: string
  alias: string
  nodes: BookNode[]
  /** false: the user turned this coordinator off; its orders are hidden. Default true. */
  enabled?: boolean
}

/**
 * Where the book learns whom to trust: the member coordinators of the verified manifest, each
 * marked enabled or not by the user's trust list. The SDK's trust list implements it; so does
 * `coordinatorsFromManifest` for a manifest at hand.
 */
export interface TrustedCoordinators {
  coordinators(): readonly BookCoordinator[] | Promise<readonly BookCoordinator[]>
}

/** Which orders a caller wants. Every field narrows; none: every pending order. */
export type OrderFilter = {
  /** ISO 4217 codes. */
  currency?: string | readonly string[]
  side?: OrderSide
  /** A payment method, matched without regard to case ("sepa" finds "SEPA Instant"). */
  paymentMethod?: string
  /** Default ["pending"]. */
  status?: readonly OrderStatus[]
  /** A coordinator's alias or pubkey. */
  coordinator?: string
  /** A maker's pubkey. */
  maker?: string
}

/** One order of the joint book, tagged with its coordinator and that coordinator's terms. */
export type JointOrder = {
  /** `38383:<node pubkey>:<order id>`: the order across its updates. */
  address: string
  id: string
  order: Order
  /** The NIP-69 event as its node signed it. */
  event: NostrEvent
  coordinator: { pubkey: string; alias: string }
  /** The node that published it; actions on the order go there. */
  node: { pubkey: string; url: string }
  /** The coordinator's trading terms (its node's signed terms), when they could be read. */
  terms: OrderbookTradingTerms | null
  /** True when the coordinator did not answer this time: the order is as last seen. */
  stale: boolean
  /** Unix seconds when its coordinator last answered, or null if never. */
  lastSeen: number | null
}

export type CoordinatorStatus = {
  pubkey: string
  alias: string
  /**
   * live: answered within the timeout. stale: did not (down or slow); its orders, if any,
   * are the ones last seen. disabled: turned off by the user. no-book: no node of it runs
   * the order book.
   */
  state: 'live' | 'stale' | 'disabled' | 'no-book'
  lastSeen: number | null
  orders: number
  /** Why it is stale (unreachable, timed out, refused), when known. */
  error?: string
}

/** An order left out of the book, and why (a forged or unknown publisher, a bad event). */
export type ExcludedOrder = { pubkey: string; id: string; reason: string; relay: string }

export type JointBook = {
  orders: JointOrder[]
  coordinators: CoordinatorStatus[]
  excluded: ExcludedOrder[]
  /** Unix seconds of this view. */
  at: number
}

/**
 * The trusted coordinators of a verified manifest: every member coordinator, those the user
 * named in `disabled` (alias or pubkey) turned off.
 */
export function coordinatorsFromManifest(
  manifest: Manifest,
  options: { disabled?: readonly string[] } = {},
): BookCoordinator[] {
  const off = new Set(options.disabled ?? [])
  return manifest.coordinators.map((c) => ({
    pubkey: c.pubkey,
    alias: c.alias,
    enabled: !off.has(c.alias) && !off.has(c.pubkey),
    nodes: c.nodes.map((n) => ({ pubkey: n.pubkey, urls: [...n.urls], services: [...n.services] })),
  }))
}

/** A TrustedCoordinators over a fixed list (tests, scripts). */
export const fixedCoordinators = (list: readonly BookCoordinator[]): TrustedCoordinators => ({
  coordinators: () => list,
})
