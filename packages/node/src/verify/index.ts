// The verify stage: BIP-340 verifiers (native, wasm, noble) and the worker pool that checks
// event ids and signatures off the main thread.
export {
  type SchnorrVerifier,
  type VerifierName,
  type VerifierPreference,
  VERIFIER_ORDER,
  VerifierUnavailableError,
  loadVerifier,
} from './verifier.js'
export { type EventCheck, type CheckResult, checkFlat } from './check.js'
export {
  type VerifyPoolOptions,
  VerifyPool,
  VerifyPoolClosedError,
  VerifyPoolDeadError,
  VerifyWorkerCrashedError,
} from './verify-pool.js'
