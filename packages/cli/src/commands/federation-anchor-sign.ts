// `hansa federation anchor-sign`: a guardian signs the FederationRegistry update of a manifest
// version she signed (default: the head) and posts it to the federation's nodes, so anyone can
// anchor it later with `hansa federation anchor` and no guardian key.
import { anchorSign, registryLines } from '../federation/registry-sign.js'
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { lines, output } from '../print.js'
import { HansaError } from '@hansa/protocol'

const manifestVersionOf = (text: string) => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) {
    throw new HansaError('HANSA_USAGE', '--manifest-version must be a whole number ≥ 1')
  }
  return n
}

export default async function run(opts: {
  node?: string
  key?: string
  dataDir?: string
  manifestVersion?: string
  json?: boolean
}): Promise<void> {
  const guardian = loadGuardian(opts)
  const result = await anchorSign({
    nodeUrl: nodeUrlOf(opts, guardian),
    guardian,
    ...(opts.manifestVersion === undefined
      ? {}
      : { version: manifestVersionOf(opts.manifestVersion) }),
  })
  output(opts.json, result, (r) =>
    lines([
      `Signed the registry update of version ${r.version} (${r.hash.slice(0, 16)}…).`,
      ...registryLines(r),
    ]),
  )
}
