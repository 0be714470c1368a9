// Who replicates what with whom, read from the adopted manifest alone (nothing is configured by
// hand): for each service this node runs that declares a `replication` filter, the other
// member nodes the manifest lists with that service. Pure functions of the manifest.
import type { Filter, Manifest, NostrEvent } from '@hansa/protocol'
import { matchFilters } from '@hansa/protocol'

/** NIP-09 deletion requests. */
export const DELETION_KIND = 5

/** A service as replication sees it: its name and the events it shares. */
export type SharedService = { name: string; filters: readonly Filter[] }

export type Peer = {
  pubkey: string
  /** The first URL the manifest lists for the node. */
  url: string
  coordinator: string
  /** Services both nodes run that are replicated between them. */
  services: string[]
}

/**
 * The filters reconciled for a service: its own, plus every deletion (kind 5), so a deletion
 * reaches every member that holds what it deletes. Not only those naming a shared kind in a
 * `k` tag: NIP-09 makes the tag a SHOULD, and a deletion without it cannot be told apart by a
 * filter — yet it must reach the members. Deletions are small and delete only their own
 * author's events (the store's rule), so sharing every one costs little and opens nothing.
 * Expirations (NIP-40) need nothing: the tag travels with the event and every node prunes by it.
 */
export function sharedFilters(service: SharedService): Filter[] {
  const deletions: Filter[] = service.filters.length > 0 ? [{ kinds: [DELETION_KIND] }] : []
  return [...service.filters.map((f) => ({ ...f })), ...deletions]
}

/** The filters reconciled with a peer: those of the services both run, each once. */
export function peerFilters(peer: Peer, services: readonly SharedService[]): Filter[] {
  const seen = new Map<string, Filter>()
  for (const name of peer.services) {
    const service = services.find((s) => s.name === name)
    if (!service) continue
    for (const f of sharedFilters(service)) seen.set(JSON.stringify(f), f)
  }
  return [...seen.values()]
}

/** Does a service share this event (one of its filters, or a deletion naming its kinds)? */
export const sharesEvent = (service: SharedService, event: NostrEvent): boolean =>
  matchFilters(sharedFilters(service), event)

/** The peers of this node, by pubkey: member nodes that run a shared service with it. */
export function replicationPeers(
  manifest: Manifest | null,
  self: string,
  services: readonly SharedService[],
): Map<string, Peer> {
  const peers = new Map<string, Peer>()
  if (!manifest) return peers
  const mine = manifest.coordinators.flatMap((c) => c.nodes).find((n) => n.pubkey === self)
  if (!mine) return peers
  const shared = services.filter(
    (s) => s.filters.length > 0 && mine.services.includes(s.name) && manifest.services[s.name],
  )
  for (const c of manifest.coordinators) {
    for (const n of c.nodes) {
      if (n.pubkey === self || n.urls.length === 0) continue
      const both = shared.filter((s) => n.services.includes(s.name)).map((s) => s.name)
      if (both.length === 0) continue
      peers.set(n.pubkey, {
        pubkey: n.pubkey,
        url: n.urls[0]!,
        coordinator: c.alias,
        services: both,
      })
    }
  }
  return peers
}

/** Node keys the manifest lists with at least one service: the federation's member nodes. */
export function memberNodeKeys(manifest: Manifest | null): Set<string> {
  const keys = new Set<string>()
  for (const c of manifest?.coordinators ?? []) {
    for (const n of c.nodes) if (n.services.length > 0) keys.add(n.pubkey)
  }
  return keys
}
