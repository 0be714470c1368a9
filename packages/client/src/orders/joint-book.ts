// The joint order book client: a small object holding what the actions share — whom the user
// trusts, who she is to each coordinator, the environment (WebSocket, signature check, clock),
// and what the book has seen so far (so a coordinator that stops answering shows its orders as
// last seen, marked stale). Each action lives in its own file and takes this object first
// (list-orders.ts, watch-orders.ts, make-order.ts, take-order.ts, cancel-order.ts, …);
// `createOrderBook` also binds them, for `book.list(filter)` style.
import { type NostrEvent, ORDER_KIND, tradingTermsOf } from '@hansa/protocol'
import { getEventHash, verifyEvent } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { getTerms } from '../billing-api.js'
import { BookState } from './book-state.js'
import type { OrderIdentity } from './coordinator-keys.js'
import type { WebSocketConstructor } from './node-feed.js'
import type { BookCoordinator, TrustedCoordinators } from './types.js'

export type OrderBookOptions = {
  /** The member coordinators and the user's choices among them (the trust list). */
  coordinators: TrustedCoordinators
  /** Who the user is: needed to make, take, cancel or complete orders. */
  identity?: OrderIdentity
  /**
   * Relays the user added by hand (a list, or a function read at each use), read too; their
   * orders still need a member's signature.
   */
  relays?: readonly string[] | (() => readonly string[])
  /**
   * Read the whole federation's book from this many member nodes (of different coordinators
   * where it can) instead of from every coordinator's nodes: member nodes replicate the order
   * book (docs/replication.md), so any one holds every coordinator's orders. Each order is
   * still checked against the manifest (signed by a member coordinator's node key). A node not
   * asked is shown live when a member asked reports its replication link to that node open
   * (GET /federation/sync-status), else stale with the time the book last saw it live. Unset:
   * every coordinator's order-book nodes are asked, each vouching for itself.
   */
  sources?: number
  /**
   * How long the book waits for a coordinator before showing it stale, in milliseconds
   * (default 800: the rest of the book shows within a second).
   */
  timeoutMs?: number
  /** Milliseconds before an HTTP action is abandoned (default 10 000). */
  requestTimeoutMs?: number
  /** The WebSocket implementation (default: `ws`). */
  WebSocket?: WebSocketConstructor
  /**
   * Checks an event's id and signature (default: libsecp256k1 in WebAssembly through
   * nostr-wasm, about six times faster than nostr-tools' JavaScript verifyEvent, which is the
   * fallback when the WebAssembly cannot load).
   */
  verify?: (event: NostrEvent) => boolean
  /** Unix seconds (default: this machine's clock); NIP-98 signatures use it too. */
  now?: () => number
}

export type OrderBookClient = {
  readonly options: OrderBookOptions
  readonly state: BookState
  readonly timeoutMs: number
  readonly WebSocket: WebSocketConstructor
  now(): number
  /** Reads the trusted coordinators and hands them to the book's state. */
  refreshCoordinators(): Promise<readonly BookCoordinator[]>
  /** Fetches the signed terms of nodes whose terms are unknown, until `deadline` (ms). */
  refreshTerms(deadline: Promise<void>): Promise<void>
}

export const DEFAULT_BOOK_TIMEOUT_MS = 800

/** The hand-added relays to read now. */
export function relaysOf(client: OrderBookClient): readonly string[] {
  const relays = client.options.relays
  return typeof relays === 'function' ? relays() : (relays ?? [])
}

/** The order-book filter sent to every node: the members' orders, in these statuses. */
export function bookFilter(client: OrderBookClient, statuses: readonly string[]) {
  const authors = client.state.readableNodes().map((n) => n.node.pubkey)
  return { kinds: [ORDER_KIND], authors, '#s': [...statuses], limit: 500 }
}

/** nostr-wasm's verifier, loaded once per process; undefined when it cannot load. */
let wasmVerify: Promise<((event: NostrEvent) => boolean) | undefined> | undefined
function loadWasmVerify() {
  wasmVerify ??= (async () => {
    try {
      const [{ initNostrWasm }, wasm] = await Promise.all([
        import('nostr-wasm'),
        import('nostr-tools/wasm'),
      ])
      wasm.setNostrWasm(await initNostrWasm())
      return (event: NostrEvent) => wasm.verifyEvent({ ...event })
    } catch {
      return undefined
    }
  })()
  return wasmVerify
}

/**
 * Remembers the signatures already checked: an event seen again (a reconnect, the next list)
 * whose id is the hash of its content and whose signature is the one checked before needs no
 * second check. The id is always recomputed (cheap), so a forged copy is never waved through.
 */
function rememberingVerify(check: () => (event: NostrEvent) => boolean) {
  const seen = new Map<string, string>()
  return (event: NostrEvent): boolean => {
    if (seen.get(event.id) === event.sig) return getEventHash(event) === event.id
    const ok = check()(event)
    if (ok) {
      if (seen.size >= 50_000) seen.clear()
      seen.set(event.id, event.sig)
    }
    return ok
  }
}

const jsVerify = (e: NostrEvent) => verifyEvent({ ...e })

export function createOrderBookClient(options: OrderBookOptions): OrderBookClient {
  let backend: (event: NostrEvent) => boolean = options.verify ?? jsVerify
  // Loaded on first use: a HansaClient that never opens the book never loads the WebAssembly.
  let loading: Promise<void> | undefined
  const ready = (): Promise<void> => {
    if (loading === undefined) {
      loading =
        options.verify === undefined
          ? loadWasmVerify().then((wasm) => {
              if (wasm !== undefined) backend = wasm
            })
          : Promise.resolve()
    }
    return loading
  }
  const state = new BookState(rememberingVerify(() => backend))
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const client: OrderBookClient = {
    options,
    state,
    timeoutMs: options.timeoutMs ?? DEFAULT_BOOK_TIMEOUT_MS,
    WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    now,
    async refreshCoordinators() {
      await ready()
      const list = await options.coordinators.coordinators()
      state.setCoordinators(list)
      return list
    },
    async refreshTerms(deadline) {
      const missing = state.readableNodes().filter(({ node }) => !state.terms.has(node.pubkey))
      const fetches = missing.map(async ({ node }) => {
        try {
          const { terms } = await getTerms(node.urls[0]!, node.pubkey, {
            timeoutMs: client.timeoutMs,
          })
          state.terms.set(node.pubkey, tradingTermsOf(terms.services.orderbook))
        } catch {
          // Unknown for now; asked again next time.
        }
      })
      await Promise.race([Promise.all(fetches), deadline])
    },
  }
  return client
}
