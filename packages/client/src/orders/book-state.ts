// What the joint book knows, without I/O: which node keys sign for which member coordinator,
// every order event offered to it (checked: a valid signature, a valid NIP-69 order, signed by
// a node the manifest lists with the order book), the newest version of each order, and, per
// publishing node, whether it answered this time and when it last did. `view` turns that into
// the book a user sees: filtered, de-duplicated, expired orders dropped, each order tagged with
// its coordinator, its node, that node's terms, and whether it is as last seen (stale).
import {
  type NostrEvent,
  ORDER_KIND,
  type Order,
  type OrderbookTradingTerms,
  orderAddress,
  parseOrder,
} from '@hansa/protocol'
import type {
  BookCoordinator,
  BookNode,
  CoordinatorStatus,
  ExcludedOrder,
  JointBook,
  JointOrder,
  OrderFilter,
} from './types.js'

type Member = { coordinator: BookCoordinator; node: BookNode }
export type Entry = { event: NostrEvent; order: Order }
type NodeState = {
  /** Orders this node published, newest version of each, by address. */
  orders: Map<string, Entry>
  live: boolean
  lastSeen: number | null
  error?: string
}

/** Does `a` replace `b` as the newer version of an addressable event (NIP-01)? */
const newer = (a: NostrEvent, b: NostrEvent) =>
  a.created_at > b.created_at || (a.created_at === b.created_at && a.id < b.id)

export class BookState {
  private members = new Map<string, Member>()
  private coordinators: readonly BookCoordinator[] = []
  private readonly nodes = new Map<string, NodeState>()
  readonly terms = new Map<string, OrderbookTradingTerms | null>()
  private excluded = new Map<string, ExcludedOrder>()

  constructor(private readonly verify: (event: NostrEvent) => boolean) {}

  /** Sets the trusted coordinators (from the manifest and the user's trust list). */
  setCoordinators(list: readonly BookCoordinator[]): void {
    this.coordinators = list
    this.members = new Map()
    for (const coordinator of list) {
      for (const node of coordinator.nodes) this.members.set(node.pubkey, { coordinator, node })
    }
  }

  /** Order-book nodes of enabled coordinators: where the book reads. */
  readableNodes(): Array<{ coordinator: BookCoordinator; node: BookNode }> {
    const out: Array<{ coordinator: BookCoordinator; node: BookNode }> = []
    for (const coordinator of this.coordinators) {
      if (coordinator.enabled === false) continue
      for (const node of coordinator.nodes) {
        if (node.services.includes('orderbook') && node.urls.length > 0) {
          out.push({ coordinator, node })
        }
      }
    }
    return out
  }

  private nodeState(pubkey: string): NodeState {
    let state = this.nodes.get(pubkey)
    if (state === undefined) {
      state = { orders: new Map(), live: false, lastSeen: null }
      this.nodes.set(pubkey, state)
    }
    return state
  }

  /**
   * Why an event may not enter the book, or undefined when it may. A member's node that is
   * off (its coordinator disabled by the user) is not "excluded": it is hidden.
   */
  private refusal(event: NostrEvent): string | undefined {
    const member = this.members.get(event.pubkey)
    if (member === undefined) {
      return `signed by ${event.pubkey.slice(0, 12)}…, which is no node of a member coordinator in the verified manifest`
    }
    if (!member.node.services.includes('orderbook')) {
      return `signed by a node of ${member.coordinator.alias} that the manifest does not list with the order book`
    }
    if (!this.verify(event)) return 'the signature does not verify'
    const reading = parseOrder(event)
    if (!reading.ok) {
      const i = reading.issues[0]!
      return `not a valid NIP-69 order: ${i.tag}: ${i.message}`
    }
    return undefined
  }

  /**
   * Checks an event seen on `relay`: the order it holds when it is a member's valid order
   * (other kinds: undefined, silently); otherwise undefined, and the reason is kept in
   * `excluded`.
   */
  accept(event: NostrEvent, relay: string): Entry | undefined {
    if (event.kind !== ORDER_KIND) return undefined
    const reason = this.refusal(event)
    if (reason !== undefined) {
      const id = event.tags.find((t) => t[0] === 'd')?.[1] ?? ''
      this.excluded.set(orderAddress(event), { pubkey: event.pubkey, id, reason, relay })
      return undefined
    }
    return { event, order: (parseOrder(event) as { ok: true; order: Order }).order }
  }

  /** Keeps an accepted order if it is newer than the version known. Returns whether it was. */
  merge(entry: Entry): boolean {
    const orders = this.nodeState(entry.event.pubkey).orders
    const address = orderAddress(entry.event)
    const known = orders.get(address)
    if (known !== undefined && !newer(entry.event, known.event)) return false
    orders.set(address, entry)
    return true
  }

