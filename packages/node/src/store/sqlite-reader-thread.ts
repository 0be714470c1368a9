// A reader thread: its own connection to the store, answering queries and counts so the
// relay's thread only parses, routes and sends.
import { workerData } from 'node:worker_threads'
import type { Filter } from '@hansa/protocol/events'
import {
  type FramesOptions,
  type QueryOptions,
  type SyncItemsOptions,
  utf8Bytes,
} from './event-store.js'
import { type Synchronous, openDatabase } from './sqlite-schema.js'
import { type CountOptions, SqliteReader } from './sqlite-reader.js'
import { serveRequests } from '../worker-pool.js'

export type ReaderRequest =
  | { id: number; op: 'query'; filter: Filter; options: QueryOptions }
  | { id: number; op: 'queryFrames'; filter: Filter; options: FramesOptions }
  | { id: number; op: 'count'; filters: Filter[]; options: CountOptions }
  | { id: number; op: 'syncItems'; filter: Filter; options: SyncItemsOptions }
  | { id: number; op: 'close' }

const { path, synchronous } = workerData as { path: string; synchronous: Synchronous }
const db = openDatabase(path, synchronous)
const reader = new SqliteReader(db)

serveRequests<ReaderRequest>((request) => {
  switch (request.op) {
    case 'query': {
      const events = reader.query(request.filter, request.options)
      return { events, bytes: utf8Bytes(events) }
    }
    case 'queryFrames':
      return reader.queryFrames(request.filter, request.options)
    case 'count':
      return reader.count(request.filters, request.options)
    case 'syncItems':
      return reader.syncItems(request.filter, request.options)
    case 'close':
      db.close()
      return null
  }
})
