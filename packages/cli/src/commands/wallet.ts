// `hansa wallet`: your key's address on the node's chain, its ether and token balances, and
// on a devnet a faucet (--faucet N mints test tokens).
import { DEFAULT_NODE_URL, userKey } from '../billing/billing.js'
import { walletStatus } from '../billing/chain.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  rpcUrl?: string
  faucet?: string
  json?: boolean
}): Promise<void> {
  const { lines: text, ...data } = await walletStatus({
    node: opts.node ?? DEFAULT_NODE_URL,
    secretKey: userKey(opts),
    ...(opts.rpcUrl ? { rpcUrl: opts.rpcUrl } : {}),
    ...(opts.faucet ? { faucet: opts.faucet } : {}),
  })
  output(opts.json, data, () => lines(text))
}
