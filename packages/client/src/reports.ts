// Shared by the actions: the judging context (joined federation, verified head, trust list),
// node reports rebuilt from the evidence gathered (so a new manifest or a trust-list edit
// re-judges every node without asking any again), and the short memory of failed nodes.
import type { HansaClient } from './client.js'
import { type Candidate, type Evidence, type JudgeContext, judge } from './candidates.js'
import { NotJoinedError } from './errors.js'
import type { NodeReport } from './policy.js'

export function judgeContext(client: HansaClient): JudgeContext {
  const state = client.store.load()
  const head = state.federation?.head
  if (!state.federation || !head) throw new NotJoinedError()
  return { federationId: state.federation.id, manifest: head.signed.manifest, trust: state.trust }
}

export const checkKey = (candidate: Candidate) => `${candidate.url} ${candidate.pubkey ?? ''}`

export function reportOf(
  candidate: Candidate,
  evidence: Evidence,
  checkedAt: number,
  context: JudgeContext,
): NodeReport {
  const verdict = judge(candidate, evidence, context)
  return {
    url: candidate.url,
    pubkey: verdict.pubkey,
    sources: candidate.sources,
    status: verdict.status,
    reason: verdict.reason,
    coordinator: verdict.coordinator,
    services: verdict.services,
    terms: evidence.reachable && evidence.terms.ok ? evidence.terms.terms : null,
    rttMs: evidence.reachable ? Math.round(evidence.rttMs * 10) / 10 : null,
    checkedAt,
  }
}

const ORDER = { trusted: 0, custom: 1, disabled: 2, rejected: 3 } as const

/**
 * One report per node key among those kept (a node reached at two URLs is kept at the one the
 * manifest lists, else the quickest); sorted for people: trusted, custom, disabled, rejected,
 * then by coordinator and URL.
 */
export function finishReports(reports: NodeReport[]): NodeReport[] {
  const kept = new Map<string, NodeReport>()
  const rank = (r: NodeReport) => [r.sources.includes('manifest') ? 0 : 1, r.rttMs ?? Infinity]
  const better = (a: NodeReport, b: NodeReport) => {
    const [x, y] = [rank(a), rank(b)]
    return x[0]! - y[0]! || x[1]! - y[1]!
  }
  const out = reports.map((r) => ({ ...r }))
  for (const r of out) {
    if (r.status === 'rejected' || r.pubkey === null) continue
    const other = kept.get(r.pubkey)
    if (other === undefined) {
      kept.set(r.pubkey, r)
      continue
    }
    const [winner, loser] = better(r, other) < 0 ? [r, other] : [other, r]
    kept.set(r.pubkey, winner)
    loser.status = 'rejected'
    loser.reason = `another URL of node ${winner.pubkey!.slice(0, 12)}…, kept at ${winner.url}`
    loser.services = []
  }
  return out.sort(
    (a, b) =>
      ORDER[a.status] - ORDER[b.status] ||
      (a.coordinator?.alias ?? '').localeCompare(b.coordinator?.alias ?? '') ||
      a.url.localeCompare(b.url),
  )
}

/** Re-judges everything checked in this run against the current head and trust list. */
export function rebuildReports(client: HansaClient): NodeReport[] {
  const context = judgeContext(client)
  const reports = [...client.runtime.checked.values()].map((c) =>
    reportOf(c.candidate, c.evidence, c.checkedAt, context),
  )
  client.runtime.reports = finishReports(reports)
  return client.runtime.reports
}

/** URLs that failed lately (they rank last until `downSeconds` have passed). */
export function downSet(client: HansaClient): Set<string> {
  const now = client.env.now()
  const out = new Set<string>()
  for (const [url, until] of client.runtime.down) {
    if (until > now) out.add(url)
    else client.runtime.down.delete(url)
  }
  return out
}

export function markDown(client: HansaClient, url: string): void {
  client.runtime.down.set(url, client.env.now() + client.env.downSeconds)
}

export function markUp(client: HansaClient, url: string): void {
  client.runtime.down.delete(url)
}

/** Runs `fn` over `items`, at most `limit` at once, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}
