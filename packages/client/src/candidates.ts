// Which discovered nodes a client keeps, and why it drops the others: the pure rules behind
// verify-node.ts (which gathers the evidence over the network). Seed 004: "client ... finds
// them and verifies if they are trusted using the smart contract" — here the registry is the
// verified manifest head.
//
// A candidate is what a source claims: a URL, and (from the manifest or a signed ENR) the key
// that should answer there and the services it should run. The evidence is what the node
// itself showed: signed terms, and a proof of its key for a fresh challenge. The rules, in the
// order the first broken one is reported:
//   1. an ENR naming another federation is not ours              (before any request)
//   2. the node must answer                                      unreachable: …
//   3. its terms must verify (signed by the key they name)       terms: …
//   4. that key must be the one the source named                 claims …, terms signed by …
//   5. it must prove the key for our challenge at this URL       key proof: …
//   6. a node the user added by hand is kept as `custom` when the manifest does not list it
//      (if it does, it is simply a member)
//   7. the key must be in the head, under a coordinator          not in manifest version N
//   8. every service it claims must be listed for it there       claims X, not listed …
//   9. its coordinator must be enabled in the user's trust list  `disabled`, not rejected
import type { Manifest, ManifestCoordinator, Terms } from '@hansa/protocol'
import { type TrustList, coordinatorEnabled } from './trust.js'

export type CandidateSource = 'invite' | 'manifest' | 'discv5' | 'custom'

export type Candidate = {
  /** ws:// or wss:// URL, without a trailing slash. */
  url: string
  /** The key a source says answers at this URL (null: only the URL is known). */
  pubkey: string | null
  /** Services a source says it runs (null: not said). */
  services: string[] | null
  /** The federation its ENR announces (undefined: not from an ENR; null: standalone). */
  federationId?: string | null
  sources: CandidateSource[]
  /** The signed ENR it came from, if any. */
  enr?: string
}

export type Evidence =
  | { reachable: false; error: string }
  | {
      reachable: true
      terms: { ok: true; terms: Terms } | { ok: false; reason: string }
      /** null: not asked (the terms already failed). */
      proof: { ok: true } | { ok: false; reason: string } | null
      /** Round trip of the quickest request, milliseconds. */
      rttMs: number
    }

export type NodeStatus = 'trusted' | 'custom' | 'disabled' | 'rejected'

export type Verdict = {
  status: NodeStatus
  /** Why it is not trusted (null when it is). */
  reason: string | null
  /** The key the node proved or claimed (null when nothing was learnt). */
  pubkey: string | null
  coordinator: { pubkey: string; alias: string } | null
  /** Services it may be chosen for. */
  services: string[]
}

export type JudgeContext = {
  federationId: string
  manifest: Manifest
  trust: TrustList
}

const short = (key: string) => `${key.slice(0, 12)}…`

/** The coordinator and node entry that list `pubkey` in the manifest. */
export function manifestEntryOf(
  manifest: Manifest,
  pubkey: string,
): { coordinator: ManifestCoordinator; services: string[]; urls: string[] } | null {
  for (const coordinator of manifest.coordinators) {
    const node = coordinator.nodes.find((n) => n.pubkey === pubkey)
    if (node) {
      // A service counts only while the federation runs it.
      const services = node.services.filter((s) => manifest.services[s] !== undefined)
      return { coordinator, services, urls: node.urls }
    }
  }
  return null
}

/** Rule 1, checkable before any request. Null when the candidate may be probed. */
export function precheck(candidate: Candidate, context: JudgeContext): Verdict | null {
  if (candidate.federationId !== undefined && candidate.federationId !== context.federationId) {
    return rejected(
      candidate.pubkey,
      candidate.federationId === null
        ? 'its ENR announces no federation (a standalone node)'
        : `its ENR announces federation ${short(candidate.federationId)}, not ${short(context.federationId)}`,
    )
  }
  return null
}

const rejected = (pubkey: string | null, reason: string): Verdict => ({
  status: 'rejected',
  reason,
  pubkey,
  coordinator: null,
  services: [],
})

/** The verdict on a candidate, given what it showed. */
export function judge(candidate: Candidate, evidence: Evidence, context: JudgeContext): Verdict {
  const early = precheck(candidate, context)
  if (early) return early
  if (!evidence.reachable) return rejected(candidate.pubkey, `unreachable: ${evidence.error}`)
  if (!evidence.terms.ok) return rejected(candidate.pubkey, `terms: ${evidence.terms.reason}`)
  const terms = evidence.terms.terms
  const key = terms.node
  if (candidate.pubkey !== null && candidate.pubkey !== key) {
    const by = candidate.sources.includes('discv5') ? 'its ENR' : 'the manifest'
    return rejected(
      candidate.pubkey,
      `${by} names key ${short(candidate.pubkey)}, but its terms are signed by ${short(key)}`,
    )
  }
  if (evidence.proof === null || !evidence.proof.ok) {
    return rejected(
      key,
      `key proof failed: ${evidence.proof === null ? 'not asked' : evidence.proof.reason}`,
    )
  }
  const offered = Object.keys(terms.services)
  const entry = manifestEntryOf(context.manifest, key)
  if (entry === null) {
    if (candidate.sources.includes('custom')) {
      return {
        status: 'custom',
        reason: null,
        pubkey: key,
        coordinator: null,
        services: candidate.services ?? offered,
      }
    }
    return rejected(
      key,
      `key ${short(key)} is not in manifest version ${context.manifest.version}: not a member`,
    )
  }
  const unlisted = (candidate.services ?? []).filter((s) => !entry.services.includes(s))
  if (unlisted.length > 0) {
    return rejected(
      key,
      `claims ${unlisted.join(', ')}, which manifest version ${context.manifest.version} does not list for it`,
    )
  }
  const coordinator = { pubkey: entry.coordinator.pubkey, alias: entry.coordinator.alias }
  if (!coordinatorEnabled(context.trust, coordinator.pubkey)) {
    return {
      status: 'disabled',
      reason: `coordinator ${coordinator.alias} is disabled in your trust list`,
      pubkey: key,
      coordinator,
      services: entry.services,
    }
  }
  return { status: 'trusted', reason: null, pubkey: key, coordinator, services: entry.services }
}

const trimUrl = (url: string) => url.replace(/\/+$/, '')

/**
 * Merges candidates naming the same URL: sources are unioned, a key named by one source fills
 * in for another that named none, and the manifest's services win over an ENR's. Two sources
 * naming different keys for one URL stay apart, each to be judged on its own. First seen first.
 */
export function mergeCandidates(lists: readonly Candidate[][]): Candidate[] {
  const out: Candidate[] = []
  for (const c of lists.flat()) {
    const url = trimUrl(c.url)
    const same = out.find(
      (o) => o.url === url && (o.pubkey === null || c.pubkey === null || o.pubkey === c.pubkey),
    )
    if (same === undefined) {
      out.push({ ...c, url, sources: [...c.sources] })
      continue
    }
    same.pubkey ??= c.pubkey
    if (c.services !== null && (same.services === null || c.sources.includes('manifest'))) {
      same.services = c.services
    }
    if (same.federationId === undefined && c.federationId !== undefined) {
      same.federationId = c.federationId
    }
    if (same.enr === undefined && c.enr !== undefined) same.enr = c.enr
    same.sources = [...new Set([...same.sources, ...c.sources])]
  }
  return out
}
