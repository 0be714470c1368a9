// Manifest hashes and guardian signatures: the hash is sha256 of the RFC 8785 canonical bytes,
// the signature is BIP-340 Schnorr over that 32-byte hash, both in lowercase hex (DESIGN.md
// "The manifest"). A guardian signs only a manifest that is structurally valid.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { canonicalBytes } from './canonical-json.js'
import { ManifestInvalidError, ManifestSigningKeyError } from './federation-errors.js'
import { bytesToHex, isLowerHex, lowerHexToBytes } from './hex.js'
import type {
  Manifest,
  ManifestGuardian,
  ManifestSignature,
  SignedManifest,
} from './manifest-types.js'
import { manifestIssues } from './manifest-validation.js'

/** sha256 of the manifest's canonical bytes: what guardians sign and `previous` names. */
export function manifestHashBytes(manifest: Manifest): Uint8Array {
  return sha256(canonicalBytes(manifest))
}

/** sha256 of the manifest's canonical bytes, lowercase hex. */
export function manifestHash(manifest: Manifest): string {
  return bytesToHex(manifestHashBytes(manifest))
}

export type SignManifestOptions = {
  /**
   * BIP-340 auxiliary randomness (32 bytes). Leave it out in real use (fresh randomness is
   * drawn); pass fixed bytes only for reproducible test vectors.
   */
  auxRand?: Uint8Array
}

function secretKeyBytes(secretKey: Uint8Array | string): Uint8Array {
  let bytes: Uint8Array
  if (typeof secretKey === 'string') {
    if (!isLowerHex(secretKey, 32)) {
      throw new ManifestSigningKeyError('a secret key is 32 bytes or 64 lowercase hex characters')
    }
    bytes = lowerHexToBytes(secretKey)
  } else if (secretKey instanceof Uint8Array && secretKey.length === 32) {
    bytes = secretKey
  } else {
    throw new ManifestSigningKeyError('a secret key is 32 bytes or 64 lowercase hex characters')
  }
  if (!secp256k1.utils.isValidSecretKey(bytes)) {
    throw new ManifestSigningKeyError('the secret key is zero or not below the curve order')
  }
  return bytes
}

/**
 * A guardian's signature of a manifest: `{ pubkey, sig }` with the x-only key of `secretKey`.
 * Throws ManifestInvalidError for a malformed manifest, ManifestSigningKeyError for a bad key.
 */
export function signManifest(
  manifest: Manifest,
  secretKey: Uint8Array | string,
  options: SignManifestOptions = {},
): ManifestSignature {
  const issues = manifestIssues(manifest)
  if (issues.length > 0) throw new ManifestInvalidError(issues)
  const key = secretKeyBytes(secretKey)
  const sig = schnorr.sign(manifestHashBytes(manifest), key, options.auxRand)
  return { pubkey: bytesToHex(schnorr.getPublicKey(key)), sig: bytesToHex(sig) }
}

function verifyHash(hash: Uint8Array, signature: ManifestSignature): boolean {
  if (!isLowerHex(signature.pubkey, 32) || !isLowerHex(signature.sig, 64)) return false
  try {
    return schnorr.verify(lowerHexToBytes(signature.sig), hash, lowerHexToBytes(signature.pubkey))
  } catch {
    return false
  }
}

/** Whether `signature` is a valid BIP-340 signature of the manifest by `signature.pubkey`. */
export function verifyManifestSignature(manifest: Manifest, signature: ManifestSignature): boolean {
  return verifyHash(manifestHashBytes(manifest), signature)
}

/**
 * The keys among `candidates` that validly signed the manifest, each once. Entries by other
 * keys are skipped without being verified; a key with several entries counts if any is valid.
 */
export function validSignatureKeys(
  signed: SignedManifest,
  candidates: ReadonlySet<string>,
  hash: Uint8Array = manifestHashBytes(signed.manifest),
  check: SignatureCheck = verifyHash,
): Set<string> {
  const valid = new Set<string>()
  for (const signature of signed.signatures) {
    if (!candidates.has(signature.pubkey) || valid.has(signature.pubkey)) continue
    if (check(hash, signature)) valid.add(signature.pubkey)
  }
  return valid
}

/**
 * Whether `signature` is a valid BIP-340 signature of the 32-byte `hash`. The default checks
 * it here; a node passes the answers its verify threads already gave, so no check runs on its
 * event loop.
 */
export type SignatureCheck = (hash: Uint8Array, signature: ManifestSignature) => boolean

/**
 * The guardians (of `guardians`, in that order) with a valid signature on the signed manifest,
 * each counted once. Pass the manifest's own guardians or those of the version before it.
 */
export function validSigners(
  signed: SignedManifest,
  guardians: readonly ManifestGuardian[],
): ManifestGuardian[] {
  const valid = validSignatureKeys(signed, new Set(guardians.map((g) => g.pubkey)))
  return guardians.filter((g) => valid.has(g.pubkey))
}
