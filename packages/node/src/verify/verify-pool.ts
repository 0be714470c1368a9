// The relay's verify stage: checks event ids and BIP-340 signatures off the main thread.
//
// Checks submitted during one turn of the event loop are queued and flushed together from a
// setImmediate callback, i.e. after every I/O callback of that turn (all the EVENT frames that
// arrived together), not per microtask: one postMessage per worker per turn, however many
// sockets delivered events. The flush splits the queue so that every worker ends up with about
// the same number of checks in flight (least-loaded first), in messages of at most `maxBatch`
// checks so a long queue is pipelined rather than handed over as one slab. Each worker replies
// with one message per batch: a byte per check, in order.
//
// A worker that dies (a crash, an out-of-memory, terminateWorker) has its in-flight checks
// rejected with VerifyWorkerCrashedError — never lost, never left hanging — and is replaced.
// A worker that dies before it is even ready, three times in a row, is not replaced; when no
// worker is left every check is rejected with VerifyPoolDeadError. Rejected checks are not
// retried: a poisonous event would crash every worker in turn.
//
// threads: 0 verifies on the calling thread, in the same batches: for tests, tiny deployments
// and the CLI. Idle workers are unref'd, so a forgotten pool never keeps a process alive.
import { Worker } from 'node:worker_threads'
import { HansaError } from '@hansa/protocol'
import {
  CHECK_RESULTS,
  type CheckResult,
  type EventCheck,
  checkFlat,
  flattenCheck,
} from './check.js'
import { type VerifierPreference, loadVerifier, type SchnorrVerifier } from './verifier.js'
import type { WorkerReply, WorkerRequest } from './verify-worker.js'

export type VerifyPoolOptions = {
  /** Worker threads; 0 verifies inline on the calling thread. */
  threads: number
  backend: VerifierPreference
  /** Most checks in one message to a worker (default 256). */
  maxBatch?: number
}

export class VerifyPoolClosedError extends HansaError {
  override name = 'VerifyPoolClosedError'
  constructor() {
    super('HANSA_VERIFY_POOL_CLOSED', 'the verify pool is closed')
  }
}

export class VerifyWorkerCrashedError extends HansaError {
  override name = 'VerifyWorkerCrashedError'
  constructor(details: string, cause?: unknown) {
    super('HANSA_VERIFY_WORKER_CRASHED', 'a verify worker died while checking this event', {
      details,
      cause,
    })
  }
}

export class VerifyPoolDeadError extends HansaError {
  override name = 'VerifyPoolDeadError'
  constructor(cause?: unknown) {
    super('HANSA_VERIFY_POOL_DEAD', 'no verify worker is left: they all died at start-up', {
      details: cause === undefined ? undefined : String(cause),
      cause,
    })
  }
}

type Waiter = { resolve: (result: CheckResult) => void; reject: (error: Error) => void }
type Batch = { waiters: Waiter[] }

type Slot = {
  worker: Worker
  /** Checks sent and not yet answered. */
  load: number
  inflight: Map<number, Batch>
  ready: boolean
  /** The last error the worker raised, reported when it exits. */
  lastError: unknown
}

const WORKER_URL = new URL('./verify-worker.js', import.meta.url)
const MAX_STARTUP_DEATHS = 3

export class VerifyPool {
  readonly backend: string
  readonly threads: number

  private readonly preference: VerifierPreference
  private readonly maxBatch: number
  private readonly inline: SchnorrVerifier | null
  private readonly slots: Slot[] = []
  private queueFlat: string[] = []
  private queueWaiters: Waiter[] = []
  private flushScheduled = false
  private seq = 0
  private closed = false
  private startupDeaths = 0
  private deadCause: unknown = undefined
  private idle: (() => void) | null = null

