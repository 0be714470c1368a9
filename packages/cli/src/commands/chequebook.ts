// `hansa chequebook deploy|deposit|withdraw|status`: your chequebook on the node's chain.
import { DEFAULT_NODE_URL, userKey } from '../billing/billing.js'
import { chequebook } from '../billing/chain.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  action: string
  node?: string
  key?: string
  rpcUrl?: string
  chequebook?: string
  amount?: string
  hardDeposit?: string
  json?: boolean
}): Promise<void> {
  const { lines: text, ...data } = await chequebook(opts.action, {
    node: opts.node ?? DEFAULT_NODE_URL,
    secretKey: userKey(opts),
    ...(opts.rpcUrl ? { rpcUrl: opts.rpcUrl } : {}),
    ...(opts.chequebook ? { chequebook: opts.chequebook } : {}),
    ...(opts.amount ? { amount: opts.amount } : {}),
    ...(opts.hardDeposit ? { hardDeposit: opts.hardDeposit } : {}),
  })
  output(opts.json, data, () => lines(text))
}
