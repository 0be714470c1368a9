// The federation's error catalogue: one class per rule a manifest, a manifest chain or an
// invite code can break, each with a stable code (HANSA_MANIFEST_*, HANSA_INVITE_INVALID, …)
// that programs match on, and a message a guardian or a user understands without the code:
// which version, how many valid signatures from which guardian set, which threshold.
import { HansaError } from './errors.js'
import type { ManifestGuardian, SignedManifest } from './manifest-types.js'

export type FederationErrorCode =
  | 'HANSA_CANONICAL_JSON'
  | 'HANSA_MANIFEST_INVALID'
  | 'HANSA_MANIFEST_GENESIS'
  | 'HANSA_MANIFEST_VERSION'
  | 'HANSA_MANIFEST_PREVIOUS'
  | 'HANSA_MANIFEST_THRESHOLD'
  | 'HANSA_MANIFEST_EXPIRED'
  | 'HANSA_MANIFEST_ROLLBACK'
  | 'HANSA_MANIFEST_FORK'
  | 'HANSA_MANIFEST_EDIT'
  | 'HANSA_MANIFEST_SIGNING_KEY'
  | 'HANSA_INVITE_INVALID'

/** Every code above, for documentation and for tests that pin the catalogue. */
export const FEDERATION_ERROR_CODES: readonly FederationErrorCode[] = [
  'HANSA_CANONICAL_JSON',
  'HANSA_MANIFEST_INVALID',
  'HANSA_MANIFEST_GENESIS',
  'HANSA_MANIFEST_VERSION',
  'HANSA_MANIFEST_PREVIOUS',
  'HANSA_MANIFEST_THRESHOLD',
  'HANSA_MANIFEST_EXPIRED',
  'HANSA_MANIFEST_ROLLBACK',
  'HANSA_MANIFEST_FORK',
  'HANSA_MANIFEST_EDIT',
  'HANSA_MANIFEST_SIGNING_KEY',
  'HANSA_INVITE_INVALID',
]

/** A value RFC 8785 cannot encode (NaN, Infinity, undefined in an array, a lone surrogate, …). */
export class CanonicalJsonError extends HansaError {
  override name = 'CanonicalJsonError'
  override readonly code = 'HANSA_CANONICAL_JSON'
  /** Where the value sits, as `$.a.b[2]`. */
  readonly path: string
  /** What is wrong with the value, e.g. "is NaN; only finite numbers are allowed". */
  readonly problem: string
  constructor(path: string, problem: string) {
    super('HANSA_CANONICAL_JSON', `Cannot encode as canonical JSON (RFC 8785): ${path} ${problem}`)
    this.path = path
    this.problem = problem
  }
}

/** One structural problem, located by a path such as `coordinators[0].nodes[1].urls[0]`. */
export type ManifestIssue = { path: string; message: string }

/** Where a manifest sits when it was checked as part of a chain. */
export type ChainPosition = { index: number; version?: number | undefined }

function where(position: ChainPosition | undefined): string {
  if (position === undefined) return 'Manifest'
  const version = position.version === undefined ? '' : ` (version ${position.version})`
  return `Manifest chain[${position.index}]${version}`
}

function formatIssue(issue: ManifestIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`
}

/** The manifest or its signed envelope does not have the shape DESIGN.md gives it. */
export class ManifestInvalidError extends HansaError {
  override name = 'ManifestInvalidError'
  override readonly code = 'HANSA_MANIFEST_INVALID'
  readonly issues: readonly ManifestIssue[]
  readonly position: ChainPosition | undefined
  constructor(issues: readonly ManifestIssue[], position?: ChainPosition) {
    const first = issues[0] ?? { path: '', message: 'unknown problem' }
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problems)` : ''
    super('HANSA_MANIFEST_INVALID', `${where(position)} is invalid: ${formatIssue(first)}${more}`, {
      details: issues.length > 1 ? issues.map(formatIssue).join('; ') : undefined,
    })
    this.issues = issues
    this.position = position
  }
}

export type GenesisProblem = 'empty' | 'version' | 'federation-id' | 'other-federation'

