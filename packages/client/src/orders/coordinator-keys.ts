// One key per coordinator, for users who want their trades unlinkable across coordinators.
//
// A coordinator knows a user by the key that signs her requests (RoboSats's robot): with one
// key everywhere, every coordinator — and anyone comparing their public books, since orders
// name their maker — can tell that the same person trades with all of them. A per-coordinator
// key is derived from the user's one secret, so there is still one thing to back up:
//
//   key(coordinator) = HKDF-SHA256(ikm = user secret (32 bytes),
//                                  salt = "hansa/orderbook/coordinator-key/v1",
//                                  info = coordinator pubkey (32 bytes) [ || counter byte ],
//                                  length = 32)
//
// The counter byte is appended (1, 2, …) only in the astronomically unlikely case the output
// is not a valid secp256k1 secret key. The trade-off, in docs/orderbook.md: reputation and
// history do not carry over between coordinators; the user's inbox notices for a coordinator go
// to that coordinator's key; and unlinkability holds only for keys — the same IP address or
// payment details still link her.
import { isHex64 } from '@hansa/protocol'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { SignerError } from '../errors.js'
import { type NostrSigner, localSigner } from '../signer.js'

export const COORDINATOR_KEY_SALT = 'hansa/orderbook/coordinator-key/v1'

const hexToBytes = (hex: string): Uint8Array => {
  if (!isHex64(hex)) {
    throw new TypeError('a coordinator pubkey is 64 lowercase hex characters')
  }
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** The user's secret key for one coordinator (HKDF-SHA256, see above). Deterministic. */
export function deriveCoordinatorKey(
  userSecret: Uint8Array,
  coordinatorPubkey: string,
): Uint8Array {
  if (userSecret.length !== 32) throw new TypeError('a secret key is 32 bytes')
  const info = hexToBytes(coordinatorPubkey)
  const salt = new TextEncoder().encode(COORDINATOR_KEY_SALT)
  for (let counter = 0; counter < 256; counter++) {
    const withCounter = counter === 0 ? info : Uint8Array.from([...info, counter])
    const key = hkdf(sha256, userSecret, salt, withCounter, 32)
    if (secp256k1.utils.isValidSecretKey(key)) return key
  }
  throw new Error('no valid key derived') // unreachable: each try fails with probability ~2^-128
}

/**
 * Who the user is to each coordinator: one key everywhere (`perCoordinator` false, the default)
 * or a derived key per coordinator.
 */
export type OrderIdentity = {
  /** Her secret key; or `signer`, a key held elsewhere (a NIP-07 extension, signer.ts). */
  secretKey?: Uint8Array
  signer?: NostrSigner
  perCoordinator?: boolean
}

/**
 * The secret key the user signs with at `coordinator`. Keys are derived from the secret
 * itself, so a signer that does not hand it out (NIP-07) cannot have per-coordinator keys.
 */
export function keyFor(identity: OrderIdentity, coordinator: string): Uint8Array {
  const secret = identity.secretKey ?? identity.signer?.secretKey
  if (secret === undefined) {
    throw new SignerError(
      'HANSA_SIGNER_NEEDS_SECRET',
      'per-coordinator order keys are derived from the key itself, which the browser signer (NIP-07) does not hand out',
      'Trade under the signer’s one key (linkable across coordinators), or use a key kept in this browser for per-coordinator keys.',
    )
  }
  return identity.perCoordinator === true ? deriveCoordinatorKey(secret, coordinator) : secret
}

/** What signs the user's order requests at `coordinator`. */
export function signerFor(identity: OrderIdentity, coordinator: string): NostrSigner {
  if (identity.perCoordinator !== true && identity.signer !== undefined) return identity.signer
  return localSigner(keyFor(identity, coordinator))
}

/** The pubkey the user is known by at `coordinator`. */
export function pubkeyFor(identity: OrderIdentity, coordinator: string): string {
  return signerFor(identity, coordinator).pubkey
}
