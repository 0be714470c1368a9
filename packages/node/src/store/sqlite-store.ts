// The embedded default store: better-sqlite3 in WAL mode. Reads run on the relay's thread
// (a query is ~0.1 ms); writes go to one writer thread (sqlite-writer-thread.ts), which
// commits each batch in one transaction, so `synchronous=FULL` (an acknowledged event
// survives power loss) costs one fsync per batch and the fsync never stops the event loop.
// Results come newest first; ties on created_at are not broken by id, so the index alone
// gives the order.
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { type Filter, tagConditions } from '@hansa/protocol'
import type {
  EventStore,
  QueryOptions,
  ReadAccess,
  StoredEventInput,
  WriteOutcome,
} from './event-store.js'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { SqliteWriter } from './sqlite-writer.js'
import type { WriterReply, WriterRequest } from './sqlite-writer-thread.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

type SqlPart = { sql: string; params: unknown[] }

export type SqliteStoreOptions = {
  path: string
  synchronous: Synchronous
  /** Write on a worker thread (the default). false writes on the calling thread. */
  writerThread?: boolean
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void }
type Request = WriterRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never

/** Talks to the writer thread; respawns it if it dies, failing what it had in hand. */
class WriterThread {
  private worker!: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private closed = false

  constructor(private readonly options: { path: string; synchronous: Synchronous }) {
    this.spawn()
  }

  private spawn(): void {
    const worker = new Worker(new URL('./sqlite-writer-thread.js', import.meta.url), {
      workerData: this.options,
    })
    worker.on('message', (reply: WriterReply) => {
      const p = this.pending.get(reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      if (reply.ok) p.resolve(reply.result)
      else p.reject(new Error(reply.error))
    })
    const fail = (error: Error) => {
      if (this.worker !== worker) return
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
      if (!this.closed) this.spawn()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)))
    this.worker = worker
  }

  request(request: Request): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the store is closed'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...request, id })
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.request({ op: 'close' })
    this.closed = true
    await this.worker.terminate()
  }
}

export class SqliteStore implements EventStore {
  /** The reading connection (the relay's thread). */
  readonly db: Database.Database
  private readonly writer: WriterThread | SqliteWriter
  private readonly count_
  private readonly statements = new Map<string, Database.Statement>()

  constructor(options: SqliteStoreOptions) {
    this.db = openDatabase(options.path, options.synchronous)
    this.count_ = this.db.prepare('SELECT count(*) FROM events').pluck()
    this.writer =
      options.writerThread === false
        ? new SqliteWriter(this.db)
        : new WriterThread({ path: options.path, synchronous: options.synchronous })
  }