/** The chain does not start with the genesis manifest of the federation the caller trusts. */
export class ManifestGenesisError extends HansaError {
  override name = 'ManifestGenesisError'
  override readonly code = 'HANSA_MANIFEST_GENESIS'
  readonly problem: GenesisProblem
  constructor(problem: GenesisProblem, shortMessage: string, details?: string) {
    super('HANSA_MANIFEST_GENESIS', shortMessage, { details })
    this.problem = problem
  }
}

/** Version n+1 must follow version n: no gaps, no repeats. */
export class ManifestVersionError extends HansaError {
  override name = 'ManifestVersionError'
  override readonly code = 'HANSA_MANIFEST_VERSION'
  readonly index: number
  readonly expected: number
  readonly actual: number
  constructor(index: number, expected: number, actual: number) {
    super(
      'HANSA_MANIFEST_VERSION',
      `Manifest chain[${index}] has version ${actual}; expected version ${expected} ` +
        `(exactly one more than version ${expected - 1} before it)`,
    )
    this.index = index
    this.expected = expected
    this.actual = actual
  }
}

/** `previous` must be the hash of the manifest before it. */
export class ManifestPreviousError extends HansaError {
  override name = 'ManifestPreviousError'
  override readonly code = 'HANSA_MANIFEST_PREVIOUS'
  readonly version: number
  readonly expected: string
  readonly actual: string | null
  constructor(version: number, expected: string, actual: string | null) {
    super(
      'HANSA_MANIFEST_PREVIOUS',
      `Manifest version ${version} names previous ${actual === null ? 'null' : short(actual)}, ` +
        `but version ${version - 1}'s hash is ${short(expected)}`,
      { details: `expected previous ${expected}, got ${actual}` },
    )
    this.version = version
    this.expected = expected
    this.actual = actual
  }
}

/**
 * Which guardian set fell short: `own` is the manifest's own guardians (for genesis, the only
 * set), `previous` is the guardians of the version before it.
 */
export type GuardianSet = 'own' | 'previous'

export type ThresholdShortfall = {
  /** The version whose signatures were counted. */
  version: number
  set: GuardianSet
  /** The version that defines the guardian set and threshold (version or version - 1). */
  setVersion: number
  /** The whole guardian set whose signatures were counted. */
  guardians: readonly ManifestGuardian[]
  /** Those of `guardians` with a valid signature, each counted once. */
  signers: readonly ManifestGuardian[]
  threshold: number
}

function label(guardian: ManifestGuardian): string {
  return `${guardian.name} (${guardian.pubkey.slice(0, 8)}…)`
}

/** Fewer valid signatures than the threshold, from the old or from the new guardian set. */
export class ManifestThresholdError extends HansaError {
  override name = 'ManifestThresholdError'
  override readonly code = 'HANSA_MANIFEST_THRESHOLD'
  readonly version: number
  readonly set: GuardianSet
  readonly setVersion: number
  readonly guardians: readonly ManifestGuardian[]
  readonly signers: readonly ManifestGuardian[]
  readonly threshold: number
  constructor(shortfall: ThresholdShortfall) {
    const { version, set, setVersion, guardians, signers, threshold } = shortfall
    const n = guardians.length
    const whose =
      set === 'own' ? `its own ${n} guardians` : `version ${setVersion}'s ${n} guardians`
    const subject = version === 1 ? 'Genesis manifest (version 1)' : `Manifest version ${version}`
    const missing = guardians.filter((g) => !signers.includes(g))
    super(
      'HANSA_MANIFEST_THRESHOLD',
      `${subject} has ${signers.length} valid signature${signers.length === 1 ? '' : 's'} from ` +
        `${whose}; the threshold is ${threshold}`,
      {
        details:
          `signed by: ${signers.length === 0 ? 'none' : signers.map(label).join(', ')}; ` +
          `not signed by: ${missing.length === 0 ? 'none' : missing.map(label).join(', ')}. ` +
          'Each guardian key counts once; signatures by other keys are ignored.',
      },
    )
    this.version = version
    this.set = set
    this.setVersion = setVersion
    this.guardians = guardians
    this.signers = signers
    this.threshold = threshold
  }
}

