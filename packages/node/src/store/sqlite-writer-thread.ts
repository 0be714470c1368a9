// The writer thread: owns the store's only writing connection and runs SqliteWriter on the
// requests the main thread posts. A request is answered after its transaction commits.
import { workerData } from 'node:worker_threads'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { type WriteItem, SqliteWriter } from './sqlite-writer.js'
import { serveRequests } from '../worker-pool.js'

export type WriterRequest =
  | { id: number; op: 'write'; items: WriteItem[] }
  | { id: number; op: 'pruneExpired'; now: number }
  | { id: number; op: 'pruneReceivedBefore'; kinds: number[]; before: number }
  | { id: number; op: 'close' }

const { path, synchronous } = workerData as { path: string; synchronous: Synchronous }
const db = openDatabase(path, synchronous)
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
