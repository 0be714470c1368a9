// The node's side of the federation: which verified manifest chain it follows, whether it is a
// member, which services that lets it run, and the proposals guardians bring to it.
//
// States (GET /federation `status`):
// - `standalone`: no federation (the quick start). Every configured service runs. The node
//   adopts a federation only when its own coordinator asked for it: an invite code or a chain
//   file in its configuration pins the federation id; otherwise a genesis (a sealed chain or a
//   genesis draft) is taken only from a request the coordinator authorised — NIP-98 by the
//   node key or a `federation.adminPubkeys` key, or the one-time setup token the node prints
//   at start. Such a request pins the draft's hash, so the sealed genesis pushed later by
//   another node is adopted too. Anything else is refused with HANSA_FEDERATION_UNINVITED
//   (403) and changes nothing. After adopting, the node never switches federation.
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
import { readFileSync } from 'node:fs'
import {
  type HansaError,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestCoordinator,
  type ManifestGuardian,
  type ManifestNode,
  type ManifestSignature,
  ManifestExpiredError,
  ManifestGenesisError,
  ManifestInvalidError,
  ManifestPreviousError,
  ManifestVersionError,
  type SignedManifest,
  type StoredHead,
  type VerifiedHead,
  acceptHead,
  decodeInviteCode,
  diffManifests,
  manifestHash,
  manifestIssues,
  verifyChain,
  verifyManifestSignature,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import { FederationRequestError } from './errors.js'
import { ManifestStore, type StoredProposal } from './manifest-store.js'

/** Pending proposals a node keeps at once; more are refused until some are adopted. */
export const MAX_PENDING_PROPOSALS = 64
/** Pending proposals one guardian may have proposed at once on a node. */
export const MAX_PROPOSALS_PER_GUARDIAN = 4

export type FederationStatusName = 'standalone' | 'member' | 'not-member'

export type ForkReport = {
  version: number
  storedHash: string
  candidateHash: string
  source: string
  at: number
}

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

export type OfferResult = {
  adopted: boolean
  federationId: string
  version: number
  previousVersion: number | null
}

export type FederationChange = {
  federationId: string
  version: number
  previousVersion: number | null
  status: FederationStatusName
}

export type FederationOptions = {
  /** federation.sqlite's path. */
  path: string
  nodePubkey: string
  /** Services the node's configuration turns on. */
  configuredServices: readonly string[]
  inviteCode: string
  chainFile: string
  log: Logger
  now: () => number
}

type Head = { federationId: string; chain: SignedManifest[]; hashes: string[] }

export class Federation {
  private readonly store: ManifestStore
  private head: Head | null = null
  private readonly listeners: Array<(change: FederationChange) => void> = []
  /** The federation id an invite code pins, if any. */
  private readonly invitePin: string | null
  /** The genesis hash an authorised request pinned (kept in federation.sqlite), if any. */
  private authorisedPin: string | null
  /** Node URLs from the invite code: where to fetch the chain when joining. */
  readonly inviteUrls: readonly string[]
  fork: ForkReport | null = null

  constructor(private readonly options: FederationOptions) {
    const invite = options.inviteCode === '' ? null : decodeInviteCode(options.inviteCode)
    this.invitePin = invite?.federationId ?? null
    this.inviteUrls = invite?.urls ?? []
    this.store = new ManifestStore(options.path)
    this.authorisedPin = this.store.meta('authorised_genesis')
    try {
      this.load()
    } catch (error) {
      this.store.close()
      throw error
    }
  }

  /** The federation id this node may adopt: the invite code's, or the one its coordinator authorised. */
  get pinnedId(): string | null {
    return this.invitePin ?? this.authorisedPin
  }

  /** Whether adopting a federation now needs a request its coordinator authorised. */
  needsAuthorisation(): boolean {
    return this.head === null && this.pinnedId === null
  }

  /** Pins the genesis an authorised request named (a draft or a sealed chain). */
  private pin(hash: string): void {
    if (this.invitePin !== null || this.authorisedPin === hash) return
    this.authorisedPin = hash
    this.store.setMeta('authorised_genesis', hash)
  }

  private uninvited(what: string): FederationRequestError {
    return new FederationRequestError(
      'HANSA_FEDERATION_UNINVITED',
      403,
      `${what} refused: this node joins a federation only when its coordinator asks (an invite code or chain file in its configuration, NIP-98 by the node key or an admin key, or the setup token the node printed at start)`,
    )
  }

  private load(): void {
    const storedId = this.store.federationId()
    if (storedId !== null && this.invitePin !== null && storedId !== this.invitePin) {
      throw new FederationRequestError(
        'HANSA_FEDERATION_MISMATCH',
        409,
        `this data folder belongs to federation ${storedId.slice(0, 12)}…, but federation.inviteCode names ${this.invitePin.slice(0, 12)}…`,
        `A node follows one federation. Use another data folder, or delete ${this.options.path} to leave the stored federation.`,
      )
    }
    const chain = this.store.chain()
    if (storedId !== null && chain.length > 0) {
      // The stored head may have expired while the node was down: keep it (it is the newest
      // this node has verified) and report it as expired until a newer version arrives.
      const last = chain[chain.length - 1]!.manifest
      const now = Math.min(this.options.now(), last.expiresAt - 1)
      const result = verifyChain(storedId, chain, { now })
      if (!result.ok) {
        throw new FederationRequestError(
          'HANSA_FEDERATION_MISMATCH',
          409,
          `${this.options.path} holds a manifest chain that does not verify: ${result.error.message}`,
        )
      }
      this.head = { federationId: storedId, chain, hashes: [...result.head.hashes] }
    }
    if (this.options.chainFile !== '') {
      let entries: unknown
      try {
        entries = JSON.parse(readFileSync(this.options.chainFile, 'utf8'))
      } catch (cause) {
        throw new FederationRequestError(
          'HANSA_REQUEST_INVALID',
          400,
          `cannot read the chain file ${this.options.chainFile}: ${(cause as Error).message}`,
        )
      }
      const result = this.offerChain(entries, `chain file ${this.options.chainFile}`, {
        allowSame: true,
        authorised: true,
      })
      if (result.adopted) {
        this.options.log.info(
          { version: result.version, file: this.options.chainFile },
          'adopted the manifest chain file',
        )
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  federationId(): string | null {
    return this.head?.federationId ?? null
  }

  /** The signed head, or null while standalone. */
  signedHead(): SignedManifest | null {
    return this.head?.chain[this.head.chain.length - 1] ?? null
  }

  manifest(): Manifest | null {
    return this.signedHead()?.manifest ?? null
  }

  version(): number | null {
    return this.manifest()?.version ?? null
  }

  headHash(): string | null {
    return this.head?.hashes[this.head.hashes.length - 1] ?? null
  }

  expired(): boolean {
    const m = this.manifest()
    return m !== null && this.options.now() >= m.expiresAt
  }

  /** Signed manifests from `version` on, oldest first. */
  chainFrom(version: number): SignedManifest[] {
    return this.head?.chain.slice(Math.max(0, version - 1)) ?? []
  }

  /** This node's entry in the head and its coordinator, or null. */
  entry(): { coordinator: ManifestCoordinator; node: ManifestNode } | null {
    const manifest = this.manifest()
    for (const coordinator of manifest?.coordinators ?? []) {
      const node = coordinator.nodes.find((n) => n.pubkey === this.options.nodePubkey)
      if (node) return { coordinator, node }
    }
    return null
  }

  status(): FederationStatusName {
    if (this.head === null) return 'standalone'
    return this.entry() === null ? 'not-member' : 'member'
  }

  /** A sentence for people: what the node is and why. */
  statusMessage(): string {
    const id = this.federationId()
    const version = this.version()
    switch (this.status()) {
      case 'standalone':
        if (this.pinnedId === null)
          return 'This node belongs to no federation; it runs standalone with the services its configuration turns on.'
        return this.invitePin === null
          ? `This node awaits the sealed genesis ${this.pinnedId.slice(0, 12)}… its coordinator authorised.`
          : `This node is joining federation ${this.pinnedId.slice(0, 12)}… and has not fetched its manifest chain yet (from ${this.inviteUrls.join(', ')}).`
      case 'not-member':
        return `This node's key ${this.options.nodePubkey.slice(0, 12)}… is not in manifest version ${version} of federation ${id?.slice(0, 12)}…: it is not a member and serves no federation service.`
      case 'member': {
        const entry = this.entry()!
        const expired = this.expired()
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
  activeServices(): string[] {
    const configured = this.options.configuredServices
    switch (this.status()) {
      case 'standalone':
        return [...configured]
      case 'not-member':
        return []
      case 'member': {
        const manifest = this.manifest()!
        const listed = new Set(this.entry()!.node.services)
        return configured.filter((s) => listed.has(s) && manifest.services[s] !== undefined)
      }
    }
  }

  onChange(listener: (change: FederationChange) => void): void {
    this.listeners.push(listener)
  }

  // -------------------------------------------------------------------------------------------
  // Adopting chains

  private storedHead(): StoredHead | undefined {
    if (this.head === null) return undefined
    return {
      federationId: this.head.federationId,
      version: this.head.chain.length,
      hash: this.headHash()!,
      signed: this.signedHead()!,
    }
  }

  /**
   * Verifies a chain or the tail of one (signed manifests, oldest first) and adopts its head if
   * it is newer. A tail starts at most one version above the stored head; the stored versions
   * before it complete it. Throws the protocol's error for the first rule broken.
   */
  offerChain(
    offered: unknown,
    source: string,
    options: { allowSame?: boolean; authorised?: boolean } = {},
  ): OfferResult {
    if (!Array.isArray(offered) || offered.length === 0) {
      throw new FederationRequestError(
        'HANSA_REQUEST_INVALID',
        400,
        'a chain is a non-empty JSON array of signed manifests, oldest first',
      )
    }
    const entries: unknown[] = offered.map(firstSignaturePerKey)
    const stored = this.head
    const firstVersion = (entries[0] as { manifest?: { version?: unknown } } | null)?.manifest
      ?.version
    let combined: unknown[] = entries
    if (stored !== null && Number.isSafeInteger(firstVersion) && (firstVersion as number) > 1) {
      const first = firstVersion as number
      if (first > stored.chain.length + 1) {
        throw new ManifestVersionError(0, stored.chain.length + 1, first)
      }
      combined = [...stored.chain.slice(0, first - 1), ...entries]
    } else if (stored === null && Number.isSafeInteger(firstVersion) && firstVersion !== 1) {
      throw new ManifestGenesisError(
        'version',
        `This node has no federation yet: send the whole chain, from the genesis manifest (version 1); it starts at version ${firstVersion}`,
      )
    }
    const authorised = options.authorised ?? false
    if (stored === null && this.pinnedId === null && !authorised) {
      throw this.uninvited('a genesis chain')
    }
    // An authorised request may name another genesis than an earlier authorised draft; an
    // invite code's pin holds against everyone.
    const federationId =
      stored?.federationId ??
      (authorised && this.invitePin === null ? genesisHash(entries[0]) : this.pinnedId) ??
      genesisHash(entries[0])
    const result = verifyChain(federationId, combined, { now: this.options.now() })
    if (!result.ok) throw result.error
    return this.adoptVerified(result.head, source, options.allowSame ?? false)
  }

  private adoptVerified(candidate: VerifiedHead, source: string, allowSame: boolean): OfferResult {
    const before = this.storedHead()
    const decision = acceptHead(before, candidate)
    if (!decision.ok) {
      const error = decision.error
      if (error.code === 'HANSA_MANIFEST_FORK' && 'storedHash' in error) {
        this.fork = {
          version: error.version,
          storedHash: error.storedHash,
          candidateHash: error.candidateHash,
          source,
          at: this.options.now(),
        }
        this.options.log.error(
          { ...this.fork, stored: error.stored, candidate: error.candidate },
          'manifest fork: two different manifests claim the same version; keeping the stored one',
        )
      }
      if (allowSame && error.code === 'HANSA_MANIFEST_ROLLBACK') {
        return {
          adopted: false,
          federationId: candidate.federationId,
          version: before!.version,
          previousVersion: before!.version,
        }
      }
      throw error
    }
    const previousVersion = before?.version ?? null
    if (!decision.changed) {
      return {
        adopted: false,
        federationId: candidate.federationId,
        version: candidate.version,
        previousVersion,
      }
    }
    const from = previousVersion ?? 0
    const newEntries = candidate.chain
      .slice(from)
      .map((signed, i) => ({ signed, hash: candidate.hashes[from + i]! }))
    const wasStatus = this.status()
    const wasServices = this.activeServices().join(',')
    this.store.adopt(candidate.federationId, newEntries, this.options.now())
    this.head = {
      federationId: candidate.federationId,
      chain: [...candidate.chain],
      hashes: [...candidate.hashes],
    }
    const status = this.status()
    const log = this.options.log
    log.info(
      {
        federationId: candidate.federationId,
        version: candidate.version,
        from: previousVersion,
        source,
      },
      'adopted manifest version',
    )
    if (status === 'not-member') {
      log.warn({ pubkey: this.options.nodePubkey }, this.statusMessage())
    } else if (wasStatus !== status || wasServices !== this.activeServices().join(',')) {
      log.info({ status, services: this.activeServices() }, 'federation services changed')
    }
    const change: FederationChange = {
      federationId: candidate.federationId,
      version: candidate.version,
      previousVersion,
      status,
    }
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch (err) {
        log.error({ err }, 'federation change listener failed')
      }
    }
    return {
      adopted: true,
      federationId: candidate.federationId,
      version: candidate.version,
      previousVersion,
    }
  }

  // -------------------------------------------------------------------------------------------
  // Proposals

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
      const hash = manifestHash(manifest)
      if (this.pinnedId === null && !authorised) throw this.uninvited('a genesis draft')
      const repin = authorised && this.invitePin === null
      if (this.pinnedId !== null && hash !== this.pinnedId && !repin) {
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
      !/^[0-9a-f]{64}$/.test(sig.pubkey) ||
      !/^[0-9a-f]{128}$/.test(sig.sig)
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
    if (manifest.version === 1 && this.head === null) this.pin(hash)
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
    const signed = this.signedHead()!
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
    const chain = this.head === null ? [signed] : [...this.head.chain, signed]
    const id = this.head?.federationId ?? hash
    const result = verifyChain(id, chain, { now: this.options.now() })
    if (!result.ok) {
      this.options.log.warn({ hash, err: result.error.message }, 'proposal does not verify yet')
      return false
    }
    return this.adoptVerified(result.head, source, false).adopted
  }

  close(): void {
    this.store.close()
  }
}

/**
 * A signed manifest with only the first signature each key made: verifying then costs at most
 * one check per guardian key, however many entries an offered chain repeats (signatures by
 * other keys are skipped unverified by verifyChain itself). Anything else passes unchanged.
 */
function firstSignaturePerKey(entry: unknown): unknown {
  const signatures = (entry as { signatures?: unknown } | null)?.signatures
  if (!Array.isArray(signatures)) return entry
  const seen = new Set<unknown>()
  const kept = signatures.filter((s) => {
    const key = (s as { pubkey?: unknown } | null)?.pubkey
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return kept.length === signatures.length ? entry : { ...(entry as object), signatures: kept }
}

/** The hash a structurally valid genesis would give, or a placeholder verifyChain refuses. */
function genesisHash(entry: unknown): string {
  const manifest = (entry as { manifest?: unknown } | null)?.manifest
  if (manifestIssues(manifest).length > 0) return '0'.repeat(64)
  return manifestHash(manifest as Manifest)
}

export function isHansaError(error: unknown): error is HansaError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string'
}

export const SUPPORTED_MANIFEST_FORMAT = MANIFEST_FORMAT
