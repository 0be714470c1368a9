// `hansa account add-key|remove-key <pubkey>`: one subscription, all of your app keys.
import { DEFAULT_NODE_URL, addKey, removeKey, userKey } from '../billing/billing.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  service?: string
  pubkey: string
  consent?: string
  addedKey?: string
  remove?: boolean
  json?: boolean
}): Promise<void> {
  const url = opts.node ?? DEFAULT_NODE_URL
  const service = opts.service ?? 'inbox'
  const sub = opts.remove
    ? await removeKey(url, userKey(opts), service, opts.pubkey)
    : await addKey(url, userKey(opts), service, opts.pubkey, {
        ...(opts.consent ? { consent: [opts.consent] } : {}),
        ...(opts.addedKey ? { addedKey: [opts.addedKey] } : {}),
      })
  output(opts.json, sub, (s) =>
    lines([`${s.service} subscription ${s.id} now covers: ${s.pubkeys.join(', ')}`]),
  )
}
