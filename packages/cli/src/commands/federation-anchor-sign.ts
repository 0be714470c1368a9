// `hansa federation anchor-sign`: a guardian signs the FederationRegistry update of a manifest
// version she signed (default: the head) and posts it to the federation's nodes, so anyone can
// anchor it later with `hansa federation anchor` and no guardian key.
import { anchorSign, registryLines } from '../federation/registry-sign.js'
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  key?: string
  dataDir?: string
  version?: string
  json?: boolean
}): Promise<void> {
  const guardian = loadGuardian(opts)
  const result = await anchorSign({
    nodeUrl: nodeUrlOf(opts, guardian),
    guardian,
    ...(opts.version === undefined ? {} : { version: Number(opts.version) }),
  })
  output(opts.json, result, (r) =>
    lines([
      `Signed the registry update of version ${r.version} (${r.hash.slice(0, 16)}…).`,
      ...registryLines(r),
    ]),
  )
}
