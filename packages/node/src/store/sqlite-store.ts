// The embedded default store: better-sqlite3 in WAL mode, laid out as strfry's relay is.
// Writes go to one writer thread (sqlite-writer-thread.ts), which commits each batch in one
// transaction, so `synchronous=FULL` (an acknowledged event survives power loss) costs one
// fsync per batch and the fsync never stops the event loop. Queries go to reader threads
// (sqlite-reader-thread.ts) when there are any, else run on the calling thread; WAL lets
// every connection read while the writer commits. The read and write rules themselves are
// in sqlite-reader.ts and sqlite-writer.ts.
import type Database from 'better-sqlite3'
import type { Filter } from '@hansa/protocol'
import type { EventFrames } from '../relay/stored-frames.js'
import {
  type EventStore,
  type FramesOptions,
  type QueryOptions,
  type QueryResult,
  type StoredEventInput,
  type SyncItems,
  type SyncItemsOptions,
  type WriteOutcome,
  utf8Bytes,
} from './event-store.js'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { SqliteWriter } from './sqlite-writer.js'
import { type CountOptions, SqliteReader } from './sqlite-reader.js'
import { HansaError } from '@hansa/protocol'
import { WorkerPool } from '../worker-pool.js'
import { ReadQueue } from './read-queue.js'

export type SqliteStoreOptions = {
  path: string
  synchronous: Synchronous
  /** Write on a worker thread (the default). false writes on the calling thread. */
  writerThread?: boolean
  /** Threads that answer queries; 0 (the default) answers them on the calling thread. */
  readerThreads?: number
  /** Queries waiting for a reader thread at most (StoreBusyError past it). */
  maxQueuedQueries?: number
  /** A query's time budget on a reader thread (StoreTimeoutError past it). */
  queryTimeoutMs?: number
}

export class SqliteStore implements EventStore {
  /** The reading connection (the relay's thread). */
  readonly db: Database.Database
  private readonly writer: WorkerPool | SqliteWriter
  private readonly count_
  private readonly reader: SqliteReader
  private readonly readers: WorkerPool | undefined
  /** Fair, bounded, timed turns on the readers (read-queue.ts). */
  private readonly readQueue: ReadQueue | undefined

  constructor(options: SqliteStoreOptions) {
    this.db = openDatabase(options.path, options.synchronous)
    this.count_ = this.db.prepare('SELECT n FROM event_count WHERE one = 1').pluck()
    this.reader = new SqliteReader(this.db)
    const threadData = { path: options.path, synchronous: options.synchronous }
    this.writer =
      options.writerThread === false
        ? new SqliteWriter(this.db)
        : storePool('./sqlite-writer-thread.js', 'hansa-store-writer', threadData, 1)
    const readerThreads = options.readerThreads ?? 0
    this.readers =
      readerThreads > 0
        ? storePool('./sqlite-reader-thread.js', 'hansa-store-reader', threadData, readerThreads)
        : undefined
    this.readQueue =
      this.readers === undefined
        ? undefined
        : new ReadQueue(this.readers, {
            ...(options.maxQueuedQueries === undefined
              ? {}
              : { maxQueued: options.maxQueuedQueries }),
            ...(options.queryTimeoutMs === undefined ? {} : { timeoutMs: options.queryTimeoutMs }),
          })
  }

  async writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]> {
    const items = batch.map((b) => ({ raw: b.raw, receivedAt: b.receivedAt }))
    if (this.writer instanceof SqliteWriter) return this.writer.writeBatch(items)
    return (await this.writer.request({ op: 'write', items })) as WriteOutcome[]
  }

  /** Serialised events matching the filter, newest first, read on this thread. */
  querySync(filter: Filter, options: QueryOptions): string[] {
    return this.reader.query(filter, options)
  }

  async query(filter: Filter, options: QueryOptions): Promise<QueryResult> {
    if (this.readQueue) {
      return (await this.readQueue.request(
        { op: 'query', filter, options },
        options.client,
      )) as QueryResult
    }
    const events = this.reader.query(filter, options)
    return { events, bytes: utf8Bytes(events) }
  }

  async queryFrames(filter: Filter, options: FramesOptions): Promise<EventFrames> {
    if (this.readQueue) {
      return (await this.readQueue.request(
        { op: 'queryFrames', filter, options },
        options.client,
      )) as EventFrames
    }
    return this.reader.queryFrames(filter, options)
  }

  async count(filters: readonly Filter[], options: CountOptions): Promise<number> {
    if (this.readQueue) {
      return (await this.readQueue.request(
        { op: 'count', filters: [...filters], options },
        options.client,
      )) as number
    }
    return this.reader.count(filters, options)
  }

  async syncItems(filter: Filter, options: SyncItemsOptions): Promise<SyncItems | null> {
    if (this.readers) {
      return (await this.readers.request({ op: 'syncItems', filter, options })) as SyncItems | null
    }
    return this.reader.syncItems(filter, options)
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

  /** The triggers' running count (sqlite-schema.ts): one row read, never a scan. */
  async eventCount(): Promise<number> {
    return (this.count_.get() as number | undefined) ?? 0
  }

  async close(): Promise<void> {
    if (!this.db.open) return
    await this.readers?.close({ op: 'close' })
    if (this.writer instanceof WorkerPool) await this.writer.close({ op: 'close' })
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.db.close()
  }
}

/**
 * The store's threads: the node's one WorkerPool (../worker-pool.ts) and its rule for a thread
 * that dies — the requests it held fail (a write batch: its events get OK false "error: …"),
 * and it is replaced, unless it could not even open the database three times in a row.
 */
function storePool(script: string, name: string, workerData: unknown, size: number): WorkerPool {
  return new WorkerPool({
    script: new URL(script, import.meta.url),
    workerData,
    size,
    name,
    crashed: (details, cause) =>
      new HansaError('HANSA_STORE_THREAD_CRASHED', `a store thread died: ${details}`, { cause }),
    dead: (cause) =>
      new HansaError('HANSA_STORE_THREADS_DEAD', 'no store thread is left: they could not start', {
        details: cause === undefined ? undefined : String(cause),
        cause,
      }),
    failed: (message) => new HansaError('HANSA_STORE_REQUEST_FAILED', message),
    closed: () => new HansaError('HANSA_STORE_CLOSED', 'the store is closed'),
  })
}
