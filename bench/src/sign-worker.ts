// A signing thread for event-corpus.ts: signs one contiguous range of the corpus and posts
// it back, with progress every 1,000 events.
import { parentPort, workerData } from 'node:worker_threads'
import { type SignJob, signRange } from './event-corpus.js'
import { loadSigner } from './signer.js'

const job = workerData as SignJob
const port = parentPort!
const signer = await loadSigner(job.backend)
const events = signRange(job, signer, Math.random, (done) =>
  port.postMessage({ type: 'progress', done }),
)
port.postMessage({ type: 'done', events, backend: signer.backend })
