// The one hex helper of the package: strict checks for the federation formats (keys and
// signatures are lowercase hex of an exact length, DESIGN.md "The manifest", so "ABCD" or
// "0xabcd" is refused, not normalised), the bytes/hex converters, and x-only keys. Internal
// to the package: keys.ts exports what users need. Ethereum addresses are address.ts's (viem),
// kept apart so that the modules the node's threads load (events.ts) never import viem.
import { schnorr } from '@noble/curves/secp256k1.js'
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
