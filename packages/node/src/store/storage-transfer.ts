// Moving events between stores, for `hansa storage export|import|migrate|stats`: a source is
// read in pages ordered by arrival (seq), so memory stays bounded whatever the store's size
// and the events replay in the order they were accepted (a NIP-09 deletion after the events
// it names, a replacement after what it replaced). Export writes one event per line (JSON
// lines, as strfry and nostream export); import checks every line like the relay does
// (shape, id, signature) before it is stored; migrate copies a SQLite store into PostgreSQL
// keeping each event's arrival time, then checks the counts.
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type NostrEvent, eventIdPreimage, eventShapeError, serializeEvent } from '@hansa/protocol'
import type { NodeConfig } from '../config.js'
import { VerifyPool } from '../verify/index.js'
import type { EventStore, StoredEventInput, WriteOutcome } from './event-store.js'
import { PostgresStore } from './postgres-store.js'
import { SqliteStore } from './sqlite-store.js'

export type SourceRow = { seq: number; raw: string; receivedAt: number }

/** Read side of a store, for tools: pages by seq, an exact count. */
export interface EventSource {
  readonly backend: 'sqlite' | 'postgres'
  count(): Promise<number>
  /** Events with seq > after, oldest first, at most `limit`. */
  page(after: number, limit: number): Promise<SourceRow[]>
}

export type Progress = (done: number, total: number) => void

const PAGE = 2000

export function sqliteSource(store: SqliteStore): EventSource {
  const count = store.db.prepare('SELECT count(*) FROM events').pluck()
  const page = store.db.prepare(
    'SELECT seq, raw, received_at AS receivedAt FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
  )
  return {
    backend: 'sqlite',
    count: async () => count.get() as number,
    page: async (after, limit) => page.all(after, limit) as SourceRow[],
  }
}

export function postgresSource(store: PostgresStore): EventSource {
  return {
    backend: 'postgres',
    async count() {
      const r = await store.pool.query<{ n: string }>('SELECT count(*)::bigint AS n FROM events')
      return Number(r.rows[0]!.n)
    },
    async page(after, limit) {
      const r = await store.pool.query<{ seq: string; raw: string; received_at: string }>(
        'SELECT seq, raw, received_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, limit],
      )
      return r.rows.map((row) => ({
        seq: Number(row.seq),
        raw: row.raw,
        receivedAt: Number(row.received_at),
      }))
    },
  }
}

/** The store a node with this configuration uses, opened for a tool (no live feed, no threads). */
export async function openConfiguredStore(
  config: NodeConfig,
): Promise<{ store: EventStore; source: EventSource }> {
  if (config.storage.backend === 'postgres') {
    const store = await PostgresStore.open({
      url: config.storage.url,
      poolSize: 2,
      statementTimeoutMs: 0,
      live: false,
    })
    return { store, source: postgresSource(store) }
  }
  const store = openSqlite(config.dataDir, config.storage.synchronous)
  return { store, source: sqliteSource(store) }
}

export function openSqlite(dataDir: string, synchronous: 'full' | 'normal' = 'full'): SqliteStore {
  return new SqliteStore({ path: join(dataDir, 'events.sqlite'), synchronous, writerThread: false })
}

/** Every event of the source, one JSON line each, written through `write` (which may wait). */
export async function exportEvents(
  source: EventSource,
  write: (chunk: string) => Promise<void>,
  progress?: Progress,
): Promise<{ events: number }> {
  const total = await source.count()
  let after = 0
  let done = 0
  for (;;) {
    const rows = await source.page(after, PAGE)
    if (rows.length === 0) break
    await write(`${rows.map((r) => r.raw).join('\n')}\n`)
    after = rows[rows.length - 1]!.seq
    done += rows.length
    progress?.(done, Math.max(total, done))
  }
  return { events: done }
}

export type ImportReport = {
  lines: number
  stored: number
  duplicate: number
  superseded: number
  deleted: number
  invalid: number
  /** The first few refusals, with their line numbers. */
  refusals: Array<{ line: number; reason: string }>
}

const tally = (report: ImportReport, outcomes: readonly WriteOutcome[]) => {
  for (const o of outcomes) report[o.status]++
}

/**
 * Stores the events of JSON lines: each line is checked (shape, then id and signature on the
 * verifier pool) and refused lines are counted, never stored. Empty lines are skipped.
 */
