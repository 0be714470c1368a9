// `hansa chequebook deploy|deposit|withdraw|status`: your chequebook on the node's chain,
// remembered in your client config (--config) for the metered commands.
import { fileClientStore } from '@hansa/client'
import { DEFAULT_NODE_URL, userKey } from '../billing/billing.js'
import { chequebook } from '../billing/chain.js'
import { configPathOf, keyPathOf } from '../client/user.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  action: string
  node?: string
  key?: string
  rpcUrl?: string
  chequebook?: string
  amount?: string
  hardDeposit?: string
  config?: string
  json?: boolean
}): Promise<void> {
  const { lines: text, ...data } = await chequebook(opts.action, {
    node: opts.node ?? DEFAULT_NODE_URL,
    // with --config and no --key: the key the metered commands use (user.key beside it)
    secretKey: userKey(
      opts.key || !opts.config ? opts : { key: keyPathOf({ config: opts.config }) },
    ),
    ...(opts.rpcUrl ? { rpcUrl: opts.rpcUrl } : {}),
    ...(opts.chequebook ? { chequebook: opts.chequebook } : {}),
    ...(opts.amount ? { amount: opts.amount } : {}),
    ...(opts.hardDeposit ? { hardDeposit: opts.hardDeposit } : {}),
    store: fileClientStore(configPathOf(opts.config ? { config: opts.config } : {})),
  })
  output(opts.json, data, () => lines(text))
}
