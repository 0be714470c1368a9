// The WASM backend: libsecp256k1 compiled to WebAssembly, the binary that nostr-wasm 0.1.0
// ships (public/out/secp256k1.wasm, identical to the one inlined in its dist/main.js).
// nostr-wasm's own API verifies whole events only (it recomputes the id itself), so this
// module instantiates the same binary and calls libsecp256k1's xonly_pubkey_parse and
// schnorrsig_verify directly. The export names are minified ('u' = schnorrsig_verify); the
// mapping below is copied from nostr-wasm's dist/nostr.js and is valid for 0.1.0 exactly, which
// is why the dependency is pinned. The self-test in verifier.ts catches a mismatch.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { SchnorrVerifier } from './verifier.js'

// The WebAssembly global exists in Node, but its types live in lib.dom, which a server
// package does not load; declare the little this module uses.
declare const WebAssembly: {
  instantiate(binary: Uint8Array, imports: object): Promise<{ instance: { exports: object } }>
}

type Exports = {
  g: { buffer: ArrayBuffer } // memory
  h: () => void // init
  i: (size: number) => number // malloc
  j: (pointer: number) => void // free
  o: (flags: number) => number // secp256k1_context_create
  p: (ctx: number, pubkey: number, input32: number) => number // secp256k1_xonly_pubkey_parse
  u: (ctx: number, sig64: number, msg: number, msgLength: number, pubkey: number) => number // secp256k1_schnorrsig_verify
}

const CONTEXT_VERIFY = 257 // SECP256K1_CONTEXT_VERIFY
const XONLY_PUBKEY_STRUCT = 64 // sizeof(secp256k1_xonly_pubkey)

/** The nostr-wasm binary beside the package's entry point (its exports map hides the file). */
export function nostrWasmBinaryPath(): string {
  const entry = createRequire(import.meta.url).resolve('nostr-wasm') // …/nostr-wasm/dist/main.js
  return join(dirname(entry), '..', 'public', 'out', 'secp256k1.wasm')
}

export async function loadWasmVerifier(): Promise<SchnorrVerifier> {
  const binary = await readFile(nostrWasmBinaryPath())
  let heap = new Uint8Array(0)
  const fail = (what: string) => {
    throw new Error(`nostr-wasm libsecp256k1: ${what}`)
  }
  const imports = {
    a: {
      a: () => fail('abort'), // abort
      f: (dst: number, src: number, n: number) => heap.copyWithin(dst, src, src + n), // memcpy
      d: (size: number) => fail(`out of memory (resize to ${size})`), // resize
      e: () => 52, // fd_close: ENOSYS
      c: () => 70, // fd_seek: ESPIPE
      // write(fd, iov, iovcnt, written): libsecp256k1 only writes its error messages;
      // report them through the abort that follows, and say every byte was written.
      b: (_fd: number, iov: number, iovcnt: number, written: number) => {
        const view = new DataView(heap.buffer)
        let total = 0
        for (let i = 0; i < iovcnt; i++) total += view.getUint32(iov + i * 8 + 4, true)
        view.setUint32(written, total, true)
        return 0
      },
    },
  }
  const { instance } = await WebAssembly.instantiate(binary, imports)
  const wasm = instance.exports as unknown as Exports
  heap = new Uint8Array(wasm.g.buffer)
  wasm.h()

  const ctx = wasm.o(CONTEXT_VERIFY)
  const sigPtr = wasm.i(64)
  const msgPtr = wasm.i(32)
  const pubkeyPtr = wasm.i(32)
  const xonlyPtr = wasm.i(XONLY_PUBKEY_STRUCT)
  if (!ctx || !sigPtr || !msgPtr || !pubkeyPtr || !xonlyPtr) fail('allocation failed')

  return {
    name: 'wasm',
    verify(sig, msg, pubkey) {
      if (sig.length !== 64 || pubkey.length !== 32) return false
      // The memory cannot grow (resize aborts), but re-view it if it ever was.
      if (heap.byteLength === 0) heap = new Uint8Array(wasm.g.buffer)
      heap.set(sig, sigPtr)
      heap.set(pubkey, pubkeyPtr)
      // Nostr ids are 32 bytes; BIP-340 allows any length, so longer ones get their own buffer.
      const longMsg = msg.length > 32 ? wasm.i(msg.length) : 0
      const at = longMsg || msgPtr
      heap.set(msg, at)
      try {
        return (
          wasm.p(ctx, xonlyPtr, pubkeyPtr) === 1 &&
          wasm.u(ctx, sigPtr, at, msg.length, xonlyPtr) === 1
        )
      } finally {
        if (longMsg) wasm.j(longMsg)
      }
    },
  }
}
