// `hansa account subscribe`: pay a node for N periods of a service (a quote, then a cheque).
import { DEFAULT_NODE_URL, subscribe, userKey } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  service?: string
  periods?: string
  pubkey?: string[]
  consent?: string[]
  addedKey?: string[]
  rpcUrl?: string
  json?: boolean
}): Promise<void> {
  const { lines: text, ...receipt } = await subscribe(
    opts.node ?? DEFAULT_NODE_URL,
    userKey(opts),
    {
      service: opts.service ?? 'inbox',
      periods: Number(opts.periods ?? '1'),
      ...(opts.pubkey ? { pubkeys: opts.pubkey } : {}),
      ...(opts.consent ? { consent: opts.consent } : {}),
      ...(opts.addedKey ? { addedKey: opts.addedKey } : {}),
    },
    opts.rpcUrl,
  )
  output(opts.json, receipt, () => lines(text))
}
