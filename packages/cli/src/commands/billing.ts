// `hansa billing`: the coordinator's books — income, dev tax booked, paid and due, balances per
// peer, peers out of bounds, active subscriptions. Signed with the node key.
import { DEFAULT_NODE_URL, nodeKey, showBilling } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  dataDir?: string
  json?: boolean
}): Promise<void> {
  const result = await showBilling(opts.node ?? DEFAULT_NODE_URL, nodeKey(opts))
  output(opts.json, result.report, () => lines(result.lines))
}