/** The head of a chain has expired: an old head served again (a freeze attack) or a stale one. */
export class ManifestExpiredError extends HansaError {
  override name = 'ManifestExpiredError'
  override readonly code = 'HANSA_MANIFEST_EXPIRED'
  readonly version: number
  readonly expiresAt: number
  readonly now: number
  constructor(version: number, expiresAt: number, now: number) {
    super(
      'HANSA_MANIFEST_EXPIRED',
      `Manifest version ${version}, the newest in the chain, expired at ${isoTime(expiresAt)} ` +
        `(now is ${isoTime(now)})`,
      {
        details:
          'Versions on the way may have expired, the newest may not: fetch a newer version ' +
          'from another node, or ask the guardians to sign one.',
      },
    )
    this.version = version
    this.expiresAt = expiresAt
    this.now = now
  }
}

/** A verified head is older than the one already stored. */
export class ManifestRollbackError extends HansaError {
  override name = 'ManifestRollbackError'
  override readonly code = 'HANSA_MANIFEST_ROLLBACK'
  readonly storedVersion: number
  readonly candidateVersion: number
  constructor(storedVersion: number, candidateVersion: number) {
    super(
      'HANSA_MANIFEST_ROLLBACK',
      `Refusing manifest version ${candidateVersion}: version ${storedVersion} was already ` +
        'verified, and a federation never goes back to a lower version (rollback)',
    )
    this.storedVersion = storedVersion
    this.candidateVersion = candidateVersion
  }
}

/** Two different manifests, both verified, claim the same version: report both. */
export class ManifestForkError extends HansaError {
  override name = 'ManifestForkError'
  override readonly code = 'HANSA_MANIFEST_FORK'
  readonly version: number
  readonly storedHash: string
  readonly candidateHash: string
  readonly stored: SignedManifest
  readonly candidate: SignedManifest
  constructor(fork: {
    version: number
    storedHash: string
    candidateHash: string
    stored: SignedManifest
    candidate: SignedManifest
  }) {
    super(
      'HANSA_MANIFEST_FORK',
      `Two different manifests claim version ${fork.version}: the stored one ` +
        `${short(fork.storedHash)} and the received one ${short(fork.candidateHash)} (fork)`,
      {
        details:
          `stored ${fork.storedHash}, received ${fork.candidateHash}. Both carry a threshold of ` +
          'guardian signatures, so guardians signed conflicting versions: keep the stored one and ' +
          'report both to the guardians.',
      },
    )
    this.version = fork.version
    this.storedHash = fork.storedHash
    this.candidateHash = fork.candidateHash
    this.stored = fork.stored
    this.candidate = fork.candidate
  }
}

/** A proposal's edit does not apply to the manifest it was drafted from. */
export class ManifestEditError extends HansaError {
  override name = 'ManifestEditError'
  override readonly code = 'HANSA_MANIFEST_EDIT'
  readonly editIndex: number
  readonly op: string
  constructor(editIndex: number, op: string, version: number, problem: string) {
    super(
      'HANSA_MANIFEST_EDIT',
      `Edit ${editIndex} (${op}) cannot be applied to manifest version ${version}: ${problem}`,
    )
    this.editIndex = editIndex
    this.op = op
  }
}

/** The secret key given to sign a manifest is not a valid secp256k1 secret key. */
export class ManifestSigningKeyError extends HansaError {
  override name = 'ManifestSigningKeyError'
  override readonly code = 'HANSA_MANIFEST_SIGNING_KEY'
  constructor(problem: string, cause?: unknown) {
    super('HANSA_MANIFEST_SIGNING_KEY', `Cannot sign the manifest: ${problem}`, { cause })
  }
}

/** An invite code that does not decode, or that cannot be encoded from what was given. */
export class InviteCodeInvalidError extends HansaError {
  override name = 'InviteCodeInvalidError'
  override readonly code = 'HANSA_INVITE_INVALID'
  readonly reason: string
  constructor(reason: string, cause?: unknown) {
    super('HANSA_INVITE_INVALID', `Invalid invite code: ${reason}`, { cause })
    this.reason = reason
  }
}

function short(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 12)}…` : hash
}

function isoTime(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000)
  const iso = Number.isNaN(date.getTime()) ? '?' : date.toISOString().replace('.000Z', 'Z')
  return `${iso} (unix ${unixSeconds})`
}
