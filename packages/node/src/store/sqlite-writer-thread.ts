// The writer thread: owns the store's only writing connection and runs SqliteWriter on the
// requests the main thread posts. A request is answered after its transaction commits.
import { workerData } from 'node:worker_threads'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { type WriteItem, SqliteWriter } from './sqlite-writer.js'
import { serveRequests } from '../worker-pool.js'

/** The writer connection's page cache, in KiB. */
const WRITER_CACHE_KIB = 8192

export type WriterRequest =
  | { id: number; op: 'write'; items: WriteItem[] }
  | { id: number; op: 'pruneExpired'; now: number }
  | { id: number; op: 'pruneReceivedBefore'; kinds: number[]; before: number }
  | { id: number; op: 'close' }

const { path, synchronous } = workerData as { path: string; synchronous: Synchronous }
const db = openDatabase(path, synchronous)
// The writer keeps a page cache of 8 MiB, not the readers' 64: each commit ends by walking
// half the cache's hash table (SQLite's pcache1Truncate, from pager_end_transaction), and a
// larger cache also keeps faulting in fresh memory. −10 % node CPU per event in the relay
// bench; bench/dist/writer-cache.js measures the writer alone. Pages it evicts come back from
// the memory map, not the disk.
db.pragma(`cache_size = -${WRITER_CACHE_KIB}`)
const writer = new SqliteWriter(db)

serveRequests<WriterRequest>((request) => {
  switch (request.op) {
    case 'write':
      return writer.writeBatch(request.items)
    case 'pruneExpired':
      return writer.pruneExpired(request.now)
    case 'pruneReceivedBefore':
      return writer.pruneReceivedBefore(request.kinds, request.before)
    case 'close':
      db.pragma('wal_checkpoint(TRUNCATE)')
      db.close()
      return null
  }
})
