// The proposal pool: the manifests guardians propose as the next version, the signatures they
// gather, and the moment a proposal is sealed — adopted as the head as soon as its valid
// signatures meet both thresholds (the head's guardians' and its own). Proposals also arrive
// from peers (manifest-sync.ts); those are kept only with a valid signature by a guardian of
// the head, so a peer cannot flood the pool. At most MAX_PENDING_PROPOSALS are kept.
import {
  type Manifest,
  type ManifestGuardian,
  type ManifestSignature,
  ManifestExpiredError,
  ManifestGenesisError,
  ManifestInvalidError,
  ManifestPreviousError,
  ManifestVersionError,
  type SignedManifest,
  diffManifests,
  isHex128,
  isHex64,
  manifestHash,
  manifestIssues,
  verifyChain,
  verifyManifestSignature,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { ChainFollower } from './chain-follower.js'
import { FederationRequestError } from './errors.js'
import type { GenesisPin } from './genesis-pin.js'
import type { FederationStore, StoredProposal } from './manifest-store.js'

/** Pending proposals a node keeps at once; more are refused until some are adopted. */
export const MAX_PENDING_PROPOSALS = 64
/** Pending proposals one guardian may have proposed at once on a node. */
export const MAX_PROPOSALS_PER_GUARDIAN = 4

export type ProposalView = {
  hash: string
  version: number
  manifest: Manifest
  signatures: ManifestSignature[]
  proposer: string | null
  receivedAt: number
  /** Valid signers among the head's guardians (null for a genesis draft) and its own. */
  signers: { previous: ManifestGuardian[] | null; own: ManifestGuardian[] }
  thresholds: { previous: number | null; own: number }
  /** Whether its signatures meet both thresholds (it is adopted as soon as they do). */
  complete: boolean
  /** What changes from the head, in words (empty for a genesis draft). */
  changes: string[]
}

export type ProposalPoolOptions = {
  /** Which genesis a standalone node may adopt: a genesis draft must found it (genesis-pin.ts). */
  pin: GenesisPin
  log: Logger
  now: () => number
}

export class ProposalPool {
  constructor(
    private readonly store: FederationStore,
    private readonly follower: ChainFollower,
    private readonly options: ProposalPoolOptions,
  ) {}

  private get pinnedId(): string | null {
    return this.options.pin.id
  }

  private manifest(): Manifest | null {
    return this.follower.manifest()
  }

  private version(): number | null {
    return this.follower.version()
  }

  private headHash(): string | null {
    return this.follower.headHash()
  }

  private guardianKeys(manifest: Manifest): Set<string> {
    const keys = new Set(manifest.guardians.map((g) => g.pubkey))
    for (const g of this.manifest()?.guardians ?? []) keys.add(g.pubkey)
    return keys
  }

  private view(p: StoredProposal): ProposalView {
    const head = this.manifest()
    const valid = new Set(p.signatures.map((s) => s.pubkey))
    const own = p.manifest.guardians.filter((g) => valid.has(g.pubkey))
    const previous = head === null ? null : head.guardians.filter((g) => valid.has(g.pubkey))
    return {
      hash: p.hash,
      version: p.version,
      manifest: p.manifest,
      signatures: p.signatures,
      proposer: p.proposer,
      receivedAt: p.receivedAt,
      signers: { previous, own },
      thresholds: { previous: head?.threshold ?? null, own: p.manifest.threshold },
      complete:
        own.length >= p.manifest.threshold &&
        (head === null || (previous?.length ?? 0) >= head.threshold),
      changes: head === null ? [] : diffManifests(head, p.manifest).map((c) => c.summary),
    }
  }

  proposals(): ProposalView[] {
    return this.store.proposals().map((p) => this.view(p))
  }

  proposal(hash: string): ProposalView {
    const found = this.store.proposals().find((p) => p.hash === hash)
    if (found === undefined) {
      throw new FederationRequestError(
        'HANSA_PROPOSAL_NOT_FOUND',
        404,
        `no pending proposal ${hash.slice(0, 12)}… on this node (it may have been adopted or superseded: read GET /federation)`,
      )
    }
    return this.view(found)
  }

  /** Checks a proposed manifest against the head: the rules a proposal must meet to be kept. */
  private checkProposal(value: unknown, authorised = false): Manifest {
    const issues = manifestIssues(value)
    if (issues.length > 0) throw new ManifestInvalidError(issues)
    const manifest = value as Manifest
    const head = this.manifest()
    if (head === null) {
      if (manifest.version !== 1) {
        throw new FederationRequestError(
          'HANSA_FEDERATION_NONE',
          409,
          `this node belongs to no federation: only a genesis draft (version 1) can be proposed here, not version ${manifest.version}`,
        )
      }
      // Only a draft the node's coordinator authorised may pin a genesis (genesis-pin.ts).
      if (this.pinnedId === null && !authorised) throw this.options.pin.uninvited('a genesis draft')
      const repin = authorised && this.options.pin.movable
      if (this.pinnedId !== null && manifestHash(manifest) !== this.pinnedId && !repin) {
        throw new ManifestGenesisError(
          'other-federation',
          `this node is pinned to federation ${this.pinnedId.slice(0, 12)}…; this genesis draft would found another`,
        )
      }
    } else {
      if (manifest.version !== head.version + 1) {
        throw new ManifestVersionError(head.version, head.version + 1, manifest.version)
      }
      if (manifest.previous !== this.headHash()) {
        throw new ManifestPreviousError(manifest.version, this.headHash()!, manifest.previous)
      }
    }
    const now = this.options.now()
    if (now >= manifest.expiresAt) {
      throw new ManifestExpiredError(manifest.version, manifest.expiresAt, now)
    }
    return manifest
  }

  private requireGuardian(manifest: Manifest, pubkey: string, what: string): void {
    if (this.guardianKeys(manifest).has(pubkey)) return
    const head = this.version()
    throw new FederationRequestError(
      'HANSA_NOT_GUARDIAN',
      403,
      `${what}: key ${pubkey.slice(0, 12)}… is a guardian neither of ${head === null ? 'this genesis draft' : `manifest version ${head} nor of the proposal`}`,
    )
  }

  private checkSignature(manifest: Manifest, hash: string, value: unknown): ManifestSignature {
    const sig = value as Partial<ManifestSignature> | null
    if (
      typeof sig !== 'object' ||
      sig === null ||
      typeof sig.pubkey !== 'string' ||
      typeof sig.sig !== 'string' ||
      !isHex64(sig.pubkey) ||
      !isHex128(sig.sig)
    ) {
      throw new FederationRequestError(
        'HANSA_REQUEST_INVALID',
        400,
        'a signature is { "pubkey": 64 lowercase hex, "sig": 128 lowercase hex }',
      )
    }
    this.requireGuardian(manifest, sig.pubkey, 'signature refused')
    const signature = { pubkey: sig.pubkey, sig: sig.sig }
    if (!verifyManifestSignature(manifest, signature)) {
      throw new FederationRequestError(
        'HANSA_SIGNATURE_INVALID',
        422,
        `the signature by ${sig.pubkey.slice(0, 12)}… is not a valid BIP-340 signature of proposal ${hash.slice(0, 12)}… (the sha256 of its canonical JSON)`,
      )
    }
    return signature
  }

  /** A guardian's proposal (authenticated as `author`), with any signatures it carries. */
  propose(
    value: unknown,
    author: string,
    signatures: readonly unknown[] = [],
    options: { authorised?: boolean } = {},
  ): { proposal: ProposalView; adopted: boolean; created: boolean } {
    const manifest = this.checkProposal(value, options.authorised ?? false)
    // A genesis draft comes from one of its guardians; a later version from a guardian of the
    // head (a guardian the proposal adds may sign it, not propose it).
    const proposers = (this.manifest() ?? manifest).guardians
    if (!proposers.some((g) => g.pubkey === author)) {
      const head = this.version()
      throw new FederationRequestError(
        'HANSA_NOT_GUARDIAN',
        403,
        `proposal refused: key ${author.slice(0, 12)}… is not a guardian of ${head === null ? 'this genesis draft' : `manifest version ${head}`}`,
      )
    }
    const hash = manifestHash(manifest)
    const existing = this.store.proposals()
    const created = !existing.some((p) => p.hash === hash)
    if (created && existing.length >= MAX_PENDING_PROPOSALS) {
      throw new FederationRequestError(
        'HANSA_PROPOSALS_FULL',
        409,
        `this node already holds ${MAX_PENDING_PROPOSALS} pending proposals; sign one to adoption first`,
      )
    }
    if (
      created &&
      existing.filter((p) => p.proposer === author).length >= MAX_PROPOSALS_PER_GUARDIAN
    ) {
      throw new FederationRequestError(
        'HANSA_PROPOSALS_FULL',
        409,
        `guardian ${author.slice(0, 12)}… already has ${MAX_PROPOSALS_PER_GUARDIAN} pending proposals on this node; let one be adopted or superseded first`,
      )
    }
    const checked = signatures.map((s) => this.checkSignature(manifest, hash, s))
    if (manifest.version === 1 && this.manifest() === null) this.options.pin.pin(hash)
    if (created) {
      this.store.addProposal({
        hash,
        version: manifest.version,
        manifest,
        proposer: author,
        receivedAt: this.options.now(),
      })
      this.options.log.info({ hash, version: manifest.version, author }, 'proposal received')
    }
    for (const s of checked) this.store.addSignature(hash, s)
    const adopted = this.trySeal(hash, `proposal by ${author}`)
    return {
      proposal: adopted ? this.sealedView(manifest, hash) : this.proposal(hash),
      adopted,
      created,
    }
  }

  /** A guardian's signature on a pending proposal (the request authenticated as `author`). */
  sign(
    hash: string,
    signature: unknown,
    author: string,
  ): { proposal: ProposalView; adopted: boolean } {
    const pending = this.proposal(hash)
    this.requireGuardian(pending.manifest, author, 'request refused')
    const checked = this.checkSignature(pending.manifest, hash, signature)
    this.store.addSignature(hash, checked)
    const adopted = this.trySeal(hash, `signature by ${checked.pubkey}`)
    return {
      proposal: adopted ? this.sealedView(pending.manifest, hash) : this.proposal(hash),
      adopted,
    }
  }

  /**
   * A proposal learnt from a peer. Kept only if it fits the head and carries at least one
   * valid signature by a guardian of the head (so a peer cannot flood the node); its valid
   * signatures are merged. Returns whether it led to adopting a version.
   */
  mergeFromPeer(value: unknown, source: string): boolean {
    const head = this.manifest()
    if (head === null) return false
    const p = value as { manifest?: unknown; signatures?: unknown } | null
    const manifest = this.checkProposal(p?.manifest)
    const hash = manifestHash(manifest)
    const signatures = Array.isArray(p?.signatures) ? p.signatures : []
    const valid: ManifestSignature[] = []
    for (const s of signatures) {
      try {
        valid.push(this.checkSignature(manifest, hash, s))
      } catch {
        // a bad signature from a peer is skipped; the others still count
      }
    }
    const headGuardians = new Set(head.guardians.map((g) => g.pubkey))
    if (!valid.some((s) => headGuardians.has(s.pubkey))) return false
    const existing = this.store.proposals()
    if (!existing.some((e) => e.hash === hash)) {
      if (existing.length >= MAX_PENDING_PROPOSALS) return false
      this.store.addProposal({
        hash,
        version: manifest.version,
        manifest,
        proposer: null,
        receivedAt: this.options.now(),
      })
    }
    for (const s of valid) this.store.addSignature(hash, s)
    return this.trySeal(hash, source)
  }

  private sealedView(manifest: Manifest, hash: string): ProposalView {
    const signed = this.follower.signedHead()!
    return this.view({
      hash,
      version: manifest.version,
      manifest,
      proposer: null,
      receivedAt: this.options.now(),
      signatures: signed.signatures,
    })
  }

  /** Adopts the proposal if its signatures now meet both thresholds. */
  private trySeal(hash: string, source: string): boolean {
    const p = this.store.proposals().find((x) => x.hash === hash)
    if (p === undefined || !this.view(p).complete) return false
    const signed: SignedManifest = { manifest: p.manifest, signatures: p.signatures }
    const chain = [...this.follower.chain(), signed]
    const id = this.follower.federationId() ?? hash
    const result = verifyChain(id, chain, { now: this.options.now() })
    if (!result.ok) {
      this.options.log.warn({ hash, err: result.error.message }, 'proposal does not verify yet')
      return false
    }
    return this.follower.adoptVerified(result.head, source, false).adopted
  }
}
