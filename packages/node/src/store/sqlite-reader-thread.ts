// A reader thread: its own connection to the store, answering queries and counts so the
// relay's thread only parses, routes and sends.
import { parentPort, workerData } from 'node:worker_threads'
import type { Filter } from '@hansa/protocol'
import { type QueryOptions, utf8Bytes } from './event-store.js'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { type CountOptions, SqliteReader } from './sqlite-reader.js'
import type { ThreadReply } from './thread-pool.js'

export type ReaderRequest =
  | { id: number; op: 'query'; filter: Filter; options: QueryOptions }
  | { id: number; op: 'count'; filter: Filter; options: CountOptions }
  | { id: number; op: 'close' }

const { path, synchronous } = workerData as { path: string; synchronous: Synchronous }
const db = openDatabase(path, synchronous)
const reader = new SqliteReader(db)

parentPort!.on('message', (request: ReaderRequest) => {
  let reply: ThreadReply
  try {
    switch (request.op) {
      case 'query': {
        const events = reader.query(request.filter, request.options)
        reply = { id: request.id, ok: true, result: { events, bytes: utf8Bytes(events) } }
        break
      }
      case 'count':
        reply = { id: request.id, ok: true, result: reader.count(request.filter, request.options) }
        break
      case 'close':
        db.close()
        reply = { id: request.id, ok: true, result: null }
        break
    }
  } catch (error) {
    reply = { id: request.id, ok: false, error: (error as Error).message }
  }
  parentPort!.postMessage(reply)
})
