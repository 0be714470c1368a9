// A small request/reply pool of worker threads for the store: the writer is a pool of one,
// the readers a pool of several. A request goes to the worker with the fewest in hand; a
// worker that dies fails only the requests it held and is replaced.
import { Worker, parentPort } from 'node:worker_threads'

export type ThreadReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void }
type Slot = { worker: Worker; pending: Map<number, Pending> }

export class ThreadPool {
  private readonly slots: Slot[] = []
  private nextId = 1
  private closed = false

  constructor(
    private readonly script: URL,
    private readonly workerData: unknown,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const slot: Slot = {
      worker: new Worker(this.script, { workerData: this.workerData }),
      pending: new Map(),
    }
    slot.worker.on('message', (reply: ThreadReply) => {
      const p = slot.pending.get(reply.id)
      if (!p) return
      slot.pending.delete(reply.id)
      if (reply.ok) p.resolve(reply.result)
      else p.reject(new Error(reply.error))
    })
    let failed = false
    const fail = (error: Error) => {
      if (failed) return
      failed = true
      for (const p of slot.pending.values()) p.reject(error)
      slot.pending.clear()
      const i = this.slots.indexOf(slot)
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn()
    }
    slot.worker.on('error', fail)
    slot.worker.on('exit', (code) => fail(new Error(`a store thread exited (code ${code})`)))
    return slot
  }

  request(request: { op: string } & Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    let slot = this.slots[0]!
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      slot.worker.postMessage({ ...request, id })
    })
  }

  /** Lets every worker finish its work and close its connection, then ends it. */
  async close(): Promise<void> {
    if (this.closed) return
    const slots = [...this.slots]
    await Promise.all(
      slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const id = this.nextId++
            slot.pending.set(id, { resolve: () => resolve(), reject: () => resolve() })
            slot.worker.postMessage({ op: 'close', id })
          }),
      ),
    )
    this.closed = true
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
      reply = { id: request.id, ok: true, result: handle(request) }
    } catch (error) {
      reply = { id: request.id, ok: false, error: (error as Error).message }
    }
    parentPort!.postMessage(reply)
  })
}
