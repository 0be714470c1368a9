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
import { getPublicKey } from 'nostr-tools/pure'

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
  secretKey: Uint8Array
  perCoordinator?: boolean
}

/** The secret key the user signs with at `coordinator`. */
export function keyFor(identity: OrderIdentity, coordinator: string): Uint8Array {
  return identity.perCoordinator === true
    ? deriveCoordinatorKey(identity.secretKey, coordinator)
    : identity.secretKey
}

/** The pubkey the user is known by at `coordinator`. */
export function pubkeyFor(identity: OrderIdentity, coordinator: string): string {
  return getPublicKey(keyFor(identity, coordinator))
}
