// The feeds a joint-book read opens: one per order-book node of a trusted member (asked for the
// members' orders) and one per relay the user added by hand (asked for anyone's orders, each
// then checked against the manifest). listOrders opens them once; watchOrders keeps them open.
import type { OrderBookClient } from './joint-book.js'
import { bookFilter, relaysOf } from './joint-book.js'
import { NodeFeed } from './node-feed.js'

export function openBookFeeds(
  client: OrderBookClient,
  statuses: readonly string[],
  options: { reconnect: boolean; onChange: () => void; onSettled: () => void },
): NodeFeed[] {
  const wanted = bookFilter(client, statuses)
  const { authors: _members, ...anyone } = wanted
  const targets = [
    ...client.state.readableNodes().map(({ node }) => ({
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
      }),
  )
}
