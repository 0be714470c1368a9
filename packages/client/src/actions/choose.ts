// choose(client, { service, policy }): the node to use for a service, and the rest of the
// ranking as the failover order (policy.ts: random by default; cheapest, fastest, devfund; the
// user's own nodes first when her trust list prefers them; nodes that failed lately last).
// Verifies the nodes first when this run has not.
import type { HansaClient } from '../client.js'
import { NoNodeError } from '../errors.js'
import { DEFAULT_USAGE, type NodeReport, type Policy, type Usage, rankNodes } from '../policy.js'
import { downSet } from '../reports.js'
import { listNodes } from './list-nodes.js'

export type ChooseParams = {
  service: string
  /** Default random. */
  policy?: Policy
  /** cheapest: the month of use to price (default DEFAULT_USAGE). */
  usage?: Usage
  /** cheapest: the unit to compare in (default msat). */
  unit?: string
}

export type ChooseResult = { node: NodeReport; ranked: NodeReport[]; policy: Policy }

export async function choose(client: HansaClient, params: ChooseParams): Promise<ChooseResult> {
  if (client.runtime.reports.length === 0) await listNodes(client)
  const policy = params.policy ?? 'random'
  const ranked = rankNodes(client.runtime.reports, {
    service: params.service,
    policy,
    random: client.env.random,
    preferCustom: client.store.load().trust.preferCustom,
    usage: params.usage ?? DEFAULT_USAGE,
    unit: params.unit ?? 'msat',
    down: downSet(client),
  })
  const node = ranked[0]
  if (node === undefined) {
    const reports = client.runtime.reports
    throw new NoNodeError(params.service, {
      verified: reports.filter((r) => r.status === 'trusted' || r.status === 'custom').length,
      disabled: reports.filter((r) => r.status === 'disabled').length,
      rejected: reports.filter((r) => r.status === 'rejected').length,
    })
  }
  return { node, ranked, policy }
}
