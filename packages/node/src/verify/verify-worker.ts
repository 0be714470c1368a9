// A verify-stage worker thread (see verify-pool.ts). It loads the backend named in workerData,
// says `ready` with the backend it got, then answers each batch with one message: the result
// code of every event in it, in order. Unexpected errors in a batch fail that batch only.
import { parentPort, workerData } from 'node:worker_threads'
import { checkFlat } from './check.js'
import { loadVerifier, type VerifierPreference } from './verifier.js'

export type WorkerRequest = { seq: number; flat: string[] }
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'done'; seq: number; codes: Uint8Array }
  | { type: 'failed'; seq: number; message: string }

const port = parentPort
if (!port) throw new Error('verify-worker.js must run in a worker thread')
const { backend } = workerData as { backend: VerifierPreference }

// Listen at once, so that batches posted while the backend loads wait in order.
const verifier = loadVerifier(backend)
port.on('message', (request: WorkerRequest) => {
  verifier.then((v) => {
    let reply: WorkerReply
    try {
      const codes = checkFlat(v, request.flat)
      reply = { type: 'done', seq: request.seq, codes }
      port.postMessage(reply, [codes.buffer as ArrayBuffer])
    } catch (error) {
      reply = { type: 'failed', seq: request.seq, message: String(error) }
      port.postMessage(reply)
    }
  })
})
// A backend that fails to load is fatal for this worker: the rejection crashes it, and the
// pool reports the error.
verifier.then((v) => port.postMessage({ type: 'ready', backend: v.name } satisfies WorkerReply))
