// A small request/reply pool of worker threads for the store: the writer is a pool of one,
// the readers a pool of several. Each worker holds one request at a time; the others wait
// here, one queue per client (a request names its client, e.g. its IP address), served in
// turn — so a client that queues a thousand queries delays another client's query by one
// query each, not by a thousand. The queues together are bounded (`maxQueued`: past it a request is refused at once with
// StoreBusyError, so a flood of queries cannot grow memory or latency without end). With
// `timeoutMs`, a request that runs longer is answered StoreTimeoutError and its worker is
// stopped and replaced — SQLite cannot be interrupted from another thread, a worker can. A
// worker that dies fails only the request it held and is replaced.
import { Worker, parentPort } from 'node:worker_threads'
import { StoreBusyError, StoreTimeoutError } from './event-store.js'

export type ThreadReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }

type Job = {
  id: number
  message: { op: string; id: number } & Record<string, unknown>
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}
type Slot = {
  worker: Worker
  job: Job | null
  timer: NodeJS.Timeout | null
  dead: boolean
  /** Started and running: a request's time budget starts when a ready thread takes it. */
  ready: boolean
}

export type ThreadPoolOptions = {
  /** Requests waiting for a worker at most (default: no bound). */
  maxQueued?: number
  /** Longest a request may run on its worker (default: no limit). */
  timeoutMs?: number
}

export class ThreadPool {
  private readonly slots: Slot[] = []
  /** Waiting requests by client, and the clients in turn order. */
  private readonly queues = new Map<string, Job[]>()
  private readonly turns: string[] = []
  private waiting = 0
  private nextId = 1
  private closed = false
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly script: URL,
    private readonly workerData: unknown,
    size: number,
    private readonly options: ThreadPoolOptions = {},
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  /** Requests waiting for a worker now. */
  get queued(): number {
    return this.waiting
  }

  /** The next request, from the client whose turn it is. */
  private next(): Job | undefined {
    const client = this.turns.shift()
    if (client === undefined) return undefined
    const queue = this.queues.get(client)!
    const job = queue.shift()!
    this.waiting--
    if (queue.length > 0) this.turns.push(client)
    else this.queues.delete(client)
    return job
  }

  private spawn(): Slot {
    const slot: Slot = {
      worker: new Worker(this.script, { workerData: this.workerData }),
      job: null,
      timer: null,
      dead: false,
      ready: false,
    }
    slot.worker.once('online', () => {
      slot.ready = true
      this.pump()
    })
    slot.worker.on('message', (reply: ThreadReply) => {
      const job = slot.job
      if (!job || job.id !== reply.id) return
      this.finish(slot)
      if (reply.ok) job.resolve(reply.result)
      else job.reject(new Error(reply.error))
      this.pump()
    })
    const fail = (error: Error) => {
      if (slot.dead) return
      slot.dead = true
      const job = slot.job
      this.finish(slot)
      job?.reject(error)
      this.replace(slot)
    }
    slot.worker.on('error', fail)
    slot.worker.on('exit', (code) => fail(new Error(`a store thread exited (code ${code})`)))
    return slot
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer)
    slot.timer = null
    slot.job = null
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0 && !this.closed) {
      this.slots[i] = this.spawn()
      this.pump()
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.waiting === 0) break
      if (slot.job !== null || slot.dead || !slot.ready) continue
      const job = this.next()!
      slot.job = job
      if (this.options.timeoutMs !== undefined) {
        const ms = this.options.timeoutMs
        slot.timer = setTimeout(() => {
          if (slot.job !== job) return
          slot.dead = true
          this.finish(slot)
          job.reject(new StoreTimeoutError(ms))
          void slot.worker.terminate()
          this.replace(slot)
        }, ms)
      }
      slot.worker.postMessage(job.message)
    }
    if (this.waiting === 0 && this.slots.every((s) => s.job === null)) {
      for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  request(request: { op: string } & Record<string, unknown>, client = ''): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    const max = this.options.maxQueued
    if (max !== undefined && this.waiting >= max) {
      return Promise.reject(new StoreBusyError(max))
    }
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(client)
      if (!queue) {
        queue = []
        this.queues.set(client, queue)
        this.turns.push(client)
      }
      queue.push({ id, message: { ...request, id }, resolve, reject })
      this.waiting++
      this.pump()
    })
  }

  /** Lets every worker finish its work and close its connection, then ends it. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.waiting > 0 || this.slots.some((s) => s.job !== null)) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    }
    this.closed = true
    const slots = [...this.slots]
    await Promise.all(
      slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const id = this.nextId++
            slot.job = {
              id,
              message: { op: 'close', id },
              resolve: () => resolve(),
              reject: () => resolve(),
            }
            slot.worker.postMessage({ op: 'close', id })
          }),
      ),
    )
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }
}

/** The worker side: answers each request a ThreadPool posts with `handle`'s result or error. */
export function serveRequests<R extends { id: number; op: string }>(
  handle: (request: R) => unknown,
): void {
  parentPort!.on('message', (request: R) => {
    let reply: ThreadReply
    try {
      const result = handle(request)
      reply = { id: request.id, ok: true, result }
      // A byte result (RawEvents) moves to the main thread instead of being copied.
      if (result instanceof Uint8Array) {
        parentPort!.postMessage(reply, [result.buffer as ArrayBuffer])
        return
      }
    } catch (error) {
      reply = { id: request.id, ok: false, error: (error as Error).message }
    }
    parentPort!.postMessage(reply)
  })
}
