// discover(client): every candidate node, from every source, merged by URL:
//   invite    the URLs in the invite code (only a URL: the node names its key itself)
//   manifest  each node entry of the verified head: URLs, key and services
//   custom    the nodes the user added to her trust list
//   discv5    a Discovery v5 crawl started from the ENRs the federation's nodes serve (GET
//             /discovery at the invite and manifest URLs) and any bootnodes given; an ENR is
//             signed by the node key and names its federation, services and WebSocket URL, so
//             it finds nodes whose manifest URL is out of date and nodes not yet listed (which
//             verify-node.ts rejects). ENRs of other federations and non-Hansa nodes are skipped.
// Nothing is trusted yet: verify-node.ts judges each candidate.
import type { ENR } from '@chainsafe/enr'
import { decodeInviteCode, nostrPubkeyOfCompressedKey, readNodeRecord } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import { type Candidate, mergeCandidates } from '../candidates.js'
import { getDiscovery } from '../discovery-api.js'
import { lookupEnrs } from '../discv5-lookup.js'
import { judgeContext } from '../reports.js'

export type DiscoverParams = {
  /** Run the Discovery v5 crawl (default: the client's discv5.enabled). */
  discv5?: boolean
}

export type Discv5Summary = {
  enabled: boolean
  /** ENRs it started from. */
  bootnodes: number
  /** ENRs found (every one, Hansa or not). */
  found: number
  /** Of those, nodes of this federation. */
  federation: number
  /** Nodes that answered FINDNODE. */
  asked: number
  durationMs: number
}

export type DiscoverResult = { candidates: Candidate[]; discv5: Discv5Summary }

/** An ENR as a candidate of federation `federationId`, or null (another one, or not Hansa). */
export function candidateOfEnr(enr: ENR, federationId: string): Candidate | null {
  const hansa = readNodeRecord((key) => enr.kvs.get(key))
  const pubkey = nostrPubkeyOfCompressedKey(enr.publicKey)
  if (!hansa.ok || pubkey === null || hansa.record.federationId !== federationId) return null
  return {
    url: hansa.record.wsUrl.replace(/\/+$/, ''),
    pubkey,
    services: hansa.record.services,
    federationId: hansa.record.federationId,
    sources: ['discv5'],
    enr: enr.encodeTxt(),
  }
}

export async function discover(
  client: HansaClient,
  params: DiscoverParams = {},
): Promise<DiscoverResult> {
  const { federationId, manifest, trust } = judgeContext(client)
  const state = client.store.load()
  const invite: Candidate[] = decodeInviteCode(state.federation!.inviteCode).urls.map((url) => ({
    url,
    pubkey: null,
    services: null,
    sources: ['invite'],
  }))
  const listed: Candidate[] = manifest.coordinators.flatMap((c) =>
    c.nodes.flatMap((n) =>
      n.urls.map((url) => ({
        url,
        pubkey: n.pubkey,
        services: n.services,
        sources: ['manifest' as const],
      })),
    ),
  )
  const custom: Candidate[] = trust.customNodes.map((n) => ({
    url: n.url,
    pubkey: n.pubkey ?? null,
    services: null,
    sources: ['custom'],
  }))
  const enabled = params.discv5 ?? client.env.discv5.enabled
  const summary: Discv5Summary = {
    enabled,
    bootnodes: 0,
    found: 0,
    federation: 0,
    asked: 0,
    durationMs: 0,
  }
  let found: Candidate[] = []
  if (enabled) {
    const started = client.env.clock()
    const urls = [...new Set([...invite, ...listed].map((c) => c.url))]
    const env = { fetch: client.env.fetch, timeoutMs: client.env.requestMs }
    const served = await Promise.all(
      urls.map((url) =>
        getDiscovery(url, env).then(
          (info) => info.enr,
          () => null,
        ),
      ),
    )
    const bootnodes = [
      ...new Set([
        ...served.filter((e): e is string => e !== null),
        ...client.env.discv5.bootnodes,
      ]),
    ]
    summary.bootnodes = bootnodes.length
    if (bootnodes.length > 0) {
      const lookup = await lookupEnrs({
        bootnodes,
        timeoutMs: client.env.discv5.timeoutMs,
        ...(client.env.discv5.bindHost === undefined
          ? {}
          : { bindHost: client.env.discv5.bindHost }),
      })
      summary.found = lookup.enrs.length
      summary.asked = lookup.asked
      found = lookup.enrs
        .map((e) => candidateOfEnr(e, federationId))
        .filter((c): c is Candidate => c !== null)
      summary.federation = found.length
    }
    summary.durationMs = Math.round(client.env.clock() - started)
  }
  return { candidates: mergeCandidates([listed, invite, custom, found]), discv5: summary }
}
