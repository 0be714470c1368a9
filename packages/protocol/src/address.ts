// Ethereum addresses, from viem: the check a terms document, a cheque or a manifest's dev fund
// applies to an address, and the address of a secp256k1 key (the node key's, a payer's).
// viem costs its import (`viem/utils`, the narrowest entry that has these): the modules the
// node's worker threads load (the `@hansa/protocol/events` entry) do not import this one.
import { isAddress, publicKeyToAddress, toHex } from 'viem/utils'

/**
 * An Ethereum address: `0x` and 40 hex digits, either all one case or with a valid EIP-55
 * checksum (mixed case that fails the checksum is a typo, so it is refused).
 */
export function isEthereumAddress(value: unknown): value is string {
  if (typeof value !== 'string' || !isAddress(value, { strict: false })) return false
  const digits = value.slice(2)
  // viem's strict check takes all lowercase or a valid checksum; EIP-55 also allows all caps.
  return digits === digits.toUpperCase() || isAddress(value, { strict: true })
}

/** The EIP-55 address of an uncompressed secp256k1 public key (65 bytes, 0x04 first). */
export function addressOfPublicKey(uncompressed: Uint8Array): string {
  return publicKeyToAddress(toHex(uncompressed))
}
