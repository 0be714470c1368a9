// One pool of worker threads for every stage that works off the main thread — the verify
// stage's signature checks (verify/verify-pool.ts), the store's writer and readers
// (store/sqlite-store.ts) — and one rule for a worker that dies:
//
//   - its requests in flight are rejected (`crashed`), never lost, never left hanging, and
//     never retried: a poisonous request would kill every worker in turn;
//   - it is replaced at once, unless it died before it was even ready three times in a row
//     (a backend or a database that cannot load): then it is not, and once no worker is left
//     every request is rejected (`dead`).
//
// A request goes to the worker with the least in hand (its weight: the verify stage counts
// checks, the store counts requests); `sendTo` lets a caller split its own batches. Workers
// answer through `serveRequests`, which says `ready` once the worker has set itself up.
// Each stage keeps its own error codes through the factories in its options.
import { Worker, parentPort } from 'node:worker_threads'
import { forgetThread, nameThread, ownThreadId } from './thread-cpu.js'

/**
 * What a worker posts: `ready` once (with its kernel thread id, so its CPU time is counted
 * under the pool's name: thread-cpu.ts), then one reply per request.
 */
export type PoolReply =
  | { type: 'ready'; info: unknown; tid?: number | undefined }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }

export type WorkerPoolOptions = {
  script: URL
  workerData: unknown
  size: number
  /** Thread name (shown in profiles and crash reports, and in hansa_thread_cpu_seconds_total). */
  name: string
  /** Unref workers with nothing in hand, so an idle pool never keeps a process alive. */
  unrefIdle?: boolean
  /** The error for a request whose worker died. */
  crashed(details: string, cause: unknown): Error
  /** The error for every request once no worker is left. */
  dead(cause: unknown): Error
  /** The error for a request the worker's handler threw on. */
  failed(message: string): Error
  /** The error for a request made after close(). */
  closed(): Error
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; weight: number }

type Slot = {
  worker: Worker
  pending: Map<number, Pending>
  /** Sum of the weights in flight. */
  load: number
  ready: boolean
  /** The last error the worker raised, reported when it exits. */
  lastError: unknown
}

/** Deaths before `ready`, in a row, after which a worker is no longer replaced. */
const MAX_STARTUP_DEATHS = 3

export class WorkerPool {
  private readonly slots: Slot[] = []
  private nextId = 1
  private closed = false
  private startupDeaths = 0
  private deadCause: unknown = undefined
  private idle: (() => void) | null = null
  /**
   * Resolves with each first worker's `ready` info once all are ready; rejects with the error
   * of the first that fails before it is ready.
   */
  readonly ready: Promise<unknown[]>

  constructor(private readonly options: WorkerPoolOptions) {
    const readies: Promise<unknown>[] = []
    for (let i = 0; i < options.size; i++) {
      const { slot, ready } = this.spawn()
      this.slots.push(slot)
      readies.push(ready)
    }
    this.ready = Promise.all(readies)
    this.ready.catch(() => {}) // a caller that does not wait for it learns through requests
  }

  /** Workers alive now. */
  get size(): number {
    return this.slots.length
  }

  /** The weight each worker has in hand, by index. */
  loads(): number[] {
    return this.slots.map((s) => s.load)
  }

  /** Weight in flight across the pool. */
  get pending(): number {
    let n = 0
    for (const s of this.slots) n += s.load
    return n
  }

  /** Why no request can be served (closed, or no worker left), or null. */
  refusal(): Error | null {
    if (this.closed) return this.options.closed()
    if (this.deadCause !== undefined || this.slots.length === 0) {
      return this.options.dead(this.deadCause)
    }
    return null
  }

  /** Sends to the worker with the least in hand. */
  request(message: object, weight = 1, transfer?: readonly ArrayBuffer[]): Promise<unknown> {
    let best = 0
    for (let i = 1; i < this.slots.length; i++) {
      if (this.slots[i]!.load < this.slots[best]!.load) best = i
    }
    return this.sendTo(best, message, weight, transfer)
  }

