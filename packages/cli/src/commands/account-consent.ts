// `hansa account consent --owner <pubkey>`: this key agrees to be covered by the owner's
// subscription at a node (protocol/subscription-consent.ts). Prints the signed consent, which
// the owner passes to `hansa account subscribe --pubkey … --consent FILE` or `add-key`.
import { DEFAULT_NODE_URL, consent, userKey } from '../billing/billing.js'

export default async function run(opts: {
  node?: string
  key?: string
  owner: string
  service?: string
}): Promise<void> {
  const url = opts.node ?? DEFAULT_NODE_URL
  const signed = await consent(url, userKey(opts), opts.owner, opts.service ?? 'inbox')
  process.stdout.write(`${JSON.stringify(signed)}\n`)
}
