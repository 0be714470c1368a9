// `hansa federation draft`: check everything, then post the genesis draft to the nodes for the
// guardians to review and sign (`hansa federation sign`).
import { writeFileSync } from 'node:fs'
import { HansaError } from '@hansa/protocol'
import { draftFederation } from '../federation/draft.js'
import { loadGuardian } from '../federation/guardian.js'
import { lines, output } from '../print.js'

export type DraftFlags = {
  name: string
  threshold: string
  guardian?: string[]
  guardians?: string
  coordinator?: string[]
  node?: string[]
  service?: string[]
  devFund?: string
  devFundRate?: string
  validDays?: string
  key?: string
  dataDir?: string
  out?: string
  checkOnly?: boolean
  json?: boolean
  setupToken?: string[]
}

/** URL=TOKEN pairs: the token is after the last "=" (a node URL has none). */
function setupTokens(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.lastIndexOf('=')
    if (at <= 0) {
      throw new HansaError('HANSA_USAGE', `--setup-token takes URL=TOKEN, not "${pair}"`)
    }
    out[pair.slice(0, at).replace(/\/+$/, '')] = pair.slice(at + 1)
  }
  return out
}

export default async function run(opts: DraftFlags): Promise<void> {
  const guardian = loadGuardian({
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
  })
  const result = await draftFederation({
    name: opts.name,
    threshold: Number(opts.threshold),
    guardians: opts.guardian ?? [],
    ...(opts.guardians === undefined ? {} : { expectGuardians: Number(opts.guardians) }),
    coordinators: opts.coordinator ?? [],
    nodes: opts.node ?? [],
    ...(opts.service === undefined ? {} : { services: opts.service }),
    ...(opts.devFund === undefined ? {} : { devFund: opts.devFund }),
    ...(opts.devFundRate === undefined ? {} : { devFundRate: Number(opts.devFundRate) }),
    ...(opts.validDays === undefined ? {} : { validDays: Number(opts.validDays) }),
    guardian,
    setupTokens: setupTokens(opts.setupToken ?? []),
    checkOnly: opts.checkOnly ?? false,
    now: Math.floor(Date.now() / 1000),
  })
  if (result.manifest !== null && opts.out !== undefined) {
    writeFileSync(opts.out, `${JSON.stringify(result.manifest, null, 2)}\n`)
  }
  output(opts.json, result, (r) => {
    const out: string[] = []
    if (!r.ok) {
      out.push(
        `The draft is refused: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} to fix before anyone signs.`,
      )
      for (const p of r.problems) out.push(`  ✗ [${p.rule}] ${p.message}`)
    }
    for (const w of r.warnings) out.push(`  ! ${w}`)
    if (r.ok) {
      out.push(...r.summary, '')
      out.push(`Draft ${r.hash} (this will be the federation id).`)
      if (opts.checkOnly) out.push('All checks passed (--check-only: nothing was posted).')
      for (const p of r.posted) out.push(p.ok ? `  posted to ${p.url}` : `  ✗ ${p.url}: ${p.error}`)
      if (!opts.checkOnly) {
        out.push(
          '',
          'Each guardian now reviews and signs it on their node: hansa federation sign [--node URL]',
        )
      }
    }
    return lines(out)
  })
  if (!result.ok) {
    process.exitCode = 1
    if (opts.json) return
    throw new HansaError(
      'HANSA_DRAFT_REFUSED',
      'nothing was posted; fix the problems above and run the draft again',
    )
  }
}
