// Everything that changes the SQLite store: batched inserts with NIP-01's replaceable and
// addressable rules and NIP-09 deletions, and pruning. One SqliteWriter owns the only
// writing connection; it runs on the writer thread (sqlite-writer-thread.ts), so commits
// and their fsyncs never stop the relay's event loop.
import type Database from 'better-sqlite3'
// The events entry: this module runs in the store's writer thread, which loads no more.
import { type NostrEvent, dTagOf, expirationOf, isHex64, kindClass } from '@hansa/protocol/events'
import type { WriteOutcome } from './event-store.js'
import { REPLACEABLE_KINDS } from './sqlite-schema.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

/** What the writer needs of an event: its serialised form (parsed here) and arrival time. */
export type WriteItem = { raw: string; receivedAt: number }

export class SqliteWriter {
  private readonly stmt
  /** largest_event's bytes (sqlite-schema.ts), raised as bigger events arrive. */
  private largestEventBytes: number

  constructor(private readonly db: Database.Database) {
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO events (id, pubkey, created_at, kind, d_tag, expiration, received_at, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertTag: db.prepare('INSERT INTO tags (seq, name, value, created_at) VALUES (?, ?, ?, ?)'),
      isDeletedId: db.prepare('SELECT 1 FROM deleted_events WHERE id = ? AND pubkey = ?').pluck(),
      deletedAddressUntil: db
        .prepare('SELECT until FROM deleted_addresses WHERE pubkey = ? AND kind = ? AND d_tag = ?')
        .pluck(),
      // Only ever run for replaceable and addressable kinds: REPLACEABLE_KINDS lets them
      // use the partial index that holds exactly those events, and INDEXED BY makes sure
      // they do (without statistics the planner would rather walk events_kind_created_id).
      newestReplaceable: db.prepare(
        `SELECT seq, created_at, id FROM events INDEXED BY events_replaceable
         WHERE pubkey = ? AND kind = ? AND d_tag IS ? AND ${REPLACEABLE_KINDS}
         ORDER BY created_at DESC, id ASC LIMIT 1`,
      ),
      deleteOlderReplaceable: db.prepare(
        `DELETE FROM events INDEXED BY events_replaceable
         WHERE pubkey = ? AND kind = ? AND d_tag IS ? AND seq != ?
         AND ${REPLACEABLE_KINDS}`,
      ),
      deleteById: db.prepare('DELETE FROM events WHERE id = ? AND pubkey = ? AND kind != 5'),
      recordDeletedId: db.prepare(
        'INSERT OR IGNORE INTO deleted_events (id, pubkey) VALUES (?, ?)',
      ),
      // An `a` tag names an addressable event; a kind outside REPLACEABLE_KINDS holds no
      // d_tag, so nothing else could match anyway.
      deleteAddress: db.prepare(
        `DELETE FROM events INDEXED BY events_replaceable
         WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?
         AND ${REPLACEABLE_KINDS}`,
      ),
      recordDeletedAddress: db.prepare(
        `INSERT INTO deleted_addresses (pubkey, kind, d_tag, until) VALUES (?, ?, ?, ?)
         ON CONFLICT (pubkey, kind, d_tag) DO UPDATE SET until = max(until, excluded.until)`,
      ),
      raiseLargestEvent: db.prepare('UPDATE largest_event SET bytes = ? WHERE one = 1'),
      pruneExpired: db.prepare(
        'DELETE FROM events WHERE expiration IS NOT NULL AND expiration <= ?',
      ),
    }
    this.largestEventBytes =
      (db.prepare('SELECT bytes FROM largest_event').pluck().get() as number | undefined) ?? 0
  }

  /** Writes a batch in one transaction; returns each event's outcome once committed. */
  writeBatch(items: readonly WriteItem[]): WriteOutcome[] {
    const run = this.db.transaction((batch: readonly WriteItem[]) =>
      batch.map((item) => this.writeOne(JSON.parse(item.raw) as NostrEvent, item)),
    )
    return run(items)
  }

  private writeOne(event: NostrEvent, { raw, receivedAt }: WriteItem): WriteOutcome {
    const s = this.stmt
    const id = hex(event.id)
    const pubkey = hex(event.pubkey)
    // Only the author's own kind-5 keeps an id out (NIP-09): a tombstone is keyed by both.
    if (s.isDeletedId.get(id, pubkey)) return { status: 'deleted' }
    const cls = kindClass(event.kind)
    const dTag = cls === 'addressable' ? dTagOf(event) : null
    if (dTag !== null) {
      const until = s.deletedAddressUntil.get(pubkey, event.kind, dTag) as number | undefined
      if (until !== undefined && event.created_at <= until) return { status: 'deleted' }
    }
    const info = s.insert.run(
      id,
      pubkey,
      event.created_at,
      event.kind,
      dTag,
      expirationOf(event) ?? null,
      receivedAt,
      raw,
    )
    if (info.changes === 0) return { status: 'duplicate' }
    // A UTF-16 unit is at most 3 UTF-8 bytes: most events are measured by a multiplication.
    if (raw.length * 3 > this.largestEventBytes) {
      const bytes = Buffer.byteLength(raw)
      if (bytes > this.largestEventBytes) {
        this.largestEventBytes = bytes
        s.raiseLargestEvent.run(bytes)
      }
    }
    const seq = info.lastInsertRowid
    for (const tag of event.tags) {
      const name = tag[0]!
      if (name.length === 1 && tag[1] !== undefined && tag[1].length <= 1024) {
        s.insertTag.run(seq, name, tag[1], event.created_at)
      }
    }
    if (cls === 'replaceable' || cls === 'addressable') {
      // NIP-01: keep only the newest; on equal created_at the lowest id wins.
      const newest = s.newestReplaceable.get(pubkey, event.kind, dTag) as { seq: bigint | number }
      s.deleteOlderReplaceable.run(pubkey, event.kind, dTag, newest.seq)
      if (BigInt(newest.seq) !== BigInt(seq)) return { status: 'superseded' }
    }
    if (event.kind === 5) this.applyDeletion(event, pubkey)
    return { status: 'stored' }
  }

  /**
   * NIP-09: an author's kind-5 event deletes that author's events it names (`e` by id, `a` by
   * address up to its created_at), and keeps them out. Events by other keys are untouched, and
   * a tombstone names its author, so a stranger's kind-5 blocks nothing, now or later.
   */
  private applyDeletion(event: NostrEvent, pubkey: Buffer): void {
    const s = this.stmt
    for (const tag of event.tags) {
      if (tag[0] === 'e' && tag[1] && isHex64(tag[1])) {
        const target = hex(tag[1])
        s.deleteById.run(target, pubkey)
        s.recordDeletedId.run(target, pubkey)
      } else if (tag[0] === 'a' && tag[1]) {
        const [kindText, author, ...rest] = tag[1].split(':')
        const kind = Number(kindText)
        if (author !== event.pubkey || !Number.isInteger(kind)) continue
        const d = rest.join(':')
        s.deleteAddress.run(pubkey, kind, d, event.created_at)
        s.recordDeletedAddress.run(pubkey, kind, d, event.created_at)
      }
    }
  }

  pruneExpired(now: number): number {
    return this.stmt.pruneExpired.run(now).changes
  }

  pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): number {
    if (kinds.length === 0) return 0
    return this.db
      .prepare(
        `DELETE FROM events WHERE kind IN (${kinds.map(() => '?').join(',')}) AND received_at < ?`,
      )
      .run(...kinds, receivedBefore).changes
  }
}
