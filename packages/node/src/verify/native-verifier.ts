// The native backend: Debian's libsecp256k1 through the small Node-API addon in
// packages/node/native (secp256k1_verify.c), built by @hansa/node's install script when
// libsecp256k1-dev is present. Loading throws when the addon was not built; verifier.ts then
// falls back to wasm. The addon is context-aware, so every worker thread can load it.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { SchnorrVerifier } from './verifier.js'

type NativeAddon = {
  verify(sig: Uint8Array, msg: Uint8Array, pubkey: Uint8Array): boolean
  verifyBatch(records: Uint8Array): Uint8Array
  /** Since addon version 2. */
  checkEvents?(records: Uint8Array): Uint8Array
  version: string
}

/** Where install builds the addon: packages/node/native/build/Release, from dist/verify/. */
export const NATIVE_ADDON_PATH = new URL(
  '../../native/build/Release/secp256k1_verify.node',
  import.meta.url,
)

export function loadNativeVerifier(): SchnorrVerifier {
  const addon = createRequire(import.meta.url)(fileURLToPath(NATIVE_ADDON_PATH)) as NativeAddon
  return {
    name: 'native',
    verify: (sig, msg, pubkey) => addon.verify(sig, msg, pubkey),
    verifyBatch: (records) => addon.verifyBatch(records),
    // An addon built before checkEvents existed still verifies, through verifyBatch.
    ...(addon.checkEvents ? { checkEvents: addon.checkEvents } : {}),
  }
}
