// Guardians' signatures of the on-chain FederationRegistry's update (EIP-712, docs/settlement.md),
// gathered on the node beside the manifest's own: guardians sign apart, on their own machines
// (`hansa federation sign` and `propose` add this signature when the node names a registry;
// `hansa federation anchor-sign` for a version already adopted), and anyone sends the
// transaction with what the node gathered (`hansa federation anchor`).
//
// Every signature is checked on receipt: the manifest must be one the node knows (a pending
// proposal or a version of its chain), the registry and chain its billing names, the author
// (NIP-98) a guardian of that version or of the one before it (the registry asks both), and
// the signature must recover to one of the two Ethereum addresses of the author's key over that
// version's update digest. One signature per guardian per manifest is kept (a newer replaces
// it), and only for manifests the node holds, so the table stays as small as the pool and the
// chain. Kept in federation.sqlite, its own table (`rm federation.sqlite` forgets them too).
import { type Manifest, ethereumAddressesOfPubkey, manifestHash } from '@hansa/protocol'
import Database from 'better-sqlite3'
import { FederationRequestError } from './errors.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registry_signatures (
  hash TEXT NOT NULL,
  guardian TEXT NOT NULL,
  chain_id INTEGER NOT NULL,
  registry TEXT NOT NULL,
  signature TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (hash, guardian)
) WITHOUT ROWID;
`

/** A manifest the node knows, with the one before it (null for a genesis). */
export type KnownManifest = { manifest: Manifest; previous: Manifest | null; federationId: string }

export type RegistrySignaturesOptions = {
  /** federation.sqlite's path. */
  path: string
  /** The registry the node's billing names (billing.evm.registry), '' for none. */
  registry: () => string
  chainId: () => number
  /** The pending proposal or chain version with this hash, or null. */
  lookup: (hash: string) => KnownManifest | null
  now: () => number
}

export type RegistrySignature = { guardian: string; signature: string }

export type RegistrySignaturesView = {
  hash: string
  version: number
  federationId: string
  chainId: number
  registry: string
  signatures: RegistrySignature[]
}

const HASH = /^[0-9a-f]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

const invalid = (message: string) =>
  new FederationRequestError('HANSA_REQUEST_INVALID', 400, message)

export class RegistrySignatures {
  private readonly db: Database.Database

  constructor(private readonly options: RegistrySignaturesOptions) {
    this.db = new Database(options.path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.exec(SCHEMA)
  }

  private registry(): { registry: string; chainId: number } {
    const registry = this.options.registry()
    if (!ADDRESS.test(registry)) {
      throw new FederationRequestError(
        'HANSA_REGISTRY_NONE',
        409,
        'this node names no FederationRegistry (billing.evm.registry): post the registry signatures to a node that does',
      )
    }
    return { registry, chainId: this.options.chainId() }
  }

  private known(hash: unknown): KnownManifest & { hash: string } {
    if (typeof hash !== 'string' || !HASH.test(hash)) {
      throw invalid('hash must be a manifest hash (64 lowercase hex)')
    }
    const found = this.options.lookup(hash)
    if (found === null) {
      throw new FederationRequestError(
        'HANSA_PROPOSAL_NOT_FOUND',
        404,
        `this node holds no pending proposal and no manifest version ${hash.slice(0, 12)}…`,
      )
    }
    return { ...found, hash }
  }

  /** A guardian's registry signature (the request authenticated as `author`). */
  async add(author: string, body: unknown): Promise<RegistrySignaturesView> {
    const b = body as {
      hash?: unknown
      chainId?: unknown
      registry?: unknown
      signature?: unknown
    } | null
    if (typeof b !== 'object' || b === null) {
      throw invalid('the body is { "hash", "chainId", "registry", "signature" }')
    }
    const { registry, chainId } = this.registry()
    if (
      b.chainId !== chainId ||
      typeof b.registry !== 'string' ||
      b.registry.toLowerCase() !== registry.toLowerCase()
    ) {
      throw new FederationRequestError(
        'HANSA_REGISTRY_SIGNATURE',
        422,
        // the request's values are named only when they are what they should be: anything else
        // (an object whose toString throws) must not turn a refusal into a crash
        `this node gathers signatures for registry ${registry} on chain ${chainId}, not ${typeof b.registry === 'string' && ADDRESS.test(b.registry) ? b.registry : 'that registry'} on chain ${Number.isSafeInteger(b.chainId) ? b.chainId : 'that chain'}`,
      )
    }
    const known = this.known(b.hash)
    const eligible = new Set([
      ...known.manifest.guardians.map((g) => g.pubkey),
      ...(known.previous?.guardians.map((g) => g.pubkey) ?? []),
    ])
    if (!eligible.has(author)) {
      throw new FederationRequestError(
        'HANSA_NOT_GUARDIAN',
        403,
        `registry signature refused: key ${author.slice(0, 12)}… is a guardian neither of version ${known.manifest.version} nor of the version before it`,
      )
    }
    const { registrySigner, registryUpdateOf, REGISTRY_SIGNATURE } = await import(
      '@hansa/contracts'
    )
    if (typeof b.signature !== 'string' || !REGISTRY_SIGNATURE.test(b.signature)) {
      throw invalid('signature must be a 65-byte ECDSA signature: 0x and 130 hex digits')
    }
    const update = registryUpdateOf(known.federationId, known.hash, known.manifest)
    const signer = await registrySigner(update, chainId, registry as `0x${string}`, b.signature)
    const addresses = ethereumAddressesOfPubkey(author) ?? []
    if (signer === null || !addresses.some((a) => a.toLowerCase() === signer.toLowerCase())) {
      throw new FederationRequestError(
        'HANSA_REGISTRY_SIGNATURE',
        422,
        `the signature is not by ${author.slice(0, 12)}…'s key over the registry update of version ${known.manifest.version} (${known.hash.slice(0, 12)}…) for registry ${registry} on chain ${chainId}`,
      )
    }
    this.db
      .prepare(
        'INSERT OR REPLACE INTO registry_signatures (hash, guardian, chain_id, registry, signature, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(known.hash, author, chainId, registry, b.signature.toLowerCase(), this.options.now())
    return this.view(known.hash)
  }

  /** The signatures gathered for a manifest the node knows, for the registry it names. */
  view(hash: unknown): RegistrySignaturesView {
    const { registry, chainId } = this.registry()
    const known = this.known(hash)
    const rows = this.db
      .prepare(
        'SELECT guardian, signature FROM registry_signatures WHERE hash = ? AND chain_id = ? AND registry = ? ORDER BY guardian',
      )
      .all(known.hash, chainId, registry) as RegistrySignature[]
    return {
      hash: known.hash,
      version: known.manifest.version,
      federationId: known.federationId,
      chainId,
      registry,
      signatures: rows,
    }
  }

  close(): void {
    this.db.close()
  }
}

/** What a node knows by hash: its pending proposals and its chain's versions. */
export function knownManifests(federation: {
  federationId(): string | null
  chainFrom(version: number): { manifest: Manifest }[]
  signedHead(): { manifest: Manifest } | null
  proposals(): { hash: string; manifest: Manifest }[]
}): (hash: string) => KnownManifest | null {
  return (hash) => {
    const chain = federation.chainFrom(1).map((s) => s.manifest)
    const at = chain.findIndex((m) => manifestHash(m) === hash)
    const id = federation.federationId()
    if (at >= 0 && id !== null) {
      return { manifest: chain[at]!, previous: at > 0 ? chain[at - 1]! : null, federationId: id }
    }
    const pending = federation.proposals().find((p) => p.hash === hash)
    if (pending === undefined) return null
    const head = federation.signedHead()?.manifest ?? null
    // a genesis draft founds the federation whose id is its own hash
    return { manifest: pending.manifest, previous: head, federationId: id ?? hash }
  }
}
