// The verify stage's options: how many worker threads check signatures, and with which backend.
import { cpus } from 'node:os'
import { lit, option } from '../config/option.js'
import { DEFAULT_INLINE_BATCH } from './verify-pool.js'

export const verifyOptions = option.section({
  threads: option.integer(Math.max(1, cpus().length), {
    description: 'Worker threads that check event signatures. 0 checks on the main thread.',
    min: 0,
    defaultText: 'number of CPU cores',
  }),
  inlineBatch: option.integer(DEFAULT_INLINE_BATCH, {
    description:
      'With the native verifier, a turn of the event loop with at most this many events to check is checked on the main thread: waking a worker for a few checks costs more than the checks. 0 sends every check to the workers.',
    min: 0,
  }),
  backend: option.choice(
    [lit('auto'), lit('native'), lit('wasm'), lit('noble')],
    'auto',
    'Schnorr verifier: auto picks the fastest that loads (native libsecp256k1, then WASM, then JS).',
  ),
})
