// What the relay needs from storage, so SQLite (the embedded default) and PostgreSQL
// (for coordinators who outgrow one machine) can sit behind the same engine. startNode takes
// any EventStore (node-parts.ts makes the SQLite one by default). A store owes the relay:
//   - durability: writeBatch resolves only once its batch is committed (an OK true is never lost);
//   - NIP-01 rules: replaceable and addressable kinds keep the newest (ties: the lowest id);
//     ephemeral kinds (20000-29999) never reach the store;
//   - NIP-09: a kind-5 by an event's author removes the named events and keeps them out;
//   - NIP-40: expired events are never returned or counted;
//   - private kinds: an event of one is returned (and counted) only for a reader named in its
//     `p` tags — filtered inside the store, so nothing private leaves it for the wrong reader;
//   - order: query results newest first (by created_at), at most `limit`.
//   - replication (NIP-77 negentropy): `syncItems` lists (created_at, id) of every event
//     matching one filter, under the same rules (expired left out, private kinds only for
//     their readers), unbounded by `limit` but capped by `max` — a second store implements it
//     as one index-only SELECT of two columns.
import type { Filter, NostrEvent } from '@hansa/protocol'

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
}

export type QueryOptions = ReadAccess & { limit: number; now: number }

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

export type SyncItemsOptions = ReadAccess & { now: number; max: number }

export interface EventStore {
  /**
   * Writes a batch in one transaction; resolves once the batch is durably committed, with one
   * outcome per input, in order. The relay calls it from one writer at a time.
   */
  writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]>
  /** Serialised events matching the filter, newest first, and their size in bytes. */
  query(filter: Filter, options: QueryOptions): Promise<QueryResult>
  /** How many stored events match the filter (NIP-45 COUNT), under the same access rules. */
  count(filter: Filter, options: ReadAccess & { now: number }): Promise<number>
  /**
   * (created_at, id) of every stored event matching the filter (its `limit` ignored), for
   * NIP-77 negentropy; null when more than `options.max` match.
   */
  syncItems(filter: Filter, options: SyncItemsOptions): Promise<SyncItems | null>
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
