// The manifest chain, verified like TUF root metadata (DESIGN.md "The manifest"), the
// rollback and fork checks a client runs against the head it already trusts, and the draft of
// the next version that a guardian's proposal starts from.
//
// Rules, checked entry by entry, oldest first; the first rule broken is the one reported:
//  1. HANSA_MANIFEST_INVALID   the entry is a well-formed `{ manifest, signatures }`.
//  2. HANSA_MANIFEST_GENESIS   chain[0] is version 1 and its hash is the federation id.
//     HANSA_MANIFEST_VERSION   chain[i] is exactly one version above chain[i-1].
//  3. HANSA_MANIFEST_PREVIOUS  chain[i].previous is the hash of chain[i-1].
//  4. HANSA_MANIFEST_THRESHOLD at least threshold(i-1) valid signatures by chain[i-1]'s
//                              guardians (skipped for genesis), then at least threshold(i) by
//                              chain[i]'s own guardians. A key counts once; others are ignored.
//  5. HANSA_MANIFEST_EXPIRED   the last entry (the head) has not expired: now < expiresAt.
//                              Entries on the way may have expired.
// A failure stops verification: nothing after a broken entry is trusted, and no partial head
// is returned (it could be an expired one, which is what a freeze attack serves).
import { isFederationId } from './federation-id.js'
import { bytesToHex } from './hex.js'
import {
  ManifestEditError,
  ManifestExpiredError,
  ManifestForkError,
  ManifestGenesisError,
  ManifestInvalidError,
  ManifestPreviousError,
  ManifestRollbackError,
  ManifestThresholdError,
  ManifestVersionError,
} from './federation-errors.js'
import type {
  DevFund,
  JsonObject,
  Manifest,
  ManifestCoordinator,
  ManifestGuardian,
  ManifestNode,
  SignedManifest,
} from './manifest-types.js'
import { manifestIssues, signedManifestIssues } from './manifest-validation.js'
import {
  type SignatureCheck,
  manifestHash,
  manifestHashBytes,
  validSignatureKeys,
} from './manifest-signing.js'

/** The newest manifest of a chain that passed every rule. */
export type VerifiedHead = {
  federationId: string
  version: number
  /** manifestHash of the head. */
  hash: string
  manifest: Manifest
  /** The head as received, with its signatures. */
  signed: SignedManifest
  /** Every manifest's hash, oldest first: hashes[v - 1] is version v's (for fork checks). */
  hashes: readonly string[]
  /** The verified chain as received, oldest first (the entries themselves, not copies). */
  chain: readonly SignedManifest[]
}

export type ChainError =
  | ManifestInvalidError
  | ManifestGenesisError
  | ManifestVersionError
  | ManifestPreviousError
  | ManifestThresholdError
  | ManifestExpiredError

export type ChainVerification = { ok: true; head: VerifiedHead } | { ok: false; error: ChainError }

export type VerifyChainOptions = {
  /** The current time in unix seconds (passed in: protocol code reads no clock). */
  now: number
  /** How a guardian signature is checked (default: here, with @noble/curves). */
  checkSignature?: SignatureCheck
}

function signersOf(
  guardians: readonly ManifestGuardian[],
  valid: ReadonlySet<string>,
): ManifestGuardian[] {
  return guardians.filter((g) => valid.has(g.pubkey))
}

/**
 * Verifies a manifest chain (a JSON array of signed manifests, oldest first) against the
 * federation id the caller trusts, and returns the verified head or the first rule broken.
 */
