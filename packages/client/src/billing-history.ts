// GET /billing/history: the coordinator's books over time, as the node sampled them (its
// node key or an admin key signs, NIP-98). Values are decimal strings of base units, except
// counts; `balance:<peer>` series are SWAP balances of the peers that mattered most.
import type { BillingHistory, BillingHistoryPoint } from '@hansa/protocol'
import { type NodeRequestOptions, type SecretKeyOrSigner, callNode } from './node-request.js'

export type { BillingHistory, BillingHistoryPoint }

export function getBillingHistory(
  nodeUrl: string,
  secretKey: SecretKeyOrSigner,
  options: NodeRequestOptions & { since?: number } = {},
): Promise<BillingHistory> {
  const query = options.since === undefined ? '' : `?since=${Math.floor(options.since)}`
  return callNode(nodeUrl, `/billing/history${query}`, { secretKey }, options)
}
