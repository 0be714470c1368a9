// Keys: one secp256k1 secret per role gives a Nostr public key (BIP-340 x-only) and an
// Ethereum address (keccak of the uncompressed point), as DESIGN.md's "one curve" asks.
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

export function generateSecretKey(): Uint8Array {
  return schnorr.utils.randomSecretKey()
}

/** x-only public key, lowercase hex (what Nostr calls the pubkey). */
export function nostrPublicKey(secretKey: Uint8Array): string {
  return bytesToHex(schnorr.getPublicKey(secretKey))
}

/** EIP-55 checksummed Ethereum address of the same key. */
export function ethereumAddress(secretKey: Uint8Array): string {
  const uncompressed = secp256k1.getPublicKey(secretKey, false).subarray(1)
  const lower = bytesToHex(keccak_256(uncompressed).subarray(12))
  const checksum = bytesToHex(keccak_256(new TextEncoder().encode(lower)))
  let out = '0x'
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!
    out += Number.parseInt(checksum[i]!, 16) >= 8 ? c.toUpperCase() : c
  }
  return out
}

export function secretKeyFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('a secret key is 64 lowercase hex characters')
  const key = hexToBytes(hex)
  if (!secp256k1.utils.isValidSecretKey(key)) throw new Error('not a valid secp256k1 secret key')
  return key
}

export { bytesToHex, hexToBytes }
