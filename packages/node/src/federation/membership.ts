// Membership: what the manifest head says about this node — its entry and coordinator, its
// status (standalone, member, not-member), the sentence that explains it, and the services it
// may run (the federation's consensus on modules). Pure functions of the head.
import type { Manifest, ManifestCoordinator, ManifestNode } from '@hansa/protocol'

export type FederationStatusName = 'standalone' | 'member' | 'not-member'

/** Who this node is, and what joining told it. */
export type Self = {
  nodePubkey: string
  /** Services the node's configuration turns on. */
  configuredServices: readonly string[]
  /** The federation id an invite code pins, if any, and where to fetch its chain. */
  pinnedId: string | null
  inviteUrls: readonly string[]
}

/** The head as membership reads it: null while standalone. */
export type HeadView = {
  manifest: Manifest
  federationId: string
  expired: boolean
} | null

/** This node's entry in the head and its coordinator, or null. */
export function entryOf(
  manifest: Manifest | null,
  nodePubkey: string,
): { coordinator: ManifestCoordinator; node: ManifestNode } | null {
  for (const coordinator of manifest?.coordinators ?? []) {
    const node = coordinator.nodes.find((n) => n.pubkey === nodePubkey)
    if (node) return { coordinator, node }
  }
  return null
}

export function statusOf(head: HeadView, self: Self): FederationStatusName {
  if (head === null) return 'standalone'
  return entryOf(head.manifest, self.nodePubkey) === null ? 'not-member' : 'member'
}

/** A sentence for people: what the node is and why. */
export function statusMessageOf(head: HeadView, self: Self): string {
  const id = head?.federationId ?? null
  const version = head?.manifest.version ?? null
  switch (statusOf(head, self)) {
    case 'standalone':
      if (self.pinnedId === null) {
        return 'This node belongs to no federation; it runs standalone with the services its configuration turns on.'
      }
      return self.inviteUrls.length === 0
        ? `This node awaits the sealed genesis ${self.pinnedId.slice(0, 12)}… its coordinator authorised.`
        : `This node is joining federation ${self.pinnedId.slice(0, 12)}… and has not fetched its manifest chain yet (from ${self.inviteUrls.join(', ')}).`
    case 'not-member':
      return `This node's key ${self.nodePubkey.slice(0, 12)}… is not in manifest version ${version} of federation ${id?.slice(0, 12)}…: it is not a member and serves no federation service.`
    case 'member': {
      const entry = entryOf(head!.manifest, self.nodePubkey)!
      const expired = head!.expired
        ? ' The head has expired: ask the guardians to sign a new version.'
        : ''
      return `Member of federation ${id?.slice(0, 12)}… at manifest version ${version}, run by coordinator ${entry.coordinator.alias}.${expired}`
    }
  }
}

/**
 * The services this node runs: all configured ones while standalone; as a member, those its
 * configuration, its manifest entry and the federation's `services` all list; none otherwise.
 */
export function activeServicesOf(head: HeadView, self: Self): string[] {
  const configured = self.configuredServices
  switch (statusOf(head, self)) {
    case 'standalone':
      return [...configured]
    case 'not-member':
      return []
    case 'member': {
      const manifest = head!.manifest
      const listed = new Set(entryOf(manifest, self.nodePubkey)!.node.services)
      return configured.filter((s) => listed.has(s) && manifest.services[s] !== undefined)
    }
  }
}