  private constructor(opts: VerifyPoolOptions, backend: string, inline: SchnorrVerifier | null) {
    this.threads = opts.threads
    this.preference = opts.backend
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256)
    this.backend = backend
    this.inline = inline
  }

  /**
   * Starts the pool and waits until every worker has loaded its backend. Rejects with
   * VerifierUnavailableError (HANSA_VERIFIER_UNAVAILABLE) when the chosen backend cannot load.
   */
  static async create(opts: VerifyPoolOptions): Promise<VerifyPool> {
    if (!Number.isInteger(opts.threads) || opts.threads < 0) {
      throw new HansaError('HANSA_VERIFY_POOL_OPTIONS', 'threads must be a whole number ≥ 0', {
        details: `got ${opts.threads}`,
      })
    }
    if (opts.threads === 0) {
      const verifier = await loadVerifier(opts.backend)
      return new VerifyPool(opts, verifier.name, verifier)
    }
    const slots: Slot[] = []
    const readies: Promise<string>[] = []
    for (let i = 0; i < opts.threads; i++) {
      const { slot, ready } = startWorker(opts.backend)
      slots.push(slot)
      readies.push(ready)
    }
    let backends: string[]
    try {
      backends = await Promise.all(readies)
    } catch (error) {
      await Promise.all(slots.map((s) => s.worker.terminate()))
      throw error
    }
    const pool = new VerifyPool(opts, backends[0] ?? opts.backend, null)
    for (const slot of slots) pool.adopt(slot)
    return pool
  }

  /** Checks one event's id and signature. Resolves with the verdict; rejects only on failure. */
  check(e: EventCheck): Promise<CheckResult> {
    if (this.closed) return Promise.reject(new VerifyPoolClosedError())
    if (this.deadCause !== undefined) return Promise.reject(new VerifyPoolDeadError(this.deadCause))
    return new Promise<CheckResult>((resolve, reject) => {
      flattenCheck(e, this.queueFlat)
      this.queueWaiters.push({ resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(this.flush)
      }
    })
  }

  /** Checks in flight or queued: the stage's backlog, for metrics and back-pressure. */
  get pending(): number {
    let n = this.queueWaiters.length
    for (const slot of this.slots) n += slot.load
    return n
  }

  /**
   * Ends one worker at once, as a crash would: its checks in flight are rejected with
   * VerifyWorkerCrashedError and a new worker takes its place. For tests and fault drills.
   */
  async terminateWorker(index: number): Promise<void> {
    const slot = this.slots[index]
    if (slot) await slot.worker.terminate()
  }

  /** Finishes every check already submitted, then stops the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.flush()
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve
      })
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    this.slots.length = 0
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const flat = this.queueFlat
    const waiters = this.queueWaiters
    if (waiters.length === 0) return
    this.queueFlat = []
    this.queueWaiters = []

    if (this.inline) {
      let codes: Uint8Array
      try {
        codes = checkFlat(this.inline, flat)
      } catch (error) {
        for (const w of waiters) w.reject(error as Error)
        return
      }
      settle(waiters, codes)
      return
    }
    if (this.slots.length === 0) {
      const error = new VerifyPoolDeadError(this.deadCause)
      for (const w of waiters) w.reject(error)
      return
    }

    // Least-loaded first: fill each worker up to the level all would share, in batches.
    const total = waiters.length + this.slots.reduce((n, s) => n + s.load, 0)
    const level = Math.ceil(total / this.slots.length)
    const bySpareRoom = [...this.slots].sort((a, b) => a.load - b.load)
    let next = 0
    for (const slot of bySpareRoom) {
      let share = Math.min(level - slot.load, waiters.length - next)
      while (share > 0) {
        const n = Math.min(share, this.maxBatch)
        this.send(slot, flat, waiters, next, n)
        next += n
        share -= n
      }
    }
    // Rounding leaves nothing behind, but be safe: the rest goes to the least loaded.
    if (next < waiters.length) {
      const slot = bySpareRoom[0] as Slot
      this.send(slot, flat, waiters, next, waiters.length - next)
    }
  }

  private send(slot: Slot, flat: string[], waiters: Waiter[], from: number, n: number): void {
    const seq = this.seq++
    const batchFlat = flat.slice(from * 4, (from + n) * 4)
    slot.inflight.set(seq, { waiters: waiters.slice(from, from + n) })
    if (slot.load === 0) slot.worker.ref()
    slot.load += n
    slot.worker.postMessage({ seq, flat: batchFlat } satisfies WorkerRequest)
  }

  private finished(slot: Slot, seq: number): Batch | undefined {
    const batch = slot.inflight.get(seq)
    if (!batch) return undefined
    slot.inflight.delete(seq)
    slot.load -= batch.waiters.length
    if (slot.load === 0) slot.worker.unref()
    return batch
  }

  private checkIdle(): void {
    if (this.idle && this.pending === 0) {
      const idle = this.idle
      this.idle = null
      idle()
    }
  }

  private adopt(slot: Slot): void {
    this.slots.push(slot)
    slot.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') {
        slot.ready = true
        this.startupDeaths = 0
        return
      }
      const batch = this.finished(slot, reply.seq)
      if (!batch) return
      if (reply.type === 'done') settle(batch.waiters, reply.codes)
      else {
        const error = new HansaError('HANSA_VERIFY_BATCH_FAILED', 'a verify batch failed', {
          details: reply.message,
        })
        for (const w of batch.waiters) w.reject(error)
      }
      this.checkIdle()
    })
    slot.worker.on('error', (error) => {
      slot.lastError = error
    })
    slot.worker.on('exit', (code) => this.onExit(slot, code))
    // After the listeners: adding one refs the worker again.
    if (slot.load === 0) slot.worker.unref()
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot)
    if (index >= 0) this.slots.splice(index, 1)
    const details =
      slot.lastError === undefined
        ? `worker exited with code ${code}`
        : `worker exited with code ${code}: ${String(slot.lastError)}`
    for (const batch of slot.inflight.values()) {
      const error = new VerifyWorkerCrashedError(details, slot.lastError)
      for (const w of batch.waiters) w.reject(error)
    }
    slot.inflight.clear()
    slot.load = 0

    if (!this.closed) {
      if (!slot.ready) this.startupDeaths++
      if (this.startupDeaths < MAX_STARTUP_DEATHS) {
        const { slot: fresh, ready } = startWorker(this.preference)
        // Its readiness is reported through the 'ready' message; a failure through 'exit'.
        ready.catch(() => {})
        this.adopt(fresh)
      } else if (this.slots.length === 0) {
        this.deadCause = slot.lastError ?? details
        const error = new VerifyPoolDeadError(this.deadCause)
        const waiters = this.queueWaiters
        this.queueFlat = []
        this.queueWaiters = []
        for (const w of waiters) w.reject(error)
      }
    }
    this.checkIdle()
  }
}

function settle(waiters: Waiter[], codes: Uint8Array): void {
  for (let i = 0; i < waiters.length; i++) {
    const result = CHECK_RESULTS[codes[i] ?? -1]
    const waiter = waiters[i] as Waiter
    if (result) waiter.resolve(result)
    else waiter.reject(new HansaError('HANSA_VERIFY_BATCH_FAILED', 'a verify result is missing'))
  }
}

function startWorker(backend: VerifierPreference): { slot: Slot; ready: Promise<string> } {
  const worker = new Worker(WORKER_URL, { workerData: { backend }, name: 'hansa-verify' })
  const slot: Slot = { worker, load: 0, inflight: new Map(), ready: false, lastError: undefined }
  const ready = new Promise<string>((resolve, reject) => {
    const onMessage = (reply: WorkerReply) => {
      if (reply.type !== 'ready') return
      worker.off('message', onMessage)
      worker.off('error', onError)
      resolve(reply.backend)
    }
    const onError = (error: unknown) => {
      worker.off('message', onMessage)
      reject(error)
    }
    worker.on('message', onMessage)
    worker.on('error', onError)
  })
  return { slot, ready }
}