export function verifyChain(
  federationId: string,
  chain: readonly unknown[],
  options: VerifyChainOptions,
): ChainVerification {
  const fail = (error: ChainError): ChainVerification => ({ ok: false, error })
  if (!Number.isFinite(options.now)) throw new TypeError('verifyChain: now must be unix seconds')
  if (!isFederationId(federationId)) {
    return fail(
      new ManifestGenesisError(
        'federation-id',
        'The federation id to verify against is not 64 lowercase hex characters',
      ),
    )
  }
  if (!Array.isArray(chain)) {
    return fail(
      new ManifestInvalidError([
        { path: '', message: 'a chain is a JSON array of signed manifests, oldest first' },
      ]),
    )
  }
  if (chain.length === 0) {
    return fail(
      new ManifestGenesisError('empty', 'The manifest chain is empty; it must start with genesis'),
    )
  }

  const hashes: string[] = []
  const verified: SignedManifest[] = []
  let before: Manifest | undefined
  for (let index = 0; index < chain.length; index++) {
    const entry: unknown = chain[index]
    const issues = signedManifestIssues(entry)
    if (issues.length > 0) {
      const version = (entry as { manifest?: { version?: unknown } } | null)?.manifest?.version
      return fail(
        new ManifestInvalidError(issues, {
          index,
          version: Number.isSafeInteger(version) ? (version as number) : undefined,
        }),
      )
    }
    const signed = entry as SignedManifest
    const manifest = signed.manifest
    const hashBytes = manifestHashBytes(manifest)
    const hash = bytesToHex(hashBytes)

    if (before === undefined) {
      if (manifest.version !== 1) {
        return fail(
          new ManifestGenesisError(
            'version',
            `The manifest chain starts at version ${manifest.version}; it must start with the ` +
              'genesis manifest (version 1)',
          ),
        )
      }
      if (hash !== federationId) {
        return fail(
          new ManifestGenesisError(
            'federation-id',
            `The genesis manifest's hash ${hash.slice(0, 12)}… is not the federation id ` +
              `${federationId.slice(0, 12)}…: this chain belongs to another federation`,
            `genesis hash ${hash}, federation id ${federationId}`,
          ),
        )
      }
    } else {
      if (manifest.version !== before.version + 1) {
        return fail(new ManifestVersionError(index, before.version + 1, manifest.version))
      }
      const previousHash = hashes[index - 1]!
      if (manifest.previous !== previousHash) {
        return fail(new ManifestPreviousError(manifest.version, previousHash, manifest.previous))
      }
    }

    const candidates = new Set(manifest.guardians.map((g) => g.pubkey))
    for (const g of before?.guardians ?? []) candidates.add(g.pubkey)
    const valid = validSignatureKeys(signed, candidates, hashBytes, options.checkSignature)
    if (before !== undefined) {
      const signers = signersOf(before.guardians, valid)
      if (signers.length < before.threshold) {
        return fail(
          new ManifestThresholdError({
            version: manifest.version,
            set: 'previous',
            setVersion: before.version,
            guardians: before.guardians,
            signers,
            threshold: before.threshold,
          }),
        )
      }
    }
    const signers = signersOf(manifest.guardians, valid)
    if (signers.length < manifest.threshold) {
      return fail(
        new ManifestThresholdError({
          version: manifest.version,
          set: 'own',
          setVersion: manifest.version,
          guardians: manifest.guardians,
          signers,
          threshold: manifest.threshold,
        }),
      )
    }
    hashes.push(hash)
    verified.push(signed)
    before = manifest
  }

  const head = verified[verified.length - 1]!
  if (options.now >= head.manifest.expiresAt) {
    return fail(
      new ManifestExpiredError(head.manifest.version, head.manifest.expiresAt, options.now),
    )
  }
  return {
    ok: true,
    head: {
      federationId,
      version: head.manifest.version,
      hash: hashes[hashes.length - 1]!,
      manifest: head.manifest,
      signed: head,
      hashes,
      chain: verified,
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Rollback and fork detection against the head a client or node already stored.

/** The least a stored head needs to be compared: its version and hash. */
export type HeadRef = { version: number; hash: string; hashes?: readonly string[] | undefined }

export type HeadComparison = 'same' | 'newer' | 'rollback' | 'fork'

/**
 * How a candidate head relates to the stored one: `same` version and hash; `newer` version
 * (whose chain, when its `hashes` are known, passes through the stored head); `rollback` to a
 * lower version; `fork`, a different manifest at the stored version.
 */
export function compareHeads(stored: HeadRef, candidate: HeadRef): HeadComparison {
  if (candidate.version < stored.version) return 'rollback'
  if (candidate.version === stored.version) {
    return candidate.hash === stored.hash ? 'same' : 'fork'
  }
  const through = candidate.hashes?.[stored.version - 1]
  if (through !== undefined && through !== stored.hash) return 'fork'
  return 'newer'
}

/** What a client or node keeps: at least the verified head itself. */
export type StoredHead = Pick<VerifiedHead, 'federationId' | 'version' | 'hash' | 'signed'>

export type HeadDecision =
  | {
      ok: true
      /** The head to keep from now on. */
      head: StoredHead | VerifiedHead
      /** Whether it differs from the stored one. */
      changed: boolean
    }
  | { ok: false; error: ManifestRollbackError | ManifestForkError | ManifestGenesisError }

/**
 * Decides whether to adopt a verified candidate head over the stored one: never a lower
 * version (rollback), never a different manifest at the same version, or a chain that passes
 * through one (fork: the error carries both signed manifests).
 */
export function acceptHead(stored: StoredHead | undefined, candidate: VerifiedHead): HeadDecision {
  if (stored === undefined) return { ok: true, head: candidate, changed: true }
  if (stored.federationId !== candidate.federationId) {
    return {
      ok: false,
      error: new ManifestGenesisError(
        'other-federation',
        `The received head belongs to federation ${candidate.federationId.slice(0, 12)}…, ` +
          `not to the stored federation ${stored.federationId.slice(0, 12)}…`,
      ),
    }
  }
  switch (compareHeads(stored, candidate)) {
    case 'same':
      return { ok: true, head: stored, changed: false }
    case 'newer':
      return { ok: true, head: candidate, changed: true }
    case 'rollback':
      return { ok: false, error: new ManifestRollbackError(stored.version, candidate.version) }
    case 'fork': {
      const at = stored.version
      const other = candidate.chain[at - 1] ?? candidate.signed
      return {
        ok: false,
        error: new ManifestForkError({
          version: at,
          storedHash: stored.hash,
          candidateHash: candidate.hashes[at - 1] ?? candidate.hash,
          stored: stored.signed,
          candidate: other,
        }),
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Proposals: the draft of version n+1 that guardians review (diffManifests) and sign.

export type ManifestEdit =
  | { op: 'set-name'; name: string }
  | { op: 'add-guardian'; guardian: ManifestGuardian }
  | { op: 'remove-guardian'; pubkey: string }
  | { op: 'set-guardians'; guardians: ManifestGuardian[] }
  | { op: 'set-threshold'; threshold: number }
  | { op: 'add-coordinator'; coordinator: ManifestCoordinator }
  | { op: 'remove-coordinator'; pubkey: string }
  | {
      op: 'update-coordinator'
      pubkey: string
      /** Fields to replace; a field set to undefined is removed (badges, policies). */
      changes: Partial<Omit<ManifestCoordinator, 'pubkey' | 'nodes'>>
    }
  | { op: 'add-node'; coordinator: string; node: ManifestNode }
  | { op: 'remove-node'; pubkey: string }
  | { op: 'update-node'; pubkey: string; urls?: string[]; services?: string[] }
  | { op: 'set-service'; service: string; params: JsonObject }
  | { op: 'remove-service'; service: string }
  | { op: 'set-dev-fund'; devFund: DevFund }

export type DraftValidity = { issuedAt: number; expiresAt: number }

function applyEdit(draft: Manifest, edit: ManifestEdit, index: number, from: number): void {
  const refuse = (problem: string): never => {
    throw new ManifestEditError(index, String((edit as { op?: unknown }).op), from, problem)
  }
  const coordinatorOf = (pubkey: string): ManifestCoordinator =>
    draft.coordinators.find((c) => c.pubkey === pubkey) ??
    refuse(`no coordinator ${pubkey.slice(0, 12)}… in the manifest`)
  const nodeOf = (pubkey: string): [ManifestCoordinator, number] => {
    for (const coordinator of draft.coordinators) {
      const at = coordinator.nodes.findIndex((n) => n.pubkey === pubkey)
      if (at >= 0) return [coordinator, at]
    }
    return refuse(`no node ${pubkey.slice(0, 12)}… in the manifest`)
  }
  switch (edit.op) {
    case 'set-name':
      draft.name = edit.name
      return
    case 'add-guardian':
      if (draft.guardians.some((g) => g.pubkey === edit.guardian.pubkey)) {
        refuse(`guardian ${edit.guardian.pubkey.slice(0, 12)}… is already a guardian`)
      }
      draft.guardians.push(structuredClone(edit.guardian))
      return
    case 'remove-guardian': {
      const before = draft.guardians.length
      draft.guardians = draft.guardians.filter((g) => g.pubkey !== edit.pubkey)
      if (draft.guardians.length === before) {
        refuse(`no guardian ${edit.pubkey.slice(0, 12)}… in the manifest`)
      }
      return
    }
    case 'set-guardians':
      draft.guardians = structuredClone(edit.guardians)
      return
    case 'set-threshold':
      draft.threshold = edit.threshold
      return
    case 'add-coordinator':
      if (draft.coordinators.some((c) => c.pubkey === edit.coordinator.pubkey)) {
        refuse(`coordinator ${edit.coordinator.pubkey.slice(0, 12)}… is already a member`)
      }
      draft.coordinators.push(structuredClone(edit.coordinator))
      return
    case 'remove-coordinator':
      coordinatorOf(edit.pubkey)
      draft.coordinators = draft.coordinators.filter((c) => c.pubkey !== edit.pubkey)
      return
    case 'update-coordinator': {
      const coordinator = coordinatorOf(edit.pubkey)
      for (const [field, value] of Object.entries(edit.changes)) {
        if (field === 'pubkey' || field === 'nodes') refuse(`${field} cannot be updated`)
        const target = coordinator as Record<string, unknown>
        if (value === undefined) delete target[field]
        else target[field] = structuredClone(value)
      }
      return
    }
    case 'add-node':
      coordinatorOf(edit.coordinator).nodes.push(structuredClone(edit.node))
      return
    case 'remove-node': {
      const [coordinator, at] = nodeOf(edit.pubkey)
      coordinator.nodes.splice(at, 1)
      return
    }
    case 'update-node': {
      const [coordinator, at] = nodeOf(edit.pubkey)
      const node = coordinator.nodes[at]!
      if (edit.urls !== undefined) node.urls = [...edit.urls]
      if (edit.services !== undefined) node.services = [...edit.services]
      return
    }
    case 'set-service':
      draft.services[edit.service] = structuredClone(edit.params)
      return
    case 'remove-service':
      if (draft.services[edit.service] === undefined) {
        refuse(`the federation runs no service "${edit.service}"`)
      }
      delete draft.services[edit.service]
      return
    case 'set-dev-fund':
      draft.devFund = { ...edit.devFund }
      return
    default:
      refuse(`unknown edit ${JSON.stringify((edit as { op?: unknown }).op)}`)
  }
}

/**
 * The draft of the next version: `head` with the edits applied, version + 1, `previous` set to
 * head's hash, and the given validity. The draft is checked as a whole, so an edit that leaves
 * the manifest inconsistent (threshold above the guardian count, a node serving a removed
 * service) is refused. Throws ManifestEditError or ManifestInvalidError; never changes `head`.
 */
export function nextManifestDraft(
  head: Manifest,
  edits: readonly ManifestEdit[],
  validity: DraftValidity,
): Manifest {
  const version = head.version + 1
  const draft: Manifest = {
    ...structuredClone(head),
    version,
    previous: manifestHash(head),
    issuedAt: validity.issuedAt,
    expiresAt: validity.expiresAt,
  }
  for (const [index, edit] of edits.entries()) applyEdit(draft, edit, index, head.version)
  const issues = manifestIssues(draft)
  if (issues.length > 0) throw new ManifestInvalidError(issues)
  return draft
}
