// What a guardian reads before signing: a manifest in plain lines, the changes from the head,
// and the invite code of a sealed federation.
import {
  INVITE_CODE_MAX_LENGTH,
  type Manifest,
  canonicalJson,
  diffManifests,
  encodeInviteCode,
} from '@hansa/protocol'

const date = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z')
const short = (hex: string) => `${hex.slice(0, 12)}…`

/** The whole manifest, for a genesis draft or `federation show`. */
export function manifestLines(m: Manifest): string[] {
  const lines = [
    `Federation "${m.name}", manifest version ${m.version}`,
    `  valid ${date(m.issuedAt)} until ${date(m.expiresAt)}`,
    `  guardians (${m.threshold} of ${m.guardians.length} must sign every change):`,
    ...m.guardians.map((g) => `    ${g.name.padEnd(12)} ${g.pubkey}`),
    `  services: ${Object.entries(m.services)
      .map(([name, params]) => `${name} ${canonicalJson(params)}`)
      .join('; ')}`,
    `  coordinators (${m.coordinators.length}):`,
  ]
  for (const c of m.coordinators) {
    lines.push(`    ${c.alias} ${c.pubkey}`)
    for (const n of c.nodes) {
      lines.push(`      node ${short(n.pubkey)} ${n.urls.join(' ')} [${n.services.join(', ')}]`)
    }
  }
  lines.push(`  dev fund: ${m.devFund.recipient}, suggested rate ${m.devFund.suggestedRate}`)
  return lines
}

/** The changes from `head` to `next`, one line each. */
export function changeLines(head: Manifest, next: Manifest): string[] {
  const changes = diffManifests(head, next)
    .filter((c) => c.kind !== 'validity')
    .map((c) => `  ${c.summary}`)
  changes.push(`  valid until ${date(next.expiresAt)}`)
  return changes
}

/**
 * The invite code for a federation: its id and the first URL of each node of the manifest,
 * as many as fit in one code.
 */
export function inviteCodeFor(
  federationId: string,
  manifest: Manifest,
  fallbackUrl?: string,
): string {
  const urls = manifest.coordinators.flatMap((c) => c.nodes.map((n) => n.urls[0]!))
  if (urls.length === 0 && fallbackUrl !== undefined) urls.push(fallbackUrl)
  let code = ''
  for (let n = Math.max(1, urls.length); n >= 1; n--) {
    try {
      code = encodeInviteCode({ federationId, urls: urls.slice(0, n) })
      if (code.length <= INVITE_CODE_MAX_LENGTH) return code
    } catch {
      // too long: try with fewer URLs
    }
  }
  return code
}
