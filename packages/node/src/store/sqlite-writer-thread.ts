// The writer thread: owns the store's only writing connection and runs SqliteWriter on the
// requests the main thread posts. A request is answered after its transaction commits.
import { parentPort, workerData } from 'node:worker_threads'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { type WriteItem, SqliteWriter } from './sqlite-writer.js'
import type { ThreadReply } from './thread-pool.js'

export type WriterRequest =
  | { id: number; op: 'write'; items: WriteItem[] }
  | { id: number; op: 'pruneExpired'; now: number }
  | { id: number; op: 'pruneReceivedBefore'; kinds: number[]; before: number }
  | { id: number; op: 'close' }

export type WriterReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }

const { path, synchronous } = workerData as { path: string; synchronous: Synchronous }
const db = openDatabase(path, synchronous)
const writer = new SqliteWriter(db)

parentPort!.on('message', (request: WriterRequest) => {
  let reply: ThreadReply
  try {
    switch (request.op) {
      case 'write':
        reply = { id: request.id, ok: true, result: writer.writeBatch(request.items) }
        break
      case 'pruneExpired':
        reply = { id: request.id, ok: true, result: writer.pruneExpired(request.now) }
        break
      case 'pruneReceivedBefore':
        reply = {
          id: request.id,
          ok: true,
          result: writer.pruneReceivedBefore(request.kinds, request.before),
        }
        break
      case 'close':
        db.pragma('wal_checkpoint(TRUNCATE)')
        db.close()
        reply = { id: request.id, ok: true, result: null }
        break
    }
  } catch (error) {
    reply = { id: request.id, ok: false, error: (error as Error).message }
  }
  parentPort!.postMessage(reply)
})
