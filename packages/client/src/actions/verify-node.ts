// verifyNode(client, candidate): gathers the evidence on one candidate — its signed terms
// (GET /terms) and a proof of its key for a fresh challenge (GET /proof, NIP-42 with the roles
// reversed) — and judges it (candidates.ts: member of the head for what it claims, terms
// signed by that key, the proof, the user's trust list). The round trip of its quickest
// request is kept for the `fastest` policy. Never throws for a bad node: the report says why.
import { verifySignedTerms } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import { type Candidate, type Evidence, precheck } from '../candidates.js'
import { getJson, proveNodeKey } from '../discovery-api.js'
import { httpUrlOf } from '../federation-api.js'
import type { NodeReport } from '../policy.js'
import { checkKey, judgeContext, reportOf } from '../reports.js'

async function gather(client: HansaClient, candidate: Candidate): Promise<Evidence> {
  const env = {
    fetch: client.env.fetch,
    timeoutMs: client.env.requestMs,
    randomBytes: client.env.randomBytes,
    now: client.env.now,
  }
  const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const t0 = client.env.clock()
    const value = await work()
    return { value, ms: client.env.clock() - t0 }
  }
  const t0 = client.env.clock()
  const termsRequest = timed(() => getJson(`${httpUrlOf(candidate.url)}/terms`, env))
  // With the key known in advance, ask for the proof at the same time.
  const early =
    candidate.pubkey === null
      ? null
      : timed(() => proveNodeKey(candidate.url, candidate.pubkey!, env))
  let terms: { value: unknown; ms: number }
  try {
    terms = await termsRequest
  } catch (error) {
    await early?.catch(() => {})
    const reason = (error as Error).message
    // An HTTP answer means the node is there but is no Hansa node (or has no terms).
    if (reason.startsWith('HTTP ')) {
      return {
        reachable: true,
        terms: { ok: false, reason: `GET /terms answered ${reason}` },
        proof: null,
        rttMs: client.env.clock() - t0,
      }
    }
    return { reachable: false, error: reason }
  }
  const checked = verifySignedTerms(terms.value)
  if (!checked.ok) {
    await early?.catch(() => {})
    return {
      reachable: true,
      terms: { ok: false, reason: checked.error.message },
      proof: null,
      rttMs: terms.ms,
    }
  }
  const key = checked.terms.node
  const proof =
    early !== null && candidate.pubkey === key
      ? await early
      : await timed(() => proveNodeKey(candidate.url, key, env))
  return {
    reachable: true,
    terms: { ok: true, terms: checked.terms },
    proof: proof.value,
    rttMs: Math.min(terms.ms, proof.ms),
  }
}

export async function verifyNode(client: HansaClient, candidate: Candidate): Promise<NodeReport> {
  const context = judgeContext(client)
  const checkedAt = client.env.now()
  const early = precheck(candidate, context)
  const evidence: Evidence = early
    ? { reachable: false, error: early.reason ?? 'refused' }
    : await gather(client, candidate)
  if (!early) client.runtime.checked.set(checkKey(candidate), { candidate, evidence, checkedAt })
  return reportOf(candidate, evidence, checkedAt, context)
}
