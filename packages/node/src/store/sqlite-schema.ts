// The SQLite layout of the event store, and how every connection to it is opened.
//
// `events` keeps each event once, serialised (`raw`) as it is sent to readers, with the
// columns queries select on; `tags` keeps one row per single-letter tag for `#x` filters.
// Ids and pubkeys are stored as 32-byte BLOBs (half the size of hex).
import Database from 'better-sqlite3'

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
-- Each ends in (created_at DESC, id): NIP-01's order (newest first, on equal created_at the
-- lowest id first) read straight from the index, so a query stops at its limit without a
-- sort. Sorting the last term instead cost a third of a short query; the id costs the writer
-- about 8 µs an event. Stores made before them drop the old indexes and build these once.
DROP INDEX IF EXISTS events_created;
DROP INDEX IF EXISTS events_pubkey_created;
DROP INDEX IF EXISTS events_kind_created;
CREATE INDEX IF NOT EXISTS events_created_id ON events (created_at DESC, id);
CREATE INDEX IF NOT EXISTS events_pubkey_created_id ON events (pubkey, created_at DESC, id);
CREATE INDEX IF NOT EXISTS events_kind_created_id ON events (kind, created_at DESC, id);
-- Only replaceable and addressable events are looked up by (pubkey, kind, d_tag): the index
-- holds only them, so a note or a gift wrap costs no entry in it. A query that wants it
-- names REPLACEABLE_KINDS in its WHERE (SQLite uses a partial index only then).
DROP INDEX IF EXISTS events_pubkey_kind_d;
CREATE INDEX IF NOT EXISTS events_replaceable ON events (pubkey, kind, d_tag)
  WHERE kind = 0 OR kind = 3 OR kind BETWEEN 10000 AND 19999 OR kind BETWEEN 30000 AND 39999;
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
-- The size of the largest event ever stored (its JSON in UTF-8 bytes): a reader that knows a
-- whole answer fits its byte bound reads it in one step instead of row by row.
CREATE TABLE IF NOT EXISTS largest_event (one INTEGER PRIMARY KEY CHECK (one = 1), bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_events (
  id BLOB NOT NULL,
  pubkey BLOB NOT NULL,
  PRIMARY KEY (id, pubkey)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleted_addresses (
  pubkey BLOB NOT NULL,
  kind INTEGER NOT NULL,
  d_tag TEXT NOT NULL,
  until INTEGER NOT NULL,
  PRIMARY KEY (pubkey, kind, d_tag)
) WITHOUT ROWID;
`

/** The WHERE of the events_replaceable index, word for word (NIP-01's replaceable kinds). */
export const REPLACEABLE_KINDS =
  '(kind = 0 OR kind = 3 OR kind BETWEEN 10000 AND 19999 OR kind BETWEEN 30000 AND 39999)'

export type Synchronous = 'full' | 'normal'

/** How much of the database file reads may map into memory. */
const MMAP_BYTES = 1024 * 1024 * 1024

/** Opens a connection in WAL mode with the store's pragmas, creating the schema if needed. */
export function openDatabase(path: string, synchronous: Synchronous): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.pragma('cache_size = -65536') // 64 MiB of page cache: indexes stay in memory longer
  // Reads through a memory map instead of one pread per page: a REQ's 100 events sit on
  // scattered pages, and the map halved query time in the benchmark (130 vs 200-300 µs).
  db.pragma(`mmap_size = ${MMAP_BYTES}`)
  // The WAL is checkpointed at SQLite's 1,000 pages (~4 MiB). 10,000 saved the writer CPU
  // (fewer copies of the hot index pages) but each checkpoint then ran ~40 MiB inside one
  // commit, and every event waiting behind it waited too: OK p99 at 4,000 events/s rose from
  // 17 to 51-56 ms for 5-10 % more ingest (relay bench, alternating runs). Durability is the
  // WAL's fsync at each commit either way; the file is cut back to 64 MiB after a checkpoint.
  db.pragma('wal_autocheckpoint = 1000')
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`)
  db.exec(SCHEMA)
  migrate(db)
  keepEventCount(db)
  measureLargestEvent(db)
  return db
}

/**
 * A running count of the events, kept by triggers in each writing transaction, so /metrics
 * reads one row instead of counting the table on every scrape (count(*) walks a whole index:
 * seconds on a large store, at whatever rate anyone scrapes). Every path that adds or removes
 * an event — insert, replacement, deletion, expiry, retention, a transfer — goes through the
 * table, so the triggers see them all. Made once, counted once, when a store first opens.
 */
function keepEventCount(db: Database.Database): void {
  const has = () =>
    db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'event_count_del'")
      .pluck()
      .get() !== undefined
  if (db.readonly || has()) return
  db.transaction(() => {
    if (has()) return
    db.exec(`
      CREATE TABLE IF NOT EXISTS event_count (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL);
      INSERT OR REPLACE INTO event_count (one, n) SELECT 1, count(*) FROM events;
      CREATE TRIGGER event_count_ins AFTER INSERT ON events
        BEGIN UPDATE event_count SET n = n + 1 WHERE one = 1; END;
      CREATE TRIGGER event_count_del AFTER DELETE ON events
        BEGIN UPDATE event_count SET n = n - 1 WHERE one = 1; END;`)
  }).immediate()
}

/** Fills largest_event once for a store made before it existed (one pass over the events). */
function measureLargestEvent(db: Database.Database): void {
  const has = () => db.prepare('SELECT 1 FROM largest_event').pluck().get() !== undefined
  if (db.readonly || has()) return
  db.transaction(() => {
    if (has()) return
    db.exec(
      'INSERT INTO largest_event (one, bytes) SELECT 1, coalesce(max(length(CAST(raw AS BLOB))), 0) FROM events',
    )
  }).immediate()
}

/**
 * Earlier stores kept NIP-09 tombstones by id alone (`deleted_ids`), so a stranger's kind-5
 * could block an event by someone else; tombstones are now kept per (id, author). The old
 * rows move over with the pubkey of the kind-5 that made them: each then blocks only that
 * key's own event, which is what NIP-09 allows.
 */
function migrate(db: Database.Database): void {
  const hasOld = () =>
    db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deleted_ids'")
      .pluck()
      .get() !== undefined
  if (db.readonly || !hasOld()) return
  // Several connections open at start: the first to take the write lock migrates.
  db.transaction(() => {
    if (!hasOld()) return
    db.exec('INSERT OR IGNORE INTO deleted_events (id, pubkey) SELECT id, pubkey FROM deleted_ids')
    db.exec('DROP TABLE deleted_ids')
  }).immediate()
}