export async function importEvents(
  store: EventStore,
  input: NodeJS.ReadableStream,
  options: { verifyThreads?: number; now?: () => number; progress?: Progress } = {},
): Promise<ImportReport> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  const verifier = await VerifyPool.create({
    threads: options.verifyThreads ?? 1,
    backend: 'auto',
  })
  const report: ImportReport = {
    lines: 0,
    stored: 0,
    duplicate: 0,
    superseded: 0,
    deleted: 0,
    invalid: 0,
    refusals: [],
  }
  const refuse = (line: number, reason: string) => {
    report.invalid++
    if (report.refusals.length < 20) report.refusals.push({ line, reason })
  }
  let batch: Array<{ line: number; event: NostrEvent }> = []
  const flush = async () => {
    const checks = await Promise.all(
      batch.map(({ event }) =>
        verifier.check({
          id: event.id,
          pubkey: event.pubkey,
          sig: event.sig,
          serialized: eventIdPreimage(event),
        }),
      ),
    )
    const inputs: StoredEventInput[] = []
    for (const [i, { line, event }] of batch.entries()) {
      if (checks[i] !== 'ok') refuse(line, `invalid: ${checks[i]}`)
      else inputs.push({ event, raw: serializeEvent(event), receivedAt: now() })
    }
    tally(report, await store.writeBatch(inputs))
    batch = []
    options.progress?.(report.lines, 0)
  }
  // The line reader starts only now: lines read before anyone iterates would be lost.
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  try {
    for await (const text of lines) {
      report.lines++
      if (text.trim() === '') continue
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        refuse(report.lines, 'invalid: not JSON')
        continue
      }
      const shape = eventShapeError(value)
      if (shape) {
        refuse(report.lines, `invalid: ${shape}`)
        continue
      }
      const e = value as NostrEvent
      // Only the seven NIP-01 fields are kept, as the relay keeps them.
      const event: NostrEvent = {
        id: e.id,
        pubkey: e.pubkey,
        created_at: e.created_at,
        kind: e.kind,
        tags: e.tags,
        content: e.content,
        sig: e.sig,
      }
      batch.push({ line: report.lines, event })
      if (batch.length >= PAGE) await flush()
    }
    if (batch.length > 0) await flush()
  } finally {
    await verifier.close()
  }
  report.refusals.sort((a, b) => a.line - b.line)
  return report
}

export type MigrateReport = {
  source: { backend: string; events: number }
  target: { backend: string; before: number; after: number }
  stored: number
  duplicate: number
  superseded: number
  deleted: number
  /** True when every source event is in the target and nothing else changed there. */
  countsMatch: boolean
}

/**
 * Copies every event of `source` into `target` in arrival order, keeping arrival times (the
 * inbox's retention counts from them). Events were checked when they were first accepted, so
 * they are not verified again. Run again, it stores only what is missing.
 */
export async function migrateEvents(
  source: EventSource,
  target: { store: EventStore; source: EventSource },
  progress?: Progress,
): Promise<MigrateReport> {
  const total = await source.count()
  const before = await target.source.count()
  const report = { stored: 0, duplicate: 0, superseded: 0, deleted: 0 }
  let after = 0
  let done = 0
  for (;;) {
    const rows = await source.page(after, PAGE)
    if (rows.length === 0) break
    const inputs = rows.map((r) => ({
      event: JSON.parse(r.raw) as NostrEvent,
      raw: r.raw,
      receivedAt: r.receivedAt,
    }))
    for (const o of await target.store.writeBatch(inputs)) report[o.status]++
    after = rows[rows.length - 1]!.seq
    done += rows.length
    progress?.(done, Math.max(total, done))
  }
  const afterCount = await target.source.count()
  return {
    source: { backend: source.backend, events: done },
    target: { backend: target.source.backend, before, after: afterCount },
    ...report,
    countsMatch:
      done === total &&
      report.stored + report.duplicate === done &&
      afterCount - before === report.stored,
  }
}

/** What `hansa storage stats` shows. */
export async function storageStats(
  store: EventStore,
  source: EventSource,
): Promise<{
  backend: string
  events: number
  bytes: number
  byKindClass: Record<string, number>
}> {
  const events = await source.count()
  const bytes = await store.storedBytes()
  const byKindClass: Record<string, number> = {}
  const classes: Array<[string, string]> = [
    ['regular', '(kind < 10000 AND kind NOT IN (0, 3)) OR kind >= 40000'],
    ['replaceable', 'kind IN (0, 3) OR (kind >= 10000 AND kind < 20000)'],
    ['addressable', 'kind >= 30000 AND kind < 40000'],
  ]
  for (const [name, where] of classes) {
    if (store instanceof PostgresStore) {
      const r = await store.pool.query<{ n: string }>(
        `SELECT count(*)::bigint AS n FROM events WHERE ${where}`,
      )
      byKindClass[name] = Number(r.rows[0]!.n)
    } else if (store instanceof SqliteStore) {
      byKindClass[name] = store.db
        .prepare(`SELECT count(*) FROM events WHERE ${where}`)
        .pluck()
        .get() as number
    }
  }
  return { backend: source.backend, events, bytes, byKindClass }
}
