// The pure-JS backend: @noble/curves' BIP-340 verify. Always available; the slowest
// (see verifier.ts for the numbers). noble returns false for malformed input rather than
// throwing, which is what SchnorrVerifier promises.
import { schnorr } from '@noble/curves/secp256k1.js'
import type { SchnorrVerifier } from './verifier.js'

export function nobleVerifier(): SchnorrVerifier {
  return {
    name: 'noble',
    verify(sig, msg, pubkey) {
      try {
        return schnorr.verify(sig, msg, pubkey)
      } catch {
        return false
      }
    },
  }
}
