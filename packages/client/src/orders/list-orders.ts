// listOrders: the joint book, once. Every trusted coordinator's order-book nodes are asked at
// the same time (one subscription per node, for all members' orders, so a coordinator's orders
// passed on by another are found too); the book waits for each node's complete answer (EOSE)
// at most `timeoutMs`. A coordinator that is down or slow never stalls the rest: its orders
// are shown as the book last saw them, marked stale with the time it last answered.
import type { OrderBookClient } from './joint-book.js'
import { openBookFeeds } from './book-feeds.js'
import type { NodeFeed } from './node-feed.js'
import type { JointBook, OrderFilter } from './types.js'

export type ListOrdersParameters = OrderFilter
export type ListOrdersReturnType = JointBook

export async function listOrders(
  client: OrderBookClient,
  filter: ListOrdersParameters = {},
): Promise<ListOrdersReturnType> {
  await client.refreshCoordinators()
  const { state } = client
  let settle: () => void = () => {}
  const allSettled = new Promise<void>((resolve) => {
    settle = resolve
  })
  let feeds: NodeFeed[] = []
  const onSettled = () => {
    if (feeds.every((f) => f.isSettled)) settle()
  }
  feeds = openBookFeeds(client, filter.status ?? ['pending'], {
    reconnect: false,
    onChange: () => {},
    onSettled,
  })
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
