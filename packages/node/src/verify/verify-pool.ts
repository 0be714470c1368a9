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
// The threads are the node's one WorkerPool (../worker-pool.ts), with its one rule for a worker
// that dies (a crash, an out-of-memory, terminateWorker): its in-flight checks are rejected with
// VerifyWorkerCrashedError — never lost, never left hanging, never retried — and it is
// replaced, unless it died before it was ready three times in a row; when no worker is left
// every check is rejected with VerifyPoolDeadError.
//
// With the native verifier, a turn with few checks (at most `inlineBatch`) is verified on the
// calling thread even when there are workers: a worker asleep between events must be woken,
// and its reply wakes the event loop again, and on a virtual machine checking a few events here
// costs less CPU than those two wake-ups (relay bench at 3,400 events/s, six alternating
// pairs: −13 % of the node's CPU per event). A busy relay's turns carry many checks, and
// those still go to the workers.
//
// threads: 0 verifies every check on the calling thread, in the same batches: for tests, tiny
// deployments and the CLI. Idle workers are unref'd, so a forgotten pool never keeps a process
// alive.
import { HansaError } from '@hansa/protocol'
import {
  CHECK_RESULTS,
  type CheckResult,
  type EventCheck,
  checkFlat,
  flattenCheck,
} from './check.js'
import { WorkerPool } from '../worker-pool.js'
import type { Verifier } from './event-verifier.js'
import { type VerifierPreference, loadVerifier, type SchnorrVerifier } from './verifier.js'
import type { VerifyRequest } from './verify-worker.js'

export type VerifyPoolOptions = {
  /** Worker threads; 0 verifies inline on the calling thread. */
  threads: number
  backend: VerifierPreference
  /** Most checks in one message to a worker (default 256). */
  maxBatch?: number
  /**
   * With the native verifier, a turn with at most this many checks is verified on the calling
   * thread, not posted to a worker (default 16; 0 posts every turn to the workers). Ignored
   * with threads: 0, and with the slower WASM and JS verifiers.
   */
  inlineBatch?: number
}

/** Checks in one turn that the native verifier does on the calling thread, by default. */
export const DEFAULT_INLINE_BATCH = 16

/** How many checks went where since the pool started (the tests read it). */
export type VerifyPoolCounts = { inline: number; workers: number }

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

const WORKER_URL = new URL('./verify-worker.js', import.meta.url)

export class VerifyPool implements Verifier {
  readonly backend: string
  readonly threads: number

  private readonly maxBatch: number
  private readonly inlineBatch: number
  private readonly inline: SchnorrVerifier | null
  private readonly pool: WorkerPool | null
  private queueFlat: string[] = []
  private queueWaiters: Waiter[] = []
  private flushScheduled = false
  private closed = false
  private readonly checked: VerifyPoolCounts = { inline: 0, workers: 0 }

  private constructor(
    opts: VerifyPoolOptions,
    backend: string,
    inline: SchnorrVerifier | null,
    pool: WorkerPool | null,
  ) {
    this.threads = opts.threads
    this.maxBatch = Math.max(1, opts.maxBatch ?? 256)
    this.inlineBatch = pool
      ? Math.max(0, opts.inlineBatch ?? DEFAULT_INLINE_BATCH)
      : Number.POSITIVE_INFINITY
    this.backend = backend
    this.inline = inline
    this.pool = pool
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
      return new VerifyPool(opts, verifier.name, verifier, null)
    }
    const pool = new WorkerPool({
      script: WORKER_URL,
      workerData: { backend: opts.backend },
      size: opts.threads,
      name: 'hansa-verify',
      unrefIdle: true,
      crashed: (details, cause) => new VerifyWorkerCrashedError(details, cause),
      dead: (cause) => new VerifyPoolDeadError(cause),
      failed: (message) =>
        new HansaError('HANSA_VERIFY_BATCH_FAILED', 'a verify batch failed', { details: message }),
      closed: () => new VerifyPoolClosedError(),
    })
    let backends: unknown[]
    let inline: SchnorrVerifier | null = null
    try {
      backends = await pool.ready
      // The same backend as the workers, for the small turns checked on this thread: only
      // the native one, at ~50 µs a check. WASM takes ~370 µs and the JS verifier ~2.5 ms, so
      // 16 of them would hold the event loop for milliseconds; with those the workers check.
      if ((opts.inlineBatch ?? DEFAULT_INLINE_BATCH) > 0) {
        const verifier = await loadVerifier(opts.backend)
        if (verifier.name === 'native') inline = verifier
      }
    } catch (error) {
      await pool.close()
      throw error
    }
    return new VerifyPool(opts, String(backends[0] ?? opts.backend), inline, pool)
  }

  /** Checks one event's id and signature. Resolves with the verdict; rejects only on failure. */
  check(e: EventCheck): Promise<CheckResult> {
    if (this.closed) return Promise.reject(new VerifyPoolClosedError())
    const refused = this.pool?.refusal()
    if (refused) return Promise.reject(refused)
    return new Promise<CheckResult>((resolve, reject) => {
      flattenCheck(e, this.queueFlat)
      this.queueWaiters.push({ resolve, reject })
      if (!this.flushScheduled) {
        this.flushScheduled = true
        setImmediate(this.flush)
      }
    })
  }

  /** How many checks were verified on the calling thread and how many by the workers. */
  get counts(): VerifyPoolCounts {
    return { ...this.checked }
  }

  /** Checks in flight or queued: the stage's backlog, for metrics and back-pressure. */
  get pending(): number {
    return this.queueWaiters.length + (this.pool?.pending ?? 0)
  }

  /**
   * Ends one worker at once, as a crash would: its checks in flight are rejected with
   * VerifyWorkerCrashedError and a new worker takes its place. For tests and fault drills.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.pool?.terminateWorker(index)
  }

  /** Finishes every check already submitted, then stops the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.flush()
    await this.pool?.close()
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const flat = this.queueFlat
    const waiters = this.queueWaiters
    if (waiters.length === 0) return
    this.queueFlat = []
    this.queueWaiters = []

    if (this.inline && waiters.length <= this.inlineBatch) {
      this.checked.inline += waiters.length
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
    const pool = this.pool!
    const refused = pool.refusal()
    if (refused) {
      for (const w of waiters) w.reject(refused)
      return
    }
    this.checked.workers += waiters.length

    // Least-loaded first: fill each worker up to the level all would share, in batches.
    const loads = pool.loads()
    const total = waiters.length + loads.reduce((n, l) => n + l, 0)
    const level = Math.ceil(total / loads.length)
    const bySpareRoom = loads
      .map((load, index) => ({ load, index }))
      .sort((a, b) => a.load - b.load)
    let next = 0
    for (const slot of bySpareRoom) {
      let share = Math.min(level - slot.load, waiters.length - next)
      while (share > 0) {
        const n = Math.min(share, this.maxBatch)
        this.send(slot.index, flat, waiters, next, n)
        next += n
        share -= n
      }
    }
    // Rounding leaves nothing behind, but be safe: the rest goes to the least loaded.
    if (next < waiters.length) {
      this.send(bySpareRoom[0]!.index, flat, waiters, next, waiters.length - next)
    }
  }

  private send(index: number, flat: string[], waiters: Waiter[], from: number, n: number): void {
    const batch = waiters.slice(from, from + n)
    const request: Omit<VerifyRequest, 'id'> = { flat: flat.slice(from * 4, (from + n) * 4) }
    this.pool!.sendTo(index, request, n).then(
      (codes) => settle(batch, codes as Uint8Array),
      (error: Error) => {
        for (const w of batch) w.reject(error)
      },
    )
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
