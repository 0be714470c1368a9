// updateTrust(client, edit): applies an edit to the user's trust list (trust.ts's pure
// functions: enable or disable a coordinator, add or remove a node of her own), saves it, and
// re-judges the nodes this run has checked, so the next choice follows it at once. A node
// added by hand is verified at the next listNodes().
import type { HansaClient } from '../client.js'
import { rebuildReports } from '../reports.js'
import type { TrustList } from '../trust.js'

export type TrustEdit = (list: TrustList) => TrustList

export function updateTrust(client: HansaClient, edit: TrustEdit): TrustList {
  const state = client.store.load()
  const trust = edit(state.trust)
  client.store.save({ ...state, trust })
  if (client.runtime.checked.size > 0 && state.federation?.head) rebuildReports(client)
  return trust
}
