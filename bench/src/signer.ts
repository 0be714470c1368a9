// The event signer used to pre-sign the corpus: nostr-tools' `finalizeEvent`, from its WASM
// backend (libsecp256k1 compiled to WebAssembly, ~0.4 ms an event on a 2024 server core) when
// it loads, else from its pure-JS backend (`nostr-tools/pure`, ~2.5 ms an event). Both give
// the same events; only the time to prepare a run differs. Signing is never timed.
import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core'

export type SignerBackend = 'wasm' | 'pure'

export interface Signer {
  readonly backend: SignerBackend
  /** A signed copy of `template` (id, pubkey and sig filled in). */
  finalize(template: EventTemplate, secretKey: Uint8Array): VerifiedEvent
  publicKey(secretKey: Uint8Array): string
  secretKey(): Uint8Array
}

async function loadWasm(): Promise<Signer> {
  const { initNostrWasm } = await import('nostr-wasm')
  const wasm = await import('nostr-tools/wasm')
  wasm.setNostrWasm(await initNostrWasm())
  return {
    backend: 'wasm',
    // nostr-tools/wasm fills in the object it is given; sign a copy so templates stay intact.
    finalize: (t, sk) => wasm.finalizeEvent({ ...t, tags: t.tags }, sk),
    publicKey: wasm.getPublicKey,
    secretKey: wasm.generateSecretKey,
  }
}

async function loadPure(): Promise<Signer> {
  const pure = await import('nostr-tools/pure')
  return {
    backend: 'pure',
    finalize: pure.finalizeEvent,
    publicKey: pure.getPublicKey,
    secretKey: pure.generateSecretKey,
  }
}

/** `auto` takes WASM if it loads, else the pure-JS backend. */
export async function loadSigner(backend: SignerBackend | 'auto' = 'auto'): Promise<Signer> {
  if (backend === 'pure') return loadPure()
  if (backend === 'wasm') return loadWasm()
  try {
    return await loadWasm()
  } catch {
    return loadPure()
  }
}
