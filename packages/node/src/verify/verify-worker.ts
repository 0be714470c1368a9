// A verify-stage worker thread (see verify-pool.ts), served by the node's WorkerPool
// (../worker-pool.ts). It loads the backend named in workerData, says `ready` with the backend
// it got, then answers each batch with the result code of every event in it, in order.
// A backend that fails to load is fatal for this worker: the rejection crashes it before it is
// ready, and the pool reports the error. Requests posted meanwhile wait in the port, in order.
import { workerData } from 'node:worker_threads'
import { serveRequests } from '../worker-pool.js'
import { checkFlat } from './check.js'
import { loadVerifier, type VerifierPreference } from './verifier.js'

export type VerifyRequest = { id: number; flat: string[] }

const { backend } = workerData as { backend: VerifierPreference }
const verifier = await loadVerifier(backend)
serveRequests<VerifyRequest>((request) => checkFlat(verifier, request.flat), verifier.name)
