// The order book's HTTP API from the client's side, and the routing every action shares: an
// action on an order goes to the node that published it (its coordinator's), signed (NIP-98)
// with the key the user has at that coordinator. A refusal becomes a NodeRequestError with
// the node's code (HANSA_ORDER_NOT_PENDING, HANSA_ORDER_NOT_MAKER, HANSA_ORDER_TERMS, …).
import type { NostrEvent, Order, OrderViewDocument } from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { NodeRequestError, httpUrlOf } from '../federation-api.js'
import { signerFor } from './coordinator-keys.js'
import type { NostrSigner } from '../signer.js'
import type { OrderBookClient } from './joint-book.js'
import type { BookCoordinator, JointOrder } from './types.js'

/**
 * An order as its coordinator's node reports it after an action: @hansa/protocol's
 * OrderViewSchema, with its NIP-69 order and its kind-38383 event typed exactly.
 */
export type OrderReceipt = Omit<OrderViewDocument, 'order' | 'event'> & {
  order: Order
  /** The kind-38383 event the node published for the order's current status. */
  event: NostrEvent | null
}

/** Which order an action is for: an order of the joint book, or its id and coordinator. */
export type OrderRef = JointOrder | { id: string; coordinator: string; node?: { url: string } }

export class OrderBookError extends NodeRequestError {
  override name = 'OrderBookError'
}

/** The coordinator named by alias or pubkey, among the trusted ones. */
export async function findCoordinator(
  client: OrderBookClient,
  name: string,
): Promise<BookCoordinator> {
  const list = await client.refreshCoordinators()
  const found = list.find((c) => c.alias === name || c.pubkey === name)
  if (found === undefined) {
    throw new OrderBookError(
      'HANSA_ORDER_COORDINATOR',
      0,
      '',
      `no member coordinator "${name}"; the trusted ones are ${list.map((c) => c.alias).join(', ') || 'none'}`,
    )
  }
  if (found.enabled === false) {
    throw new OrderBookError(
      'HANSA_ORDER_COORDINATOR',
      0,
      '',
      `coordinator ${found.alias} is turned off in your trust list`,
    )
  }
  return found
}

/** URLs of the coordinator's order-book nodes, to try in turn. */
export function bookUrlsOf(coordinator: BookCoordinator): string[] {
  const urls = coordinator.nodes
    .filter((n) => n.services.includes('orderbook'))
    .flatMap((n) => n.urls.slice(0, 1))
  if (urls.length === 0) {
    throw new OrderBookError(
      'HANSA_ORDER_COORDINATOR',
      0,
      '',
      `no node of ${coordinator.alias} runs the order book (per the manifest)`,
    )
  }
  return urls
}

/** Where an action on `ref` goes, and as whom. */
export async function routeOf(
  client: OrderBookClient,
  ref: OrderRef,
): Promise<{ coordinator: BookCoordinator; urls: string[]; signer: NostrSigner }> {
  const name = typeof ref.coordinator === 'string' ? ref.coordinator : ref.coordinator.pubkey
  const coordinator = await findCoordinator(client, name)
  const urls = ref.node !== undefined ? [ref.node.url] : bookUrlsOf(coordinator)
  return { coordinator, urls, signer: signerAt(client, coordinator) }
}

export function signerAt(client: OrderBookClient, coordinator: BookCoordinator): NostrSigner {
  const identity = client.options.identity
  if (identity === undefined) {
    throw new OrderBookError(
      'HANSA_ORDER_IDENTITY',
      0,
      '',
      'this order book has no identity: pass identity: { secretKey } or { signer } to make, take or cancel orders',
    )
  }
  return signerFor(identity, coordinator.pubkey)
}

/**
 * POSTs to the first of `urls` that answers; a node that cannot be reached is skipped, a
 * refusal is thrown. Signed with NIP-98 at the client's clock.
 */
export async function postOrderAction<T>(
  client: OrderBookClient,
  urls: readonly string[],
  path: string,
  signer: NostrSigner,
  body?: Record<string, unknown>,
): Promise<T> {
  let unreachable: NodeRequestError | undefined
  for (const nodeUrl of urls) {
    const url = `${httpUrlOf(nodeUrl)}${path}`
    const headers: Record<string, string> = {
      authorization: await getToken(
        url,
        'POST',
        (t) => signer.signEvent({ ...t, created_at: client.now() }),
        true,
        body,
      ),
    }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(client.options.requestTimeoutMs ?? 10_000),
      })
    } catch (cause) {
      const reason = (cause as Error).name === 'TimeoutError' ? 'timed out' : 'no answer'
      unreachable = new OrderBookError(
        'HANSA_NODE_UNREACHABLE',
        0,
        url,
        `cannot reach ${url}: ${reason}`,
        cause,
      )
      continue
    }
    const json = (await response.json().catch(() => undefined)) as
      | { error?: { code?: string; message?: string } }
      | undefined
    if (!response.ok) {
      throw new OrderBookError(
        json?.error?.code ?? 'HANSA_NODE_ERROR',
        response.status,
        url,
        json?.error?.message ?? `POST ${url} answered ${response.status}`,
      )
    }
    return json as T
  }
  throw unreachable ?? new OrderBookError('HANSA_NODE_UNREACHABLE', 0, '', 'no node to ask')
}
