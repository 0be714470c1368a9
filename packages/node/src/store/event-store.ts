// What the relay needs from storage, so SQLite (the embedded default) and PostgreSQL
// (for coordinators who outgrow one machine) can sit behind the same engine. startNode takes
// any EventStore (node-parts.ts makes the SQLite one by default). A store owes the relay:
//   - durability: writeBatch resolves only once its batch is committed (an OK true is never lost);
//   - NIP-01 rules: replaceable and addressable kinds keep the newest (ties: the lowest id);
//     ephemeral kinds (20000-29999) never reach the store;
//   - NIP-09: a kind-5 by an event's author removes the named events and keeps them out — by
//     the author only (the tombstone names the author: a stranger's kind-5 blocks nothing);
//   - NIP-45: one COUNT's filters count each matching event once;
//   - bounds: a query stops at `maxBytes`; a backend with a queue refuses past its bound
//     (StoreBusyError) and may stop a query past its time budget (StoreTimeoutError);
//   - NIP-40: expired events are never returned or counted;
//   - private kinds: an event of one is returned (and counted) only for a reader named in its
//     `p` tags — filtered inside the store, so nothing private leaves it for the wrong reader;
//   - order: query results newest first (by created_at), at most `limit`.
//   - replication (NIP-77 negentropy): `syncItems` lists (created_at, id) of every event
//     matching one filter, under the same rules (expired left out, private kinds only for
//     their readers), unbounded by `limit` but capped by `max` — a second store implements it
//     as one index-only SELECT of two columns.
import { type Filter, type NostrEvent, tagConditions } from '@hansa/protocol/events'
import type { EventFrames } from '../relay/stored-frames.js'

/** What became of one event handed to the writer. */
export type WriteOutcome =
  | { status: 'stored' }
  | { status: 'duplicate' }
  /** A replaceable or addressable event older than the one already kept. */
  | { status: 'superseded' }
  /** Its author deleted it (NIP-09) before it arrived. */
  | { status: 'deleted' }

export type StoredEventInput = {
  event: NostrEvent
  /** The event serialised once, as it will be sent to readers. */
  raw: string
  receivedAt: number
}

/**
 * Who is reading, for kinds readable only by their recipients: an event of one of
 * `privateKinds` is visible only to an authenticated pubkey named in its `p` tags.
 */
export type ReadAccess = {
  privateKinds: readonly number[]
  readerPubkeys: readonly string[]
  /** Who asks (the relay passes the client's address): queries wait in turn per client. */
  client?: string
}

/**
 * The private kinds a filter's matches must be checked for (the reader named in a `p` tag).
 * None when the filter cannot match them, and none when it asks itself for a `p` tag naming
 * only this reader's keys (an inbox fetching its mail): every match is then readable, and the
 * check would read the same tag rows again (a quarter of such a query's time).
 */
export function privateKindsToCheck(filter: Filter, access: ReadAccess): number[] {
  const kinds = access.privateKinds.filter((k) => !filter.kinds || filter.kinds.includes(k))
  if (kinds.length === 0) return kinds
  const pValues = tagConditions(filter).find(([letter]) => letter === 'p')?.[1]
  const onlyTheirs =
    pValues !== undefined &&
    pValues.length > 0 &&
    pValues.every((v) => access.readerPubkeys.includes(v))
  return onlyTheirs ? [] : kinds
}

export type QueryOptions = ReadAccess & {
  limit: number
  now: number
  /** Stop reading once the events read reach this many bytes (the relay's memory bound). */
  maxBytes?: number
  /**
   * The largest event the reader expects stored (the relay's largest message): a backend may
   * skip work that keeps `maxBytes` when `limit` such events cannot reach it.
   */
  maxEventBytes?: number
}

/** The store refuses a query at once: too many are waiting (a backend's bounded queue). */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError'
  constructor(readonly queued: number) {
    super(`the store is busy: ${queued} queries are waiting`)
  }
}

