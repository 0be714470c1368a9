// Live fan-out between the processes of one node: each process LISTENs on one channel, and
// every event another process accepts arrives as a NOTIFY, sent by the committing
// transaction (stored events, postgres-schema.ts) or by `shareEphemeral` (ephemeral ones).
// A payload is `<origin> @<seq> <event JSON>` (a stored event) or `<origin> <event JSON>` (an
// ephemeral one); an event past NOTIFY's 8000-byte limit travels as `<origin> #<seq>` (a
// stored event) or `<origin> ~<seq>` (the overflow table), and is read back with one query.
// Notifications are handled in order, one at a time, so the order in which PostgreSQL
// delivers them is the order subscribers see.
//
// If the LISTEN connection breaks it is reopened with a growing delay, and the stored events
// committed meanwhile are replayed to the listeners: those after the last seq heard, read
// back from a little before it (a transaction may commit after one that took a later seq),
// skipping what was delivered already or written by this process. At most MAX_REPLAY are
// replayed (a longer outage is counted, and subscribers ask again with `since`); ephemeral
// events sent while the connection was down are gone, as they would be for a client offline.
import type { NostrEvent } from '@hansa/protocol'
import type pg from 'pg'
import { reconnectWithBackoff } from './pg-reconnect.js'
import { LIVE_CHANNEL } from './postgres-schema.js'

export type LiveListener = (event: NostrEvent, raw: string) => void

export type LiveOptions = {
  url: string
  origin: string
  fetchStored(seq: string): Promise<string | undefined>
  fetchOverflow(seq: string): Promise<string | undefined>
  /** The highest seq stored now (where the replay after a first break starts). */
  fetchMaxSeq(): Promise<bigint>
  /** Stored events with seq > `after`, oldest first, at most `limit`. */
  fetchSince(after: bigint, limit: number): Promise<Array<{ seq: bigint; raw: string }>>
  /** The first delay before reconnecting (doubles to 10 s); 100 ms. */
  reconnectDelayMs?: number
}

/** Pending notifications past this are dropped (and counted): the database outruns us. */
const MAX_QUEUE = 10_000
/** How far before the last seq heard a replay reads (commits out of seq order). */
const REPLAY_WINDOW = 1000n
/** Events one replay delivers at most. */
const MAX_REPLAY = 10_000
/** Ids remembered as delivered or written here, to skip in a replay. */
const REMEMBERED = 20_000

/** A set that forgets its oldest entries past `max`. */
class RecentIds {
  private readonly ids = new Set<string>()
  constructor(private readonly max: number) {}
  add(id: string): void {
    this.ids.add(id)
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value!)
  }
  has(id: string): boolean {
    return this.ids.has(id)
  }
}

export class PostgresLive {
  private client: pg.Client | undefined
  private readonly listeners: LiveListener[] = []
  private chain: Promise<void> = Promise.resolve()
  private queued = 0
  private stopped = false
  private readonly counts = {
    received: 0,
    fetched: 0,
    dropped: 0,
    reconnects: 0,
    replayed: 0,
    replayMissed: 0,
  }
  /** The highest seq heard or replayed; undefined until the first connection. */
  private lastSeq: bigint | undefined
  private readonly seen = new RecentIds(REMEMBERED)

  private constructor(private readonly options: LiveOptions) {}

  static async start(options: LiveOptions): Promise<PostgresLive> {
    const live = new PostgresLive(options)
    live.lastSeq = await options.fetchMaxSeq()
    await live.connect()
    return live
  }

  /** Events this process stored itself: never replayed to it. */
  noteOwn(ids: Iterable<string>): void {
    for (const id of ids) this.seen.add(id)
  }

  addListener(listener: LiveListener): void {
    this.listeners.push(listener)
  }

  status() {
    return { connected: this.client !== undefined, ...this.counts }
  }

  private async connect(replay = false): Promise<void> {
    const { default: pgModule } = await import('pg')
    const client = new pgModule.Client({
      connectionString: this.options.url,
      application_name: `hansa-live-${this.options.origin}`,
    })
    client.on('error', () => this.reconnect(client))
    client.on('end', () => this.reconnect(client))
    client.on('notification', (n) => this.onNotification(n.payload ?? ''))
    await client.connect()
    // The replay goes first in the queue, and reads once LISTEN is on: what commits after
    // that arrives by notification (and is skipped if the replay read it too).
    let listening: () => void = () => {}
    let failed: () => void = () => {}
    if (replay) {
      const on = new Promise<void>((resolve, reject) => {
        listening = resolve
        failed = reject
      })
      on.catch(() => {})
      this.chain = this.chain.then(() => on.then(() => this.replay())).catch(() => {})
    }
    try {
      await client.query(`LISTEN ${LIVE_CHANNEL}`)
    } catch (error) {
      failed()
      client.end().catch(() => {})
      throw error
    }
    this.client = client
    listening()
  }

  /** Delivers the stored events committed while the connection was down. */
  private async replay(): Promise<void> {
    if (this.lastSeq === undefined) return
    let after = this.lastSeq > REPLAY_WINDOW ? this.lastSeq - REPLAY_WINDOW : 0n
    let delivered = 0
    while (delivered < MAX_REPLAY) {
      const rows = await this.options.fetchSince(after, 500)
      for (const { seq, raw } of rows) {
        after = seq
        const event = JSON.parse(raw) as NostrEvent
        if (this.seen.has(event.id)) continue
        this.emit(event, raw, seq)
        this.counts.replayed++
        if (++delivered >= MAX_REPLAY) break
      }
      if (rows.length < 500) return
    }
    this.counts.replayMissed++
  }

  private reconnect(broken: pg.Client): void {
    if (this.client !== broken || this.stopped) return
    this.client = undefined
    broken.end().catch(() => {})
    reconnectWithBackoff({
      delay: this.options.reconnectDelayMs ?? 100,
      stopped: () => this.stopped,
      connect: () => {
        this.counts.reconnects++
        return this.connect(true)
      },
    })
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
    let seq: bigint | undefined
    if (body.startsWith('@')) {
      const space = body.indexOf(' ')
      seq = BigInt(body.slice(1, space))
      raw = body.slice(space + 1)
    } else if (body.startsWith('#') || body.startsWith('~')) {
      this.counts.fetched++
      const ref = body.slice(1)
      if (body[0] === '#') seq = BigInt(ref)
      raw =
        body[0] === '#'
          ? await this.options.fetchStored(ref)
          : await this.options.fetchOverflow(ref)
      if (raw === undefined) return // deleted or pruned meanwhile
    }
    const event = JSON.parse(raw) as NostrEvent
    if (seq !== undefined && this.seen.has(event.id)) return // replayed already
    this.emit(event, raw, seq)
  }

  private emit(event: NostrEvent, raw: string, seq: bigint | undefined): void {
    if (seq !== undefined) {
      this.seen.add(event.id)
      if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq
    }
    for (const listener of this.listeners) listener(event, raw)
  }

  async stop(): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
