// The single writer: events that passed every check queue here and are committed together
// in one transaction per turn of the event loop, so a durable commit is paid once per batch.
// Each caller learns its own outcome only after the commit: that is when OK true may be sent.
import type { Histogram } from 'prom-client'
import type { EventStore, StoredEventInput, WriteOutcome } from '../store/event-store.js'

type Pending = {
  input: StoredEventInput
  resolve: (o: WriteOutcome) => void
  reject: (e: unknown) => void
}

export class EventWriter {
  private queue: Pending[] = []
  /** Bytes of the events waiting to be written: the relay refuses new ones past a bound. */
  queuedBytes = 0
  private flushing: Promise<void> | null = null
  private scheduled = false

  constructor(
    private readonly store: EventStore,
    private readonly writeSeconds: Histogram,
    private readonly maxBatch = 2000,
  ) {}

  write(input: StoredEventInput): Promise<WriteOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject })
      this.queuedBytes += input.raw.length
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.flushing = this.flush().finally(() => {
        this.flushing = null
        if (this.queue.length > 0) this.schedule()
      })
    })
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch)
      for (const p of batch) this.queuedBytes -= p.input.raw.length
      const stop = this.writeSeconds.startTimer()
      try {
        const outcomes = await this.store.writeBatch(batch.map((p) => p.input))
        stop()
        for (const [i, p] of batch.entries()) p.resolve(outcomes[i]!)
      } catch (error) {
        stop()
        for (const p of batch) p.reject(error)
      }
    }
  }

  /** Resolves when everything queued so far is committed. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.flushing || this.scheduled) {
      if (this.flushing) await this.flushing
      else await new Promise((r) => setImmediate(r))
    }
  }
}
