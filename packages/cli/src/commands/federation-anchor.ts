// `hansa federation anchor`: the manifest versions the on-chain FederationRegistry lacks,
// signed by the guardians whose folders are given and sent by --key (who pays the gas).
import { readKeyFile } from '@hansa/node'
import { rpcUrlOf, userKey } from '../billing/billing.js'
import { anchorFromNode } from '../federation/anchor.js'
import { loadGuardian } from '../federation/guardian.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  rpcUrl?: string
  registry?: string
  guardian?: string[]
  key?: string
  json?: boolean
}): Promise<void> {
  const result = await anchorFromNode({
    node: opts.node ?? 'ws://127.0.0.1:7447',
    rpcUrl: rpcUrlOf(opts.rpcUrl),
    ...(opts.registry ? { registry: opts.registry } : {}),
    guardianKeys: (opts.guardian ?? []).map((dir) => loadGuardian({ dataDir: dir }).key.secretKey),
    payerKey: opts.key ? readKeyFile(opts.key).secretKey : userKey({}),
  })
  output(opts.json, result, (r) =>
    lines([
      `Registry ${r.registry}: federation ${r.federationId.slice(0, 16)}… was anchored at version ${r.before}; the manifest head is version ${r.head}`,
      ...r.anchored.map(
        (a) => `  anchored version ${a.version} (${a.signers} guardian signature(s), tx ${a.tx})`,
      ),
      ...(r.anchored.length === 0 ? ['  nothing to anchor'] : []),
    ]),
  )
}
