// listOrders: the joint book, once. Every trusted coordinator's order-book nodes are asked at
// the same time (one subscription per node, for all members' orders, so a coordinator's orders
// passed on by another are found too); the book waits for each node's complete answer (EOSE)
// at most `timeoutMs`. A coordinator that is down or slow never stalls the rest: its orders
// are shown as the book last saw them, marked stale with the time it last answered.
import type { OrderBookClient } from './joint-book.js'
import { bookFilter, relaysOf } from './joint-book.js'
import { NodeFeed } from './node-feed.js'
import type { JointBook, OrderFilter } from './types.js'

export type ListOrdersParameters = OrderFilter
export type ListOrdersReturnType = JointBook

export async function listOrders(
  client: OrderBookClient,
  filter: ListOrdersParameters = {},
): Promise<ListOrdersReturnType> {
  await client.refreshCoordinators()
  const { state } = client
  const nodes = state.readableNodes()
  const wanted = bookFilter(client, filter.status ?? ['pending'])
  const { authors: _members, ...anyone } = wanted
  let settle: () => void = () => {}
  const allSettled = new Promise<void>((resolve) => {
    settle = resolve
  })
  const feeds: NodeFeed[] = []
  const onSettled = () => {
    if (feeds.every((f) => f.isSettled)) settle()
  }
  const targets = [
    ...nodes.map(({ node }) => ({
      url: node.urls[0]!,
      nodePubkey: node.pubkey as string | undefined,
    })),
    ...relaysOf(client).map((url) => ({ url, nodePubkey: undefined })),
  ]
  for (const target of targets) {
    feeds.push(
      new NodeFeed({
        ...target,
        // A hand-added relay may carry anyone's orders: all are read, and checked here.
        filter: target.nodePubkey === undefined ? anyone : wanted,
        state,
        WebSocket: client.WebSocket,
        answerTimeoutMs: client.timeoutMs,
        reconnect: false,
        now: () => client.now(),
        onChange: () => {},
        onSettled,
      }),
    )
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, client.timeoutMs)
  })
  const terms = client.refreshTerms(deadline)
  for (const feed of feeds) feed.start()
  if (feeds.length === 0) settle()
  await Promise.race([allSettled, deadline])
  await Promise.race([terms, deadline])
  clearTimeout(timer)
  for (const feed of feeds) {
    feed.giveUp() // a node still silent did not answer in time: its orders are as last seen
    feed.stop()
  }
  return state.view(filter, client.now())
}
