// The one hex helper of the package: strict checks for the federation formats (keys and
// signatures are lowercase hex of an exact length, DESIGN.md "The manifest", so "ABCD" or
// "0xabcd" is refused, not normalised), the bytes/hex converters, and Ethereum addresses
// (EIP-55). Internal to the package: keys.ts exports what users need.
//
// EIP-55 is written here on @noble/hashes' keccak rather than taken from viem (a dependency
// of this package): importing viem/utils costs 150-400 ms on the 2-core machine, and every
// thread that imports @hansa/protocol (the store's reader and writer threads) would pay it.
import { schnorr } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

const LOWER_HEX = /^[0-9a-f]*$/

/** Lowercase hex of exactly `bytes` bytes. */
export function isLowerHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && LOWER_HEX.test(value)
}

/** Lowercase hex → bytes; the caller has checked the format with `isLowerHex`. */
export function lowerHexToBytes(hex: string): Uint8Array {
  if (!LOWER_HEX.test(hex) || hex.length % 2 !== 0) throw new TypeError('expected lowercase hex')
  return hexToBytes(hex)
}

export { bytesToHex, hexToBytes }

// Keys already found on the curve. lift_x costs a modular square root (~0.15 ms), and a chain
// repeats the same guardian, coordinator and node keys in every version; remembering a pure
// function's positive answers changes no result. Bounded: cleared when full.
const onCurve = new Set<string>()
const ON_CURVE_MAX = 4096

/** 64 lowercase hex characters that are the x coordinate of a secp256k1 point (BIP-340). */
export function isXOnlyPublicKey(value: unknown): value is string {
  if (!isLowerHex(value, 32)) return false
  if (onCurve.has(value)) return true
  try {
    schnorr.utils.lift_x(BigInt(`0x${value}`))
  } catch {
    return false
  }
  if (onCurve.size >= ON_CURVE_MAX) onCurve.clear()
  onCurve.add(value)
  return true
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** EIP-55: the checksummed form of 40 lowercase hex digits. */
function checksummed(lower: string): string {
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)))
  let out = '0x'
  for (let i = 0; i < lower.length; i++) {
    out += Number.parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!
  }
  return out
}

/**
 * An Ethereum address: `0x` and 40 hex digits, either all one case or with a valid EIP-55
 * checksum (mixed case that fails the checksum is a typo, so it is refused).
 */
export function isEthereumAddress(value: unknown): value is string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) return false
  const digits = value.slice(2)
  if (digits === digits.toLowerCase() || digits === digits.toUpperCase()) return true
  return checksummed(digits.toLowerCase()) === value
}

/** The EIP-55 address of an uncompressed secp256k1 public key (65 bytes, 0x04 first). */
export function addressOfPublicKey(uncompressed: Uint8Array): string {
  return checksummed(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)))
}
