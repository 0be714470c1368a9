// `hansa account`: your account at a node — subscriptions, SWAP balance, chequebook, payments.
import { DEFAULT_NODE_URL, showAccount, userKey } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  json?: boolean
}): Promise<void> {
  const result = await showAccount(opts.node ?? DEFAULT_NODE_URL, userKey(opts))
  output(opts.json, result.account, () => lines(result.lines))
}
