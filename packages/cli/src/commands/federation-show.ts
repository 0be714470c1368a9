// `hansa federation show`: the federation a node follows — its head in plain lines, the node's
// membership, and the invite code.
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { showFederation } from '../federation/governance.js'
import { lines, output } from '../print.js'

export default async function run(opts: {
  node?: string
  dataDir?: string
  json?: boolean
}): Promise<void> {
  let guardian: ReturnType<typeof loadGuardian> | undefined
  if (opts.node === undefined) guardian = loadGuardian(opts)
  const result = await showFederation(nodeUrlOf(opts, guardian))
  output(opts.json, result, (r) => {
    const out = [`${r.node.url}: ${r.message}`]
    if (r.federationId !== null) {
      out.push(`Federation id ${r.federationId}${r.expired ? ' (head EXPIRED)' : ''}`, ...r.summary)
      if (r.pendingProposals > 0)
        out.push(`${r.pendingProposals} pending proposal(s): hansa federation proposals`)
      if (r.fork)
        out.push(
          `FORK reported at version ${r.fork.version}: ${r.fork.storedHash} vs ${r.fork.candidateHash} (from ${r.fork.source})`,
        )
      out.push('Invite code:', `  ${r.inviteCode}`)
    }
    return lines(out)
  })
}
