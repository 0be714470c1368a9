// The node's side of the federation, one object over three parts: the chain follower
// (chain-follower.ts: which verified manifest chain it follows), membership (membership.ts:
// whether it is a member and which services that lets it run) and the proposal pool
// (proposal-pool.ts: the proposals guardians bring to it).
//
// States (GET /federation `status`):
// - `standalone`: no federation (the quick start). Every configured service runs. The node
//   adopts a federation only when its own coordinator asked for it (genesis-pin.ts): an invite
//   code or a chain file in its configuration, or a genesis draft or chain sent with its
//   one-time setup token or NIP-98 by the node key or a `federation.adminPubkeys` key. Anything
//   else is refused HANSA_FEDERATION_UNINVITED (403). After adopting, it never switches.
// - `member`: the head lists this node's key. It runs the services both its configuration and
//   its manifest entry list (and the federation runs): the federation's consensus on modules.
// - `not-member`: the head does not list this node's key (never did, or it was removed). The
//   node says so (log, GET /federation, NIP-11) and runs no service; it still keeps, serves and
//   spreads the chain, so guardians can use it, but it does not serve as a member.
//
// Adopting a version (rule by rule in packages/protocol/src/manifest-chain.ts): the candidate
// chain is verified from genesis against the federation id, then compared with the stored head
// (never a lower version, never a different manifest at the same version: a fork is refused,
// kept for GET /federation and logged). A proposal is adopted the moment its signatures meet
// both thresholds.
import {
  type Manifest,
  type ManifestCoordinator,
  type ManifestNode,
  type SignedManifest,
  decodeInviteCode,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import {
  ChainFollower,
  type FederationChange,
  type ForkReport,
  type OfferResult,
  type SignatureVerifier,
} from './chain-follower.js'
import { GenesisPin } from './genesis-pin.js'
import { type FederationStore, ManifestStore } from './manifest-store.js'
import {
  type FederationStatusName,
  type Self,
  activeServicesOf,
  entryOf,
  statusMessageOf,
  statusOf,
} from './membership.js'
import { ProposalPool, type ProposalView } from './proposal-pool.js'

export type { FederationChange, ForkReport, OfferResult } from './chain-follower.js'
export type { FederationStatusName } from './membership.js'
export { MAX_PENDING_PROPOSALS, type ProposalView } from './proposal-pool.js'

export type FederationOptions = {
  /** federation.sqlite's path. */
  path: string
  /** Where the chain and proposals are kept instead of federation.sqlite (PostgreSQL). */
  store?: FederationStore
  nodePubkey: string
  /** Services the node's configuration turns on. */
  configuredServices: readonly string[]
  inviteCode: string
  chainFile: string
  log: Logger
  now: () => number
}

export class Federation {
  private readonly store: FederationStore
  private readonly follower: ChainFollower
  private readonly pool: ProposalPool
  private readonly self: Self
  /** Which genesis a standalone node may adopt (genesis-pin.ts). */
  private readonly pin: GenesisPin
  /** Node URLs from the invite code: where to fetch the chain when joining. */
  readonly inviteUrls: readonly string[]

  constructor(options: FederationOptions) {
    const invite = options.inviteCode === '' ? null : decodeInviteCode(options.inviteCode)
    this.inviteUrls = invite?.urls ?? []
    this.store = options.store ?? new ManifestStore(options.path)
    this.pin = new GenesisPin(invite?.federationId ?? null, this.store)
    const pin = this.pin
    this.self = {
      nodePubkey: options.nodePubkey,
      configuredServices: options.configuredServices,
      get pinnedId() {
        return pin.id
      },
      inviteUrls: this.inviteUrls,
    }
    try {
      this.follower = new ChainFollower(this.store, {
        path: options.path,
        chainFile: options.chainFile,
        self: this.self,
        pin: this.pin,
        log: options.log,
        now: options.now,
      })
    } catch (error) {
      this.store.close()
      throw error
    }
    this.pool = new ProposalPool(this.store, this.follower, {
      pin: this.pin,
      log: options.log,
      now: options.now,
    })
  }

  /** The federation id this node may adopt: its invite code's, or one its coordinator authorised. */
  get pinnedId(): string | null {
    return this.pin.id
  }

  /** Whether adopting a federation now needs a request its coordinator authorised. */
  needsAuthorisation(): boolean {
    return this.federationId() === null && this.pin.id === null
  }

  // ---- the chain (chain-follower.ts) ---------------------------------------------------------

  /** A fork reported by a peer or a proposal: two manifests at one version (null: none). */
  get fork(): ForkReport | null {
    return this.follower.fork
  }

  federationId(): string | null {
    return this.follower.federationId()
  }

  /** The signed head, or null while standalone. */
  signedHead(): SignedManifest | null {
    return this.follower.signedHead()
  }

  manifest(): Manifest | null {
    return this.follower.manifest()
  }

  version(): number | null {
    return this.follower.version()
  }

  headHash(): string | null {
    return this.follower.headHash()
  }

  expired(): boolean {
    return this.follower.expired()
  }

  /** Signed manifests from `version` on, oldest first. */
  chainFrom(version: number): SignedManifest[] {
    return this.follower.chainFrom(version)
  }

  /**
   * Verifies a chain or the tail of one (signed manifests, oldest first) and adopts its head if
   * it is newer. Throws the protocol's error for the first rule broken.
   */
  offerChain(
    entries: unknown,
    source: string,
    options: { allowSame?: boolean; authorised?: boolean } = {},
  ): OfferResult {
    return this.follower.offerChain(entries, source, options)
  }

  /** offerChain with its signature checks on `verify` (the node's verify threads). */
  offerChainOffLoop(
    entries: unknown,
    source: string,
    options: { allowSame?: boolean; authorised?: boolean },
    verify: SignatureVerifier,
  ): Promise<OfferResult> {
    return this.follower.offerChainOffLoop(entries, source, options, verify)
  }

  onChange(listener: (change: FederationChange) => void): void {
    this.follower.onChange(listener)
  }

  // ---- membership (membership.ts) -----------------------------------------------------------

  /** This node's entry in the head and its coordinator, or null. */
  entry(): { coordinator: ManifestCoordinator; node: ManifestNode } | null {
    return entryOf(this.manifest(), this.self.nodePubkey)
  }

  status(): FederationStatusName {
    return statusOf(this.follower.headView(), this.self)
  }

  /** A sentence for people: what the node is and why. */
  statusMessage(): string {
    return statusMessageOf(this.follower.headView(), this.self)
  }

  /** The services this node runs now (see membership.ts). */
  activeServices(): string[] {
    return activeServicesOf(this.follower.headView(), this.self)
  }

  // ---- proposals (proposal-pool.ts) ---------------------------------------------------------

  proposals(): ProposalView[] {
    return this.pool.proposals()
  }

  proposal(hash: string): ProposalView {
    return this.pool.proposal(hash)
  }

  /** A guardian's proposal (authenticated as `author`), with any signatures it carries. */
  propose(
    value: unknown,
    author: string,
    signatures: readonly unknown[] = [],
    options: { authorised?: boolean } = {},
  ): { proposal: ProposalView; adopted: boolean; created: boolean } {
    return this.pool.propose(value, author, signatures, options)
  }

  /** A guardian's signature on a pending proposal (the request authenticated as `author`). */
  sign(
    hash: string,
    signature: unknown,
    author: string,
  ): { proposal: ProposalView; adopted: boolean } {
    return this.pool.sign(hash, signature, author)
  }

  /** A proposal learnt from a peer; returns whether it led to adopting a version. */
  mergeFromPeer(value: unknown, source: string): boolean {
    return this.pool.mergeFromPeer(value, source)
  }

  /**
   * Offers the chain another process of this node adopted (read back from the shared store):
   * verified like any other before it is adopted.
   */
  adoptStoredChain(chain: readonly SignedManifest[]): boolean {
    if (chain.length === 0) return false
    return this.follower.offerChain([...chain], 'the node database', {
      allowSame: true,
      authorised: true,
    }).adopted
  }

  /** Waits until every change to the chain and proposals is committed (PostgreSQL). */
  async flush(): Promise<void> {
    await this.store.flush?.()
  }

  close(): void {
    this.store.close()
  }
}
