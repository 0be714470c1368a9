// listNodes(client): the whole check — optionally a fresh manifest head, then every candidate
// from every source (discover), each verified (verify-node, several at once) — and the
// resulting reports: trusted, custom, disabled (by the user's trust list) and rejected, each
// with its reason. What `hansa nodes` shows; what choose() picks from.
import { HansaError } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import type { NodeReport } from '../policy.js'
import { type RegistryReport, checkRegistry } from '../registry-check.js'
import { finishReports, mapLimit } from '../reports.js'
import { type Discv5Summary, discover } from './discover.js'
import { refresh } from './refresh.js'
import { verifyNode } from './verify-node.js'

export type ListNodesParams = {
  /** Ask the nodes for a newer manifest head first (default false). */
  refresh?: boolean
  /** Run the Discovery v5 crawl (default: the client's discv5.enabled). */
  discv5?: boolean
}

export type ListNodesResult = {
  federation: { id: string; name: string | null; version: number }
  nodes: NodeReport[]
  counts: { trusted: number; custom: number; disabled: number; rejected: number }
  discv5: Discv5Summary
  /** The on-chain registry's view (when the client checks one and a node names it). */
  registry: RegistryReport | null
  /** Why the registry could not be read (a wallet on another chain, the chain away), if so. */
  registryError: string | null
  durationMs: number
}

export async function listNodes(
  client: HansaClient,
  params: ListNodesParams = {},
): Promise<ListNodesResult> {
  const started = client.env.clock()
  if (params.refresh) await refresh(client)
  const { candidates, discv5 } = await discover(
    client,
    params.discv5 === undefined ? {} : { discv5: params.discv5 },
  )
  client.runtime.checked.clear()
  const reports = await mapLimit(candidates, client.env.concurrency, (c) => verifyNode(client, c))
  const state = client.store.load()
  const finished = finishReports(reports)
  let registryError: string | null = null
  const registry =
    client.env.registry && state.federation?.head
      ? await checkRegistry(
          client.env.registry,
          state.federation.id,
          { version: state.federation.head.version, hash: state.federation.head.hash },
          finished,
        ).catch((error: Error) => {
          if (client.env.registry?.required) throw error
          registryError = error instanceof HansaError ? error.shortMessage : error.message
          return null
        })
      : null
  const nodes = registry && client.env.registry?.required ? finishReports(finished) : finished
  client.runtime.reports = nodes
  const count = (s: NodeReport['status']) => nodes.filter((n) => n.status === s).length
  return {
    federation: {
      id: state.federation!.id,
      name: state.federation!.name,
      version: state.federation!.head!.version,
    },
    nodes,
    counts: {
      trusted: count('trusted'),
      custom: count('custom'),
      disabled: count('disabled'),
      rejected: count('rejected'),
    },
    discv5,
    registry,
    registryError,
    durationMs: Math.round(client.env.clock() - started),
  }
}
