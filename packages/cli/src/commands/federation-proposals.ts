// `hansa federation proposals`: the pending proposals on a node, each with its changes from the
// head and where its signatures stand.
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { listProposals } from '../federation/governance.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  dataDir?: string
  json?: boolean
}): Promise<void> {
  const guardian = opts.node === undefined ? loadGuardianQuietly(opts) : undefined
  const result = await listProposals(nodeUrlOf(opts, guardian))
  output(opts.json, result, (r) => {
    if (r.proposals.length === 0) {
      return lines([`No pending proposal (head: version ${r.version ?? 'none'}).`])
    }
    const out: string[] = []
    for (const p of r.proposals) {
      out.push(
        `${p.hash} — version ${p.version}${p.proposer ? ` proposed by ${p.proposer.slice(0, 12)}…` : ''}`,
        ...p.diff,
        `  ${p.status}`,
        '',
      )
    }
    return lines(out)
  })
}

function loadGuardianQuietly(opts: { dataDir?: string }) {
  try {
    return loadGuardian(opts)
  } catch {
    return undefined
  }
}
