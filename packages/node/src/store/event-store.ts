// What the relay needs from storage, so SQLite (the embedded default) and PostgreSQL
// (for coordinators who outgrow one machine) can sit behind the same engine.
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

export interface EventStore {
  /** Writes a batch in one transaction; resolves once the batch is durably committed. */
  writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]>
  /** Serialised events matching the filter, newest first, and their size in bytes. */
  query(filter: Filter, options: QueryOptions): Promise<QueryResult>
  count(filter: Filter, options: ReadAccess & { now: number }): Promise<number>
  /** Deletes events past their NIP-40 expiration; returns how many. */
  pruneExpired(now: number): Promise<number>
  /** Deletes events of these kinds received before `receivedBefore`; returns how many. */
  pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): Promise<number>
  /** Bytes the store occupies on disk. */
  storedBytes(): Promise<number>
  eventCount(): Promise<number>
  close(): Promise<void>
  /**
   * A store shared by several processes (PostgreSQL) calls `listener` with each event another
   * process accepted, so this process's subscribers receive it too.
   */
  onRemoteEvent?(listener: (event: NostrEvent, raw: string) => void): void
  /** Tells the other processes about an ephemeral event this one accepted (never stored). */
  shareEphemeral?(raw: string): Promise<void>
}