/** A query ran past its time budget and was stopped. */
export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError'
  constructor(readonly ms: number) {
    super(`the query ran longer than ${ms} ms and was stopped`)
  }
}

/**
 * A query's answer. `bytes` (UTF-8) is measured where the rows are read, on a reader
 * thread, so metering what was served costs the relay's thread nothing.
 */
export type QueryResult = { events: string[]; bytes: number }

export const utf8Bytes = (events: readonly string[]): number => {
  let bytes = 0
  for (const raw of events) bytes += Buffer.byteLength(raw)
  return bytes
}

/**
 * What negentropy reconciles over: (created_at, lowercase hex id) of each matching event, in
 * any order; `null` when more than `max` events match (the caller refuses such a query).
 */
export type SyncItems = Array<[createdAt: number, id: string]>

/** A framed read: the subscription the frames name, and the step size they are cut at. */
export type FramesOptions = QueryOptions & { subId: string; stepBytes: number }

export type SyncItemsOptions = ReadAccess & { now: number; max: number }

/**
 * The rules every backend keeps (SQLite here; PostgreSQL follows the same):
 * - NIP-01 replaceable and addressable kinds keep only the newest (equal created_at: lowest id).
 * - NIP-09 deletion is by the author only. A kind-5's `e` tags remove events with that id *and
 *   the kind-5's pubkey*, and leave a tombstone keyed by (id, pubkey) that refuses that
 *   author's event later (`deleted`); its `a` tags (`kind:pubkey:d`) count only when the
 *   pubkey is the kind-5's own, and remove that address up to the kind-5's created_at. A
 *   stranger's kind-5 removes and blocks nothing. Kind-5 events themselves are not deleted.
 * - COUNT (NIP-45) counts distinct events: `count` takes all filters of one COUNT and counts an
 *   event that matches several of them once.
 */
export interface EventStore {
  /**
   * Writes a batch in one transaction; resolves once the batch is durably committed, with one
   * outcome per input, in order. The relay calls it from one writer at a time.
   */
  writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]>
  /** Serialised events matching the filter, newest first, and their size in bytes. */
  query(filter: Filter, options: QueryOptions): Promise<QueryResult>
  /**
   * (created_at, id) of every stored event matching the filter (its `limit` ignored), for
   * NIP-77 negentropy; null when more than `options.max` match.
   */
  syncItems(filter: Filter, options: SyncItemsOptions): Promise<SyncItems | null>
  /**
   * Optional, for speed: the same events as `query`, already framed for the WebSocket as
   * `["EVENT",<subId>,…]` and EOSE (stored-frames.ts), built where the rows are read. The
   * relay answers a one-filter REQ with it when a store has it: the buffer goes to the socket
   * as it is, a step at a time. A backend without it is served through `query`, with the
   * same results.
   */
  queryFrames?(filter: Filter, options: FramesOptions): Promise<EventFrames>
  /** The distinct events matching any of the filters (one NIP-45 COUNT), each counted once. */
  count(filters: readonly Filter[], options: ReadAccess & { now: number }): Promise<number>
  /** Deletes events past their NIP-40 expiration; returns how many. */
  pruneExpired(now: number): Promise<number>
  /** Deletes events of these kinds received before `receivedBefore`; returns how many. */
  pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): Promise<number>
  /** Bytes the store occupies on disk. */
  storedBytes(): Promise<number>
  /** Events stored (the hansa_stored_events gauge). */
  eventCount(): Promise<number>
  /** Finishes what is in flight and releases connections and threads. */
  close(): Promise<void>
  /**
   * A store shared by several processes (PostgreSQL) calls `listener` with each event another
   * process accepted, so this process's subscribers receive it too.
   */
  onRemoteEvent?(listener: (event: NostrEvent, raw: string) => void): void
  /** Tells the other processes about an ephemeral event this one accepted (never stored). */
  shareEphemeral?(raw: string): Promise<void>
}
