// `hansa guardian init`: a guardian's key (mode 0600, kept if it exists) and the setup code to
// give the guardian who drafts the federation.
import { guardianInit } from '../federation/guardian.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  dataDir?: string
  name: string
  nodeUrl: string
  json?: boolean
}): Promise<void> {
  const result = guardianInit({
    name: opts.name,
    nodeUrl: opts.nodeUrl,
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
  })
  output(opts.json, result, (r) =>
    lines([
      r.created
        ? `Guardian ${r.name}: a new key in ${r.keyFile} (readable only by you; back it up).`
        : `Guardian ${r.name}: using the key already in ${r.keyFile}.`,
      `  pubkey ${r.pubkey}`,
      `  node   ${r.nodeUrl}`,
      '',
      'Your setup code (name, key and node URL, signed by your key). Send it to the guardian',
      'who drafts the federation (`hansa federation draft --guardian CODE ...`):',
      '',
      `  ${r.setupCode}`,
    ]),
  )
}
