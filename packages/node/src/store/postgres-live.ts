// Live fan-out between the processes of one node: each process LISTENs on one channel, and
// every event another process accepts arrives as a NOTIFY, sent by the committing
// transaction (stored events, postgres-schema.ts) or by `shareEphemeral` (ephemeral ones).
// A payload is `<origin> <event JSON>`; an event past NOTIFY's 8000-byte limit travels as
// `<origin> #<seq>` (a stored event) or `<origin> ~<seq>` (the overflow table), and is read
// back with one query. Notifications are handled in order, one at a time, so the order in
// which PostgreSQL delivers them is the order subscribers see.
//
// If the LISTEN connection breaks it is reopened with a growing delay; events committed
// while it was down are not replayed (a subscriber that needs them asks again with `since`).
import type { NostrEvent } from '@hansa/protocol'
import type pg from 'pg'
import { LIVE_CHANNEL } from './postgres-schema.js'

export type LiveListener = (event: NostrEvent, raw: string) => void

export type LiveOptions = {
  url: string
  origin: string
  fetchStored(seq: string): Promise<string | undefined>
  fetchOverflow(seq: string): Promise<string | undefined>
}

/** Pending notifications past this are dropped (and counted): the database outruns us. */
const MAX_QUEUE = 10_000

export class PostgresLive {
  private client: pg.Client | undefined
  private readonly listeners: LiveListener[] = []
  private chain: Promise<void> = Promise.resolve()
  private queued = 0
  private stopped = false
  private reconnectDelay = 100
  private readonly counts = { received: 0, fetched: 0, dropped: 0, reconnects: 0 }

  private constructor(private readonly options: LiveOptions) {}

  static async start(options: LiveOptions): Promise<PostgresLive> {
    const live = new PostgresLive(options)
    await live.connect()
    return live
  }

  addListener(listener: LiveListener): void {
    this.listeners.push(listener)
  }

  status() {
    return { connected: this.client !== undefined, ...this.counts }
  }

  private async connect(): Promise<void> {
    const { default: pgModule } = await import('pg')
    const client = new pgModule.Client({ connectionString: this.options.url })
    client.on('error', () => this.reconnect(client))
    client.on('end', () => this.reconnect(client))
    client.on('notification', (n) => this.onNotification(n.payload ?? ''))
    await client.connect()
    await client.query(`LISTEN ${LIVE_CHANNEL}`)
    this.client = client
    this.reconnectDelay = 100
  }

  private reconnect(broken: pg.Client): void {
    if (this.client !== broken || this.stopped) return
    this.client = undefined
    broken.end().catch(() => {})
    const retry = () => {
      if (this.stopped) return
      this.counts.reconnects++
      this.connect().catch(() => {
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, 10_000)
        setTimeout(retry, this.reconnectDelay).unref()
      })
    }
    setTimeout(retry, this.reconnectDelay).unref()
  }

  private onNotification(payload: string): void {
    const space = payload.indexOf(' ')
    if (space < 0 || payload.slice(0, space) === this.options.origin) return
    this.counts.received++
    if (this.queued >= MAX_QUEUE) {
      this.counts.dropped++
      return
    }
    this.queued++
    const body = payload.slice(space + 1)
    this.chain = this.chain
      .then(() => this.deliver(body))
      .catch(() => {})
      .finally(() => {
        this.queued--
      })
  }

  private async deliver(body: string): Promise<void> {
    let raw: string | undefined = body
    if (body.startsWith('#') || body.startsWith('~')) {
      this.counts.fetched++
      const seq = body.slice(1)
      raw =
        body[0] === '#'
          ? await this.options.fetchStored(seq)
          : await this.options.fetchOverflow(seq)
      if (raw === undefined) return // deleted or pruned meanwhile
    }
    const event = JSON.parse(raw) as NostrEvent
    for (const listener of this.listeners) listener(event, raw)
  }

  async stop(): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
