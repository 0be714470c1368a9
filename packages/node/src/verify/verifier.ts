// One interface for BIP-340 Schnorr verification, three backends, the fastest chosen at start-up.
//
//   native  libsecp256k1 (Debian's libsecp256k1-dev) through the Node-API addon in
//           packages/node/native, built by `npm ci` when the library is present
//   wasm    libsecp256k1 compiled to WebAssembly, as shipped by nostr-wasm 0.1.0
//   noble   @noble/curves' pure-JS schnorr.verify (audited; always available)
//
// `auto` takes the first backend that loads, in that order, and does not time them at start-up:
// the order is fixed by measurement, and it does not change from machine to machine (all three
// run the same algorithm; native and wasm even run the same C code). Measured on the 2-core
// development machine with `npm run bench:verify` (single thread, fresh signed events, one
// verify per call; see bench/src/verifiers.ts):
//   native  ~25,000-30,000 verifies/s (~35-40 µs; ~30 µs through verifyBatch)
//   wasm     ~5,000 verifies/s (~190 µs)
//   noble    ~1,000 verifies/s (~900 µs)
// Timing at start-up would add a second of noise-prone work to every boot and could only ever
// confirm this order. Every backend is checked against a BIP-340 vector when it loads, so a
// broken build (a wrong library, a truncated .wasm) falls through to the next one instead of
// rejecting every event.

// The events entry: this module runs in the verify worker threads, which load no more.
import { HansaError } from '@hansa/protocol/events'

export type VerifierName = 'native' | 'wasm' | 'noble'
export type VerifierPreference = 'auto' | VerifierName

export interface SchnorrVerifier {
  readonly name: VerifierName
  /** BIP-340: is `sig` (64 bytes) a valid signature of `msg` by the x-only `pubkey` (32 bytes)? */
  verify(sig: Uint8Array, msg: Uint8Array, pubkey: Uint8Array): boolean
  /**
   * Many at once, where the backend has a cheaper path for it (native: one call for all).
   * `records` holds N records of 128 bytes, each sig(64) | msg(32) | pubkey(32); the result
   * holds N bytes, 1 for a valid signature and 0 otherwise.
   */
  verifyBatch?(records: Uint8Array): Uint8Array
  /**
   * The whole check of many events in one call, where the backend has it (native): each
   * record is id(32) | pubkey(32) | sig(64) | preimage length (u32 LE) | preimage (UTF-8);
   * the result holds a code per record: 0 valid, 1 the id is not sha256(preimage), 2 a bad
   * signature (check.ts's CHECK_RESULTS).
   */
  checkEvents?(records: Uint8Array): Uint8Array
}

/** The backends in the order `auto` tries them: fastest first. */
export const VERIFIER_ORDER: readonly VerifierName[] = ['native', 'wasm', 'noble']

/** BIP-340 test vector 1 (valid). Each backend must accept it, and reject it with a flipped bit. */
const SELF_TEST = {
  sig: '6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a',
  msg: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
  pubkey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
}

function selfTest(verifier: SchnorrVerifier): void {
  const sig = Uint8Array.from(Buffer.from(SELF_TEST.sig, 'hex'))
  const msg = Uint8Array.from(Buffer.from(SELF_TEST.msg, 'hex'))
  const pubkey = Uint8Array.from(Buffer.from(SELF_TEST.pubkey, 'hex'))
  const accepts = verifier.verify(sig, msg, pubkey)
  msg[0] = (msg[0] ?? 0) ^ 1
  const rejects = !verifier.verify(sig, msg, pubkey)
  if (!accepts || !rejects) {
    throw new HansaError('HANSA_VERIFIER_SELF_TEST', `the ${verifier.name} verifier fails BIP-340`)
  }
}

async function loadBackend(name: VerifierName): Promise<SchnorrVerifier> {
  let verifier: SchnorrVerifier
  switch (name) {
    case 'native':
      verifier = (await import('./native-verifier.js')).loadNativeVerifier()
      break
    case 'wasm':
      verifier = await (await import('./wasm-verifier.js')).loadWasmVerifier()
      break
    case 'noble':
      verifier = (await import('./noble-verifier.js')).nobleVerifier()
      break
  }
  selfTest(verifier)
  return verifier
}

export class VerifierUnavailableError extends HansaError {
  override name = 'VerifierUnavailableError'
  constructor(preference: VerifierPreference, cause: unknown) {
    super('HANSA_VERIFIER_UNAVAILABLE', `the ${preference} Schnorr verifier could not be loaded`, {
      details:
        preference === 'native'
          ? 'build it with `apt-get install libsecp256k1-dev && npm run build:native -w @hansa/node`, or choose auto'
          : String(cause),
      cause,
    })
  }
}

/**
 * Loads a verifier. `auto` returns the fastest backend that loads (native, else wasm, else
 * noble); a named backend is that one or a VerifierUnavailableError.
 */
export async function loadVerifier(preference: VerifierPreference): Promise<SchnorrVerifier> {
  if (preference !== 'auto') {
    try {
      return await loadBackend(preference)
    } catch (error) {
      throw new VerifierUnavailableError(preference, error)
    }
  }
  let lastError: unknown
  for (const name of VERIFIER_ORDER) {
    try {
      return await loadBackend(name)
    } catch (error) {
      lastError = error
    }
  }
  throw new VerifierUnavailableError('auto', lastError)
}