  /** Sends to worker `index` (0 ≤ index < size). */
  sendTo(
    index: number,
    message: object,
    weight = 1,
    transfer?: readonly ArrayBuffer[],
  ): Promise<unknown> {
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    const slot = this.slots[index]
    if (!slot) return Promise.reject(this.options.dead(this.deadCause))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, weight })
      if (slot.load === 0 && this.options.unrefIdle) slot.worker.ref()
      slot.load += weight
      slot.worker.postMessage({ ...message, id }, transfer as ArrayBuffer[] | undefined)
    })
  }

  /**
   * Ends one worker at once, as a crash would: its requests in flight are rejected and a new
   * worker takes its place. For tests and fault drills.
   */
  async terminateWorker(index: number): Promise<void> {
    const slot = this.slots[index]
    if (!slot) return
    // Resolves once the pool has seen the exit (its listener came first) and replaced the worker.
    const replaced = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()))
    await slot.worker.terminate()
    await replaced
  }

  /**
   * Lets every request in flight finish; then, with a `farewell`, asks each worker to finish
   * up (close its database) and waits for its answer; then ends the workers. Idempotent.
   */
  async close(farewell?: object): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve
      })
    }
    const slots = [...this.slots]
    if (farewell) {
      await Promise.all(
        slots.map(
          (slot) =>
            new Promise<void>((resolve) => {
              const id = this.nextId++
              slot.pending.set(id, { resolve: () => resolve(), reject: () => resolve(), weight: 0 })
              slot.worker.postMessage({ ...farewell, id })
            }),
        ),
      )
    }
    await Promise.all(slots.map((s) => s.worker.terminate()))
    this.slots.length = 0
  }

  private spawn(): { slot: Slot; ready: Promise<unknown> } {
    const worker = new Worker(this.options.script, {
      workerData: this.options.workerData,
      name: this.options.name,
    })
    const slot: Slot = { worker, pending: new Map(), load: 0, ready: false, lastError: undefined }
    let readyResolve: (info: unknown) => void = () => {}
    let readyReject: (error: unknown) => void = () => {}
    const ready = new Promise<unknown>((resolve, reject) => {
      readyResolve = resolve
      readyReject = reject
    })
    worker.on('message', (reply: PoolReply) => {
      if (reply.type === 'ready') {
        slot.ready = true
        const tid = reply.tid
        if (tid !== undefined) {
          nameThread(tid, this.options.name)
          worker.once('exit', () => forgetThread(tid))
        }
        this.startupDeaths = 0
        // Idle from here on: a starting worker stays ref'd, or a process with nothing else to
        // do would exit while it waits for `ready` (node's exit code 13).
        if (slot.load === 0 && this.options.unrefIdle) worker.unref()
        readyResolve(reply.info)
        return
      }
      const p = slot.pending.get(reply.id)
      if (!p) return
      slot.pending.delete(reply.id)
      slot.load -= p.weight
      if (slot.load === 0 && this.options.unrefIdle) worker.unref()
      if (reply.ok) p.resolve(reply.result)
      else p.reject(this.options.failed(reply.error))
      this.checkIdle()
    })
    worker.on('error', (error) => {
      slot.lastError = error
      if (!slot.ready) readyReject(error)
    })
    worker.on('exit', (code) => {
      if (!slot.ready) readyReject(slot.lastError ?? new Error(`worker exited with code ${code}`))
      this.onExit(slot, code)
    })
    return { slot, ready }
  }

  private onExit(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot)
    if (index < 0) return // closed, or already replaced
    const details =
      slot.lastError === undefined
        ? `worker exited with code ${code}`
        : `worker exited with code ${code}: ${String(slot.lastError)}`
    const crashed = this.options.crashed(details, slot.lastError)
    for (const p of slot.pending.values()) p.reject(crashed)
    slot.pending.clear()
    slot.load = 0
    if (!slot.ready) this.startupDeaths++
    if (!this.closed && this.startupDeaths < MAX_STARTUP_DEATHS) {
      const { slot: fresh, ready } = this.spawn()
      ready.catch(() => {}) // a fresh worker's failure is reported through its exit
      this.slots[index] = fresh
    } else {
      this.slots.splice(index, 1)
      if (this.slots.length === 0 && !this.closed) this.deadCause = slot.lastError ?? details
    }
    this.checkIdle()
  }

  private checkIdle(): void {
    if (this.idle && this.pending === 0) {
      const idle = this.idle
      this.idle = null
      idle()
    }
  }
}

/**
 * The worker side: says `ready` (with `info`), then answers each request the pool posts with
 * `handle`'s result, or its error's message. A Uint8Array result is transferred, not copied.
 */
export function serveRequests<R extends { id: number }>(
  handle: (request: R) => unknown,
  info: unknown = null,
): void {
  const port = parentPort
  if (!port) throw new Error('serveRequests must run in a worker thread')
  port.on('message', (request: R) => {
    let reply: PoolReply
    try {
      const result = handle(request)
      reply = { type: 'reply', id: request.id, ok: true, result }
      if (result instanceof Uint8Array) {
        port.postMessage(reply, [result.buffer as ArrayBuffer])
        return
      }
    } catch (error) {
      reply = {
        type: 'reply',
        id: request.id,
        ok: false,
        error: String((error as Error).message ?? error),
      }
    }
    port.postMessage(reply)
  })
  port.postMessage({ type: 'ready', info, tid: ownThreadId() } satisfies PoolReply)
}
