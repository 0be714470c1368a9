// The feeds a joint-book read opens: one per order-book node asked (every trusted member's, or
// with `sources` a few members that hold the whole federation's book by replication), asked
// for the members' orders, and one per relay the user added by hand (asked for anyone's orders,
// each then checked against the manifest). listOrders opens them once; watchOrders keeps them
// open.
import { getSyncStatus } from '../federation-api.js'
import type { OrderBookClient } from './joint-book.js'
import { bookFilter, relaysOf } from './joint-book.js'
import { NodeFeed } from './node-feed.js'
import type { BookNode } from './types.js'

/**
 * The member nodes to ask: with `sources`, that many, one per coordinator first (a second
 * source at another coordinator survives the first coordinator's outage); else all.
 */
export function sourceNodes(client: OrderBookClient): BookNode[] {
  const all = client.state.readableNodes()
  const wanted = client.options.sources
  if (wanted === undefined || wanted <= 0 || wanted >= all.length) return all.map((n) => n.node)
  const chosen: BookNode[] = []
  const coordinators = new Set<string>()
  for (const { coordinator, node } of all) {
    if (chosen.length >= wanted) break
    if (coordinators.has(coordinator.pubkey)) continue
    coordinators.add(coordinator.pubkey)
    chosen.push(node)
  }
  for (const { node } of all) {
    if (chosen.length >= wanted) break
    if (!chosen.includes(node)) chosen.push(node)
  }
  return chosen
}

/**
 * After a source's complete answer: the nodes not asked are live if the source's replication
 * link to them is open now, else down with its reason (stale, orders as last seen). `vouched`
 * is shared by the sources of one read, so one source that sees a node keeps it live.
 */
async function vouch(
  client: OrderBookClient,
  sourceUrl: string,
  asked: ReadonlySet<string>,
  vouched: Set<string>,
): Promise<void> {
  const readable = new Set(client.state.readableNodes().map((n) => n.node.pubkey))
  try {
    const status = await getSyncStatus(sourceUrl, { timeoutMs: client.timeoutMs })
    for (const peer of status.peers) {
      if (asked.has(peer.pubkey) || !readable.has(peer.pubkey)) continue
      if (!peer.services.includes('orderbook')) continue
      if (peer.connected) {
        vouched.add(peer.pubkey)
        client.state.vouched(peer.pubkey, client.now())
      } else if (!vouched.has(peer.pubkey)) {
        client.state.down(
          peer.pubkey,
          `not connected to ${sourceUrl}${peer.lastError ? `: ${peer.lastError}` : ''}`,
        )
      }
    }
  } catch {
    // The source's status is unknown: the nodes not asked stay as the book last saw them.
  }
}

export function openBookFeeds(
  client: OrderBookClient,
  statuses: readonly string[],
  options: { reconnect: boolean; onChange: () => void; onSettled: () => void },
): NodeFeed[] {
  const wanted = bookFilter(client, statuses)
  const { authors: _members, ...anyone } = wanted
  const sources = sourceNodes(client)
  const everyNode = sources.length === client.state.readableNodes().length
  const asked = new Set(sources.map((n) => n.pubkey))
  const vouched = new Set<string>()
  const targets = [
    ...sources.map((node) => ({
      url: node.urls[0]!,
      nodePubkey: node.pubkey as string | undefined,
    })),
    ...relaysOf(client).map((url) => ({ url, nodePubkey: undefined })),
  ]
  return targets.map(
    (target) =>
      new NodeFeed({
        ...target,
        // A hand-added relay may carry anyone's orders: all are read, and checked here.
        filter: target.nodePubkey === undefined ? anyone : wanted,
        state: client.state,
        WebSocket: client.WebSocket,
        answerTimeoutMs: client.timeoutMs,
        reconnect: options.reconnect,
        now: () => client.now(),
        onChange: options.onChange,
        onSettled: options.onSettled,
        ...(everyNode || target.nodePubkey === undefined
          ? {}
          : { vouch: () => vouch(client, target.url, asked, vouched) }),
      }),
  )
}
