// The embedded default store: better-sqlite3 in WAL mode. One writer, fed in batches by the
// relay, commits many events per transaction, so `synchronous=FULL` (an acknowledged event
// survives power loss) costs one fsync per batch, not per event.
//
// Layout: `events` keeps each event once, serialised (`raw`) as it is sent to readers, with
// the columns queries select on; `tags` keeps one row per single-letter tag for `#x` filters.
// Ids and pubkeys are stored as 32-byte BLOBs (half the size of hex). Results come newest
// first; ties on created_at are not broken by id, so the index alone gives the order.
import Database from 'better-sqlite3'
import {
  type Filter,
  type NostrEvent,
  dTagOf,
  expirationOf,
  kindClass,
  tagConditions,
} from '@hansa/protocol'
import type {
  EventStore,
  QueryOptions,
  ReadAccess,
  StoredEventInput,
  WriteOutcome,
} from './event-store.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  pubkey BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  d_tag TEXT,
  expiration INTEGER,
  received_at INTEGER NOT NULL,
  raw TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at);
CREATE INDEX IF NOT EXISTS events_pubkey_created ON events (pubkey, created_at);
CREATE INDEX IF NOT EXISTS events_kind_created ON events (kind, created_at);
CREATE INDEX IF NOT EXISTS events_pubkey_kind_d ON events (pubkey, kind, d_tag);
CREATE INDEX IF NOT EXISTS events_expiration ON events (expiration) WHERE expiration IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_kind_received ON events (kind, received_at);
CREATE TABLE IF NOT EXISTS tags (
  seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_name_value ON tags (name, value, created_at);
CREATE INDEX IF NOT EXISTS tags_seq ON tags (seq);
CREATE TABLE IF NOT EXISTS deleted_ids (
  id BLOB PRIMARY KEY,
  pubkey BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted_addresses (
  pubkey BLOB NOT NULL,
  kind INTEGER NOT NULL,
  d_tag TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (pubkey, kind, d_tag)
) WITHOUT ROWID;
`

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

type SqlPart = { sql: string; params: unknown[] }

export type SqliteStoreOptions = {
  path: string
  synchronous: 'full' | 'normal'
}

export class SqliteStore implements EventStore {
  readonly db: Database.Database
  private readonly stmt
  private readonly statements = new Map<string, Database.Statement>()

  constructor(options: SqliteStoreOptions) {
    this.db = new Database(options.path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    this.db.pragma('foreign_keys = ON')
    this.db.pragma('busy_timeout = 5000')
    this.db.exec(SCHEMA)
    const db = this.db
    this.stmt = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO events (id, pubkey, created_at, kind, d_tag, expiration, received_at, raw)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertTag: db.prepare('INSERT INTO tags (seq, name, value, created_at) VALUES (?, ?, ?, ?)'),
      isDeletedId: db.prepare('SELECT 1 FROM deleted_ids WHERE id = ?').pluck(),
      deletedAddressUntil: db
        .prepare('SELECT until FROM deleted_addresses WHERE pubkey = ? AND kind = ? AND d_tag = ?')
        .pluck(),
      newestReplaceable: db.prepare(
        `SELECT seq, created_at, id FROM events WHERE pubkey = ? AND kind = ? AND d_tag IS ?
         ORDER BY created_at DESC, id ASC LIMIT 1`,
      ),
      deleteOlderReplaceable: db.prepare(
        'DELETE FROM events WHERE pubkey = ? AND kind = ? AND d_tag IS ? AND seq != ?',
      ),
      deleteById: db.prepare('DELETE FROM events WHERE id = ? AND pubkey = ? AND kind != 5'),
      recordDeletedId: db.prepare('INSERT OR IGNORE INTO deleted_ids (id, pubkey) VALUES (?, ?)'),
      deleteAddress: db.prepare(
        'DELETE FROM events WHERE pubkey = ? AND kind = ? AND d_tag = ? AND created_at <= ?',
      ),
      recordDeletedAddress: db.prepare(
        `INSERT INTO deleted_addresses (pubkey, kind, d_tag, until) VALUES (?, ?, ?, ?)
         ON CONFLICT (pubkey, kind, d_tag) DO UPDATE SET until = max(until, excluded.until)`,
      ),
      pruneExpired: db.prepare(
        'DELETE FROM events WHERE expiration IS NOT NULL AND expiration <= ?',
      ),
      count: db.prepare('SELECT count(*) FROM events').pluck(),
    }
  }

  async writeBatch(batch: readonly StoredEventInput[]): Promise<WriteOutcome[]> {
    return this.writeBatchSync(batch)
  }

  writeBatchSync(batch: readonly StoredEventInput[]): WriteOutcome[] {
    const run = this.db.transaction((items: readonly StoredEventInput[]) =>
      items.map((item) => this.writeOne(item)),
    )
    return run(batch)
  }

  private writeOne({ event, raw, receivedAt }: StoredEventInput): WriteOutcome {
    const s = this.stmt
    const id = hex(event.id)
    const pubkey = hex(event.pubkey)
    if (s.isDeletedId.get(id)) return { status: 'deleted' }
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

  /** NIP-09: an author's kind-5 event deletes that author's events it names, and keeps them out. */
  private applyDeletion(event: NostrEvent, pubkey: Buffer): void {
    const s = this.stmt
    for (const tag of event.tags) {
      if (tag[0] === 'e' && tag[1] && /^[0-9a-f]{64}$/.test(tag[1])) {
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

  /** Prepared statements by SQL text: filters repeat their shapes, preparing costs more than running. */
  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear()
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /**
   * The WHERE clause of a filter. With `driveByTag`, the first tag condition is left out:
   * the caller joins the tags table on it, so its index (name, value, created_at) leads.
   */
  private whereClause(
    filter: Filter,
    access: ReadAccess,
    now: number,
    driveByTag = false,
  ): SqlPart {
    const where: string[] = ['(e.expiration IS NULL OR e.expiration > ?)']
    const params: unknown[] = [now]
    const inList = (column: string, values: readonly unknown[]) => {
      where.push(`${column} IN (${values.map(() => '?').join(',')})`)
      params.push(...values)
    }
    if (filter.ids) inList('e.id', filter.ids.map(hex))
    if (filter.authors) inList('e.pubkey', filter.authors.map(hex))
    if (filter.kinds) inList('e.kind', filter.kinds)
    if (filter.since !== undefined) {
      where.push('e.created_at >= ?')
      params.push(filter.since)
    }
    if (filter.until !== undefined) {
      where.push('e.created_at <= ?')
      params.push(filter.until)
    }
    for (const [letter, values] of tagConditions(filter).slice(driveByTag ? 1 : 0)) {
      where.push(
        `EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = ? AND t.value IN (${values.map(() => '?').join(',')}))`,
      )
      params.push(letter, ...values)
    }
    const privateKinds = access.privateKinds.filter(
      (k) => !filter.kinds || filter.kinds.includes(k),
    )
    if (privateKinds.length > 0) {
      const kinds = privateKinds.map(() => '?').join(',')
      if (access.readerPubkeys.length === 0) {
        where.push(`e.kind NOT IN (${kinds})`)
        params.push(...privateKinds)
      } else {
        const readers = access.readerPubkeys.map(() => '?').join(',')
        where.push(
          `(e.kind NOT IN (${kinds}) OR EXISTS (SELECT 1 FROM tags t WHERE t.seq = e.seq AND t.name = 'p' AND t.value IN (${readers})))`,
        )
        params.push(...privateKinds, ...access.readerPubkeys)
      }
    }
    return { sql: where.join(' AND '), params }
  }

  async query(filter: Filter, options: QueryOptions): Promise<string[]> {
    return this.querySync(filter, options)
  }

  querySync(filter: Filter, options: QueryOptions): string[] {
    if (filter.search !== undefined) return [] // NIP-50 search is not offered.
    const limit = Math.min(filter.limit ?? options.limit, options.limit)
    if (limit === 0) return []
    const tag = tagConditions(filter)[0]
    if (tag && !filter.ids && !filter.authors) {
      // Lead with the tag index; an event tagged twice with matching values comes back
      // twice, so rows are de-duplicated by seq.
      const where = this.whereClause(filter, options, options.now, true)
      const sql = `SELECT e.seq, e.raw FROM tags t JOIN events e ON e.seq = t.seq
        WHERE t.name = ? AND t.value IN (${tag[1].map(() => '?').join(',')}) AND ${where.sql}
        ORDER BY t.created_at DESC LIMIT ?`
      const rows = this.prepared(sql)
        .raw()
        .all(tag[0], ...tag[1], ...where.params, limit) as Array<[number, string]>
      const seen = new Set<number>()
      const out: string[] = []
      for (const [seq, raw] of rows) {
        if (seen.has(seq)) continue
        seen.add(seq)
        out.push(raw)
      }
      return out
    }
    const where = this.whereClause(filter, options, options.now)
    const sql = `SELECT e.raw FROM events e WHERE ${where.sql} ORDER BY e.created_at DESC LIMIT ?`
    return this.prepared(sql)
      .pluck()
      .all(...where.params, limit) as string[]
  }

  async count(filter: Filter, options: ReadAccess & { now: number }): Promise<number> {
    const where = this.whereClause(filter, options, options.now)
    return this.prepared(`SELECT count(*) FROM events e WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) as number
  }

  async pruneExpired(now: number): Promise<number> {
    return this.stmt.pruneExpired.run(now).changes
  }

  async pruneReceivedBefore(kinds: readonly number[], receivedBefore: number): Promise<number> {
    if (kinds.length === 0) return 0
    return this.db
      .prepare(
        `DELETE FROM events WHERE kind IN (${kinds.map(() => '?').join(',')}) AND received_at < ?`,
      )
      .run(...kinds, receivedBefore).changes
  }

  async storedBytes(): Promise<number> {
    const pageCount = this.db.pragma('page_count', { simple: true }) as number
    const pageSize = this.db.pragma('page_size', { simple: true }) as number
    return pageCount * pageSize
  }

  async eventCount(): Promise<number> {
    return this.stmt.count.get() as number
  }

  async close(): Promise<void> {
    if (!this.db.open) return
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.db.close()
  }
}
