// The chain follower: the verified manifest chain this node follows. It loads the stored chain
// (and a chain file) at start, answers what the head is, and adopts a newer head when a chain
// verifies (rule by rule in packages/protocol/src/manifest-chain.ts): never a lower version,
// never a different manifest at the same version — a fork is refused, kept for GET /federation
// and logged. Listeners hear of every adopted version.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  type Manifest,
  type SignatureCheck,
  canonicalJson,
  ManifestGenesisError,
  ManifestVersionError,
  type SignedManifest,
  type StoredHead,
  type VerifiedHead,
  acceptHead,
  bytesToHex,
  manifestHash,
  manifestIssues,
  verifyChain,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import { FederationRequestError } from './errors.js'
import type { GenesisPin } from './genesis-pin.js'
import type { FederationStore } from './manifest-store.js'
import {
  type FederationStatusName,
  type HeadView,
  type Self,
  activeServicesOf,
  statusMessageOf,
  statusOf,
} from './membership.js'

export type ForkReport = {
  version: number
  storedHash: string
  candidateHash: string
  source: string
  at: number
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

export type ChainFollowerOptions = {
  /** federation.sqlite's path (named in errors). */
  path: string
  chainFile: string
  self: Self
  /** Which genesis a standalone node may adopt (genesis-pin.ts). */
  pin: GenesisPin
  log: Logger
  now: () => number
}

type Head = { federationId: string; chain: SignedManifest[]; hashes: string[] }

export class ChainFollower {
  private head: Head | null = null
  private readonly listeners: Array<(change: FederationChange) => void> = []
  fork: ForkReport | null = null

  constructor(
    private readonly store: FederationStore,
    private readonly options: ChainFollowerOptions,
  ) {
    this.load()
  }

  private get pinnedId(): string | null {
    return this.options.pin.id
  }

  private load(): void {
    const storedId = this.store.federationId()
    const invite = this.options.pin.invite
    if (storedId !== null && invite !== null && storedId !== invite) {
      throw new FederationRequestError(
        'HANSA_FEDERATION_MISMATCH',
        409,
        `this data folder belongs to federation ${storedId.slice(0, 12)}…, but federation.inviteCode names ${invite.slice(0, 12)}…`,
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

  /** The whole verified chain, oldest first (empty while standalone). */
  chain(): readonly SignedManifest[] {
    return this.head?.chain ?? []
  }

  /** The head as membership reads it. */
  headView(): HeadView {
    const manifest = this.manifest()
    if (manifest === null || this.head === null) return null
    return { manifest, federationId: this.head.federationId, expired: this.expired() }
  }

  private status(): FederationStatusName {
    return statusOf(this.headView(), this.options.self)
  }

  private activeServices(): string[] {
    return activeServicesOf(this.headView(), this.options.self)
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
    options: { allowSame?: boolean; authorised?: boolean; checkSignature?: SignatureCheck } = {},
  ): OfferResult {
    const { federationId, combined } = this.planOffer(offered, options)
    const result = verifyChain(federationId, combined, {
      now: this.options.now(),
      ...(options.checkSignature === undefined ? {} : { checkSignature: options.checkSignature }),
    })
    if (!result.ok) throw result.error
    return this.adoptVerified(result.head, source, options.allowSame ?? false)
  }

  /**
   * offerChain with its signature checks done by `verify` — the node's verify threads — before
   * the chain is verified, so none runs on the event loop. Only the signatures verifyChain
   * would look at are checked: the first per key, by the keys of that version's guardians or
   * the version before's; a chain this node would refuse anyway (uninvited, out of order) is
   * refused before any check.
   */
  async offerChainOffLoop(
    offered: unknown,
    source: string,
    options: { allowSame?: boolean; authorised?: boolean },
    verify: SignatureVerifier,
  ): Promise<OfferResult> {
    const { combined } = this.planOffer(offered, options)
    const checks = signatureChecks(combined)
    const answers = await verify([...checks.values()])
    const valid = new Map([...checks.keys()].map((key, i) => [key, answers[i] === true]))
    // The chain's stored prefix cannot change meanwhile (a chain only grows), so every
    // signature verifyChain looks at was checked; any other counts as invalid.
    return this.offerChain(offered, source, {
      ...options,
      checkSignature: (hash, signature) =>
        valid.get(checkKey(bytesToHex(hash), signature.pubkey, signature.sig)) ?? false,
    })
  }

  /** The chain an offer makes with the stored versions, and the federation it must belong to. */
  private planOffer(
    offered: unknown,
    options: { authorised?: boolean },
  ): { federationId: string; combined: unknown[] } {
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
    // A standalone node adopts only the genesis its coordinator asked for (genesis-pin.ts).
    const authorised = options.authorised ?? false
    if (stored === null && this.pinnedId === null && !authorised) {
      throw this.options.pin.uninvited('a genesis chain')
    }
    const federationId =
      stored?.federationId ??
      (authorised && this.options.pin.movable ? genesisHash(entries[0]) : this.pinnedId) ??
      genesisHash(entries[0])
    return { federationId, combined }
  }

  /** Adopts a verified head if it is newer (the proposal pool seals through here too). */
  adoptVerified(candidate: VerifiedHead, source: string, allowSame: boolean): OfferResult {
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
      log.warn(
        { pubkey: this.options.self.nodePubkey },
        statusMessageOf(this.headView(), this.options.self),
      )
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

/** One guardian signature to check: BIP-340 of `hash` (sha256 of `preimage`) by `pubkey`. */
export type SignatureToCheck = { hash: string; pubkey: string; sig: string; preimage: string }

/** Checks signatures elsewhere (the node's verify threads); one answer per check, in order. */
export type SignatureVerifier = (checks: readonly SignatureToCheck[]) => Promise<boolean[]>

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/
const checkKey = (hash: string, pubkey: string, sig: string) => `${hash}:${pubkey}:${sig}`

/**
 * The signatures verifyChain would check in `chain`, each once: for each version (until the
 * first that is not a valid manifest, where verifyChain stops), the first signature per key by
 * a guardian of that version or of the one before; signatures by other keys are never checked.
 */
function signatureChecks(chain: readonly unknown[]): Map<string, SignatureToCheck> {
  const checks = new Map<string, SignatureToCheck>()
  let before: Manifest | undefined
  for (const entry of chain) {
    const manifest = (entry as { manifest?: unknown } | null)?.manifest
    const signatures = (entry as { signatures?: unknown } | null)?.signatures
    if (manifestIssues(manifest).length > 0 || !Array.isArray(signatures)) break
    const m = manifest as Manifest
    const preimage = canonicalJson(m)
    const hash = createHash('sha256').update(preimage, 'utf8').digest('hex')
    const candidates = new Set([...m.guardians, ...(before?.guardians ?? [])].map((g) => g.pubkey))
    const seen = new Set<string>()
    for (const s of signatures as Array<{ pubkey?: unknown; sig?: unknown } | null>) {
      const pubkey = s?.pubkey
      const sig = s?.sig
      if (typeof pubkey !== 'string' || seen.has(pubkey) || !candidates.has(pubkey)) continue
      seen.add(pubkey)
      if (typeof sig !== 'string' || !HEX64.test(pubkey) || !HEX128.test(sig)) continue
      checks.set(checkKey(hash, pubkey, sig), { hash, pubkey, sig, preimage })
    }
    before = m
  }
  return checks
}

/** The hash a structurally valid genesis would give, or a placeholder verifyChain refuses. */
function genesisHash(entry: unknown): string {
  const manifest = (entry as { manifest?: unknown } | null)?.manifest
  if (manifestIssues(manifest).length > 0) return '0'.repeat(64)
  return manifestHash(manifest as Manifest)
}
