// The queue in front of the reader threads. Each reader holds one query at a time; the others
// wait here, one queue per client (the relay names the client's address), served in turn — so
// a client with a thousand queries waiting delays another client's query by one query each,
// not by a thousand. The queues together are bounded (`maxQueued`: past it a query is refused
// at once, StoreBusyError), and each query has a time budget (`timeoutMs`: past it the query
// is answered StoreTimeoutError and its reader thread is ended and replaced — SQLite cannot be
// interrupted from another thread, a thread can).
import type { WorkerPool } from '../worker-pool.js'
import { StoreBusyError, StoreTimeoutError } from './event-store.js'

type Job = {
  message: object
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

export type ReadQueueOptions = {
  /** Queries waiting at most (default: no bound). */
  maxQueued?: number
  /** Longest a query may run on its thread (default: no limit). */
  timeoutMs?: number
}

export class ReadQueue {
  private readonly queues = new Map<string, Job[]>()
  private readonly turns: string[] = []
  private waiting = 0
  /** Which reader (by index) holds a query now. */
  private readonly busy: boolean[] = []

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: ReadQueueOptions = {},
  ) {}

  /** Queries waiting for a reader now. */
  get queued(): number {
    return this.waiting
  }

  /** Resolves once no query waits or runs (and any stopped thread has been replaced). */
  async idle(): Promise<void> {
    while (this.waiting > 0 || this.busy.some(Boolean)) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  request(message: object, client = ''): Promise<unknown> {
    const refused = this.pool.refusal()
    if (refused) return Promise.reject(refused)
    const max = this.options.maxQueued
    if (max !== undefined && this.waiting >= max) return Promise.reject(new StoreBusyError(max))
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(client)
      if (!queue) {
        queue = []
        this.queues.set(client, queue)
        this.turns.push(client)
      }
      queue.push({ message, resolve, reject })
      this.waiting++
      this.pump()
    })
  }

  /** The next query, from the client whose turn it is. */
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

  private pump(): void {
    for (let index = 0; index < this.pool.size && this.waiting > 0; index++) {
      if (this.busy[index]) continue
      const job = this.next()!
      this.busy[index] = true
      let settled = false
      const free = () => {
        this.busy[index] = false
        queueMicrotask(() => this.pump())
      }
      const done = (release = true) => {
        if (settled) return false
        settled = true
        if (timer) clearTimeout(timer)
        if (release) free()
        return true
      }
      const ms = this.options.timeoutMs
      const timer =
        ms === undefined
          ? undefined
          : setTimeout(() => {
              if (!done(false)) return
              job.reject(new StoreTimeoutError(ms))
              // The pool rejects what the thread held and puts a fresh thread in its place;
              // the slot takes no query until then.
              this.pool.terminateWorker(index).then(free, free)
            }, ms)
      this.pool.sendTo(index, job.message).then(
        (result) => {
          if (done()) job.resolve(result)
        },
        (error: Error) => {
          if (done()) job.reject(error)
        },
      )
    }
  }
}
