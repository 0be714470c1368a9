// `hansa billing dev-tax-paid`: book dev tax the coordinator passed on to the dev fund.
import { DEFAULT_NODE_URL, devTaxPaid, nodeKey } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  dataDir?: string
  amount: string
  reference: string
  json?: boolean
}): Promise<void> {
  const { lines: text, ...result } = await devTaxPaid(
    opts.node ?? DEFAULT_NODE_URL,
    nodeKey(opts),
    {
      amount: opts.amount,
      reference: opts.reference,
    },
  )
  output(opts.json, result, () => lines(text))
}
