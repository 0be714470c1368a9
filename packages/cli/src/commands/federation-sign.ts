// `hansa federation sign`: show what a pending proposal (or the genesis draft) would make of the
// federation, ask, sign with the guardian's key, and post the signature to the nodes.
import { createInterface } from 'node:readline/promises'
import { HansaError } from '@hansa/protocol'
import { loadGuardian, nodeUrlOf } from '../federation/guardian.js'
import { signProposal } from '../federation/governance.js'
import { lines, output } from '../print.js'
import { registryLines } from '../federation/registry-sign.js'

export type SignFlags = {
  node?: string
  key?: string
  dataDir?: string
  proposal?: string
  yes?: boolean
  json?: boolean
}

async function ask(summary: string[]): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new HansaError(
      'HANSA_USAGE',
      'stdin is not a terminal: read the proposal with `hansa federation proposals`, then sign with --yes',
    )
  }
  process.stdout.write(lines(summary))
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  const answer = await rl.question('Sign this with your guardian key? [y/N] ')
  rl.close()
  return /^y(es)?$/i.test(answer.trim())
}

export default async function run(opts: SignFlags): Promise<void> {
  const guardian = loadGuardian(opts)
  const result = await signProposal({
    nodeUrl: nodeUrlOf(opts, guardian),
    guardian,
    ...(opts.proposal === undefined ? {} : { proposal: opts.proposal }),
    ...(opts.yes ? {} : { confirm: ask }),
  })
  output(opts.json, result, (r) => {
    const out = opts.yes ? [...r.summary] : []
    if (r.alreadySigned) out.push('You have already signed this proposal.')
    else if (!r.signed) out.push('Not signed.')
    else {
      out.push(
        `Signed ${r.genesis ? 'the genesis draft' : `version ${r.version}`} ${r.hash.slice(0, 16)}….`,
      )
      for (const p of r.posted) {
        out.push(
          p.ok ? `  sent to ${p.url}${p.adopted ? ' — adopted' : ''}` : `  ✗ ${p.url}: ${p.error}`,
        )
      }
    }
    out.push(...registryLines(r.registry))
    if (r.adopted) {
      out.push(
        '',
        r.genesis
          ? `The threshold is met: the federation is sealed. Federation id ${r.federationId}`
          : `The threshold is met: version ${r.version} is adopted and spreads to every node.`,
        'Invite code:',
        '',
        `  ${r.inviteCode}`,
      )
    } else if (r.signed) {
      out.push('Waiting for more guardians to sign.')
    }
    return lines(out)
  })
}