  /** accept, then merge: an update seen live, or a copy on another relay. */
  offer(event: NostrEvent, relay: string): boolean {
    const entry = this.accept(event, relay)
    return entry !== undefined && this.merge(entry)
  }

  /**
   * A node answered completely (EOSE) with `fresh`, the orders it published: they replace
   * what was known of it (orders it no longer serves have left the book). `at`: unix seconds.
   */
  answered(nodePubkey: string, fresh: Map<string, Entry>, at: number): void {
    const state = this.nodeState(nodePubkey)
    // Keep a newer version seen meanwhile elsewhere (a live update, a mirror).
    for (const [address, entry] of state.orders) {
      const f = fresh.get(address)
      if (f !== undefined && newer(entry.event, f.event)) fresh.set(address, entry)
    }
    state.orders = fresh
    state.live = true
    state.lastSeen = at
    delete state.error
  }

  /** A node is reachable and answering now (live updates after its EOSE). */
  seen(nodePubkey: string, at: number): void {
    const state = this.nodeState(nodePubkey)
    if (state.live) state.lastSeen = at
  }

  /**
   * A member node read for the whole book reports its replication link to this node open now:
   * the node is live (its orders come through that member), last seen `at`.
   */
  vouched(nodePubkey: string, at: number): void {
    const state = this.nodeState(nodePubkey)
    state.live = true
    state.lastSeen = at
    delete state.error
  }

  /** A node did not answer (down, slow, refused): its orders are as last seen. */
  down(nodePubkey: string, error: string): void {
    const state = this.nodeState(nodePubkey)
    state.live = false
    state.error = error
  }

  isLive(nodePubkey: string): boolean {
    return this.nodes.get(nodePubkey)?.live === true
  }

  /** The book as the user sees it at `now` (unix seconds). */
  view(filter: OrderFilter, now: number): JointBook {
    const statuses = filter.status ?? ['pending']
    const currencies =
      filter.currency === undefined
        ? undefined
        : new Set(typeof filter.currency === 'string' ? [filter.currency] : filter.currency)
    const method = filter.paymentMethod?.toLowerCase()
    const orders: JointOrder[] = []
    const statusOf: CoordinatorStatus[] = []
    for (const coordinator of this.coordinators) {
      const bookNodes = coordinator.nodes.filter((n) => n.services.includes('orderbook'))
      const states = bookNodes.map((n) => this.nodes.get(n.pubkey))
      const lastSeen = states.reduce<number | null>(
        (m, s) => (s?.lastSeen != null && (m === null || s.lastSeen > m) ? s.lastSeen : m),
        null,
      )
      const status: CoordinatorStatus = {
        pubkey: coordinator.pubkey,
        alias: coordinator.alias,
        state:
          coordinator.enabled === false
            ? 'disabled'
            : bookNodes.length === 0
              ? 'no-book'
              : states.some((s) => s?.live)
                ? 'live'
                : 'stale',
        lastSeen,
        orders: 0,
      }
      const errors = states.map((s) => s?.error).filter((e): e is string => e !== undefined)
      if (status.state === 'stale') status.error = errors[0] ?? 'no answer yet'
      statusOf.push(status)
      if (coordinator.enabled === false) continue
      if (
        filter.coordinator !== undefined &&
        filter.coordinator !== coordinator.alias &&
        filter.coordinator !== coordinator.pubkey
      ) {
        continue
      }
      for (const node of bookNodes) {
        const state = this.nodes.get(node.pubkey)
        if (state === undefined) continue
        for (const [address, { event, order }] of state.orders) {
          if (!statuses.includes(order.status)) continue
          if (order.status === 'pending' && order.expiresAt <= now) continue // left on time
          if (currencies !== undefined && !currencies.has(order.currency)) continue
          if (filter.side !== undefined && order.side !== filter.side) continue
          if (filter.maker !== undefined && order.maker !== filter.maker) continue
          if (
            method !== undefined &&
            !order.paymentMethods.some((m) => m.toLowerCase().includes(method))
          ) {
            continue
          }
          orders.push({
            address,
            id: order.id,
            order,
            event,
            coordinator: { pubkey: coordinator.pubkey, alias: coordinator.alias },
            node: { pubkey: node.pubkey, url: node.urls[0]! },
            terms: this.terms.get(node.pubkey) ?? null,
            stale: !state.live,
            lastSeen: state.lastSeen,
          })
          status.orders++
        }
      }
    }
    // Newest first; an order's own created_at tag when it has one.
    orders.sort(
      (a, b) =>
        (b.order.createdAt ?? b.event.created_at) - (a.order.createdAt ?? a.event.created_at) ||
        a.address.localeCompare(b.address),
    )
    return { orders, coordinators: statusOf, excluded: [...this.excluded.values()], at: now }
  }
}
