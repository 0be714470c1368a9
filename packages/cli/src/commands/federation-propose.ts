// `hansa federation propose`: draft the next manifest version from the node's head, sign it as
// the proposing guardian, and post it to the federation's nodes for the others to sign.
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { type ProposeEdits, proposeChange } from '../federation/governance.js'
import { lines, output } from '../print.js'
import { registryLines } from '../federation/registry-sign.js'

export type ProposeFlags = Omit<ProposeEdits, 'threshold'> & {
  node?: string
  key?: string
  dataDir?: string
  validDays?: string
  threshold?: string
  json?: boolean
}

export default async function run(opts: ProposeFlags): Promise<void> {
  const guardian = loadGuardian(opts)
  const edits: ProposeEdits = {}
  for (const field of [
    'name',
    'addCoordinator',
    'removeCoordinator',
    'addNode',
    'removeNode',
    'nodeServices',
    'setService',
    'removeService',
    'addGuardian',
    'removeGuardian',
    'devFund',
    'renew',
  ] as const) {
    if (opts[field] !== undefined) (edits as Record<string, unknown>)[field] = opts[field]
  }
  if (opts.threshold !== undefined) edits.threshold = Number(opts.threshold)
  const result = await proposeChange({
    nodeUrl: nodeUrlOf(opts, guardian),
    guardian,
    edits,
    ...(opts.validDays === undefined ? {} : { validDays: Number(opts.validDays) }),
    now: Math.floor(Date.now() / 1000),
  })
  output(opts.json, result, (r) =>
    lines([
      `Proposed version ${r.version} (${r.hash.slice(0, 16)}…), signed by you:`,
      ...r.changes,
      ...r.posted.map((p) => (p.ok ? `  sent to ${p.url}` : `  ✗ ${p.url}: ${p.error}`)),
      ...registryLines(r.registry),
      r.adopted
        ? `Adopted: your signature met the threshold; version ${r.version} spreads to every node.`
        : `${r.status}. Other guardians sign with: hansa federation sign --proposal ${r.hash.slice(0, 16)}`,
    ]),
  )
}
