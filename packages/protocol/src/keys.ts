// Keys: one secp256k1 secret per role gives a Nostr public key (BIP-340 x-only) and an
// Ethereum address (keccak of the uncompressed point), as DESIGN.md's "one curve" asks.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { addressOfPublicKey } from './address.js'
import { bytesToHex, hexToBytes } from './hex.js'

export function generateSecretKey(): Uint8Array {
  return schnorr.utils.randomSecretKey()
}

/** x-only public key, lowercase hex (what Nostr calls the pubkey). */
export function nostrPublicKey(secretKey: Uint8Array): string {
  return bytesToHex(schnorr.getPublicKey(secretKey))
}

/** EIP-55 checksummed Ethereum address of the same key. */
export function ethereumAddress(secretKey: Uint8Array): string {
  return addressOfPublicKey(secp256k1.getPublicKey(secretKey, false))
}

/**
 * The two Ethereum addresses an x-only pubkey may stand for (its point with even y, then odd
 * y): BIP-340 drops y, ECDSA recovers the full point, so a signature by the same secret
 * recovers to one of these two. What the FederationRegistry computes on chain; null when the
 * pubkey is not on the curve.
 */
export function ethereumAddressesOfPubkey(pubkey: string): [string, string] | null {
  if (!/^[0-9a-f]{64}$/.test(pubkey)) return null
  try {
    const even = secp256k1.Point.fromHex(`02${pubkey}`)
    const odd = secp256k1.Point.fromHex(`03${pubkey}`)
    return [addressOfPublicKey(even.toBytes(false)), addressOfPublicKey(odd.toBytes(false))]
  } catch {
    return null
  }
}

export function secretKeyFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('a secret key is 64 lowercase hex characters')
  const key = hexToBytes(hex)
  if (!secp256k1.utils.isValidSecretKey(key)) throw new Error('not a valid secp256k1 secret key')
  return key
}

export { bytesToHex, hexToBytes }