  async writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]> {
    const items = batch.map((b) => ({ raw: b.raw, receivedAt: b.receivedAt }))
    if (this.writer instanceof SqliteWriter) return this.writer.writeBatch(items)
    return (await this.writer.request({ op: 'write', items })) as WriteOutcome[]
  }

  /** Prepared statements by SQL text: filters repeat their shapes, preparing costs more than running. */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear()
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /**
   * The WHERE clause of a filter. With `driveByTag`, the first tag condition is left out:
   * the caller joins the tags table on it, so its index (name, value, created_at) leads.
   */
  private whereClause(
    filter: Filter,
    access: ReadAccess,
    now: number,
    driveByTag = false,
  ): SqlPart {
    const where: string[] = ['(e.expiration IS NULL OR e.expiration > ?)']
    const params: unknown[] = [now]
    const inList = (column: string, values: readonly unknown[]) => {
      where.push(`${column} IN (${values.map(() => '?').join(',')})`)
      params.push(...values)
    }
    if (filter.ids) inList('e.id', filter.ids.map(hex))
    if (filter.authors) inList('e.pubkey', filter.authors.map(hex))
    if (filter.kinds) inList('e.kind', filter.kinds)
    if (filter.since !== undefined) {
      where.push('e.created_at >= ?')
      params.push(filter.since)
    }
    if (filter.until !== undefined) {
      where.push('e.created_at <= ?')
      params.push(filter.until)
    }
    for (const [letter, values] of tagConditions(filter).slice(driveByTag ? 1 : 0)) {
      where.push(
        `EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = ? AND t.value IN (${values.map(() => '?').join(',')}))`,
      )
      params.push(letter, ...values)
    }
    const privateKinds = access.privateKinds.filter(
      (k) => !filter.kinds || filter.kinds.includes(k),
    )
    if (privateKinds.length > 0) {
      const kinds = privateKinds.map(() => '?').join(',')
      if (access.readerPubkeys.length === 0) {
        where.push(`e.kind NOT IN (${kinds})`)
        params.push(...privateKinds)
      } else {
        const readers = access.readerPubkeys.map(() => '?').join(',')
        where.push(
          `(e.kind NOT IN (${kinds}) OR EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = 'p' AND t.value IN (${readers})))`,
        )
        params.push(...privateKinds, ...access.readerPubkeys)
      }
    }
    return { sql: where.join(' AND '), params }
  }

  async query(filter: Filter, options: QueryOptions): Promise<string[]> {
    return this.querySync(filter, options)
  }

  querySync(filter: Filter, options: QueryOptions): string[] {
    if (filter.search !== undefined) return [] // NIP-50 search is not offered.
    const limit = Math.min(filter.limit ?? options.limit, options.limit)
    if (limit === 0) return []
    const tag = tagConditions(filter)[0]
    if (tag && !filter.ids && !filter.authors) {
      // Lead with the tag index; an event tagged twice with matching values comes back
      // twice, so rows are de-duplicated by seq.
      const where = this.whereClause(filter, options, options.now, true)
      const sql = `SELECT e.seq, e.raw FROM tags t JOIN events e ON e.seq = t.seq
        WHERE t.name = ? AND t.value IN (${tag[1].map(() => '?').join(',')}) AND ${where.sql}
        ORDER BY t.created_at DESC LIMIT ?`
      const rows = this.prepared(sql)
        .raw()
        .all(tag[0], ...tag[1], ...where.params, limit) as Array<[number, string]>
      const seen = new Set<number>()
      const out: string[] = []
      for (const [seq, raw] of rows) {
        if (seen.has(seq)) continue
        seen.add(seq)
        out.push(raw)
      }
      return out
    }
    const where = this.whereClause(filter, options, options.now)
    const sql = `SELECT e.raw FROM events e WHERE ${where.sql} ORDER BY e.created_at DESC LIMIT ?`
    return this.prepared(sql)
      .pluck()
      .all(...where.params, limit) as string[]
  }

  async count(filter: Filter, options: ReadAccess & { now: number }): Promise<number> {
    const where = this.whereClause(filter, options, options.now)
    return this.prepared(`SELECT count(*) FROM events e WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) as number
  }

  async pruneExpired(now: number): Promise<number> {
    if (this.writer instanceof SqliteWriter) return this.writer.pruneExpired(now)
    return (await this.writer.request({ op: 'pruneExpired', now })) as number
  }

  async pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): Promise<number> {
    if (this.writer instanceof SqliteWriter) {
      return this.writer.pruneReceivedBefore(kinds, receivedBefore)
    }
    return (await this.writer.request({
      op: 'pruneReceivedBefore',
      kinds: [...kinds],
      before: receivedBefore,
    })) as number
  }

  async storedBytes(): Promise<number> {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number
    const pageSize = this.db.pragma('page_size', { simple: true }) as number
    return pageCount * pageSize
  }

  async eventCount(): Promise<number> {
    return this.count_.get() as number
  }

  async close(): Promise<void> {
    if (!this.db.open) return
    if (this.writer instanceof WriterThread) await this.writer.close()
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.db.close()
  }
}
