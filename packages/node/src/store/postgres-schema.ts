// The PostgreSQL layout of a node's state, as versioned migrations (kysely's Migrator), applied
// at start. Several node processes may start at once on one database: the Migrator takes a
// lock, so each migration runs once. A database migrated by a newer Hansa is refused before
// anything is changed, with a message that says so.
//
// The event tables mirror the SQLite store (sqlite-schema.ts). Writes go through one
// PL/pgSQL function per batch (`hansa_write_batch`), so a batch costs one round trip, and
// the replaceable, addressable and NIP-09 rules run inside the transaction, under advisory
// locks that serialise writers of the same event or address across processes.
import { HansaError } from '@hansa/protocol'
// kysely is loaded only when a PostgreSQL store opens: a SQLite node never pays for it.
import type { Migration } from 'kysely/migration'
import type pg from 'pg'
import { BILLING_V1 } from '../billing/pg-schema.js'
import { FEDERATION_V1 } from '../federation/pg-schema.js'
import { ORDERBOOK_V1 } from '../services/orderbook/pg-schema.js'

/** The channel every process of a node LISTENs on for events accepted by the others. */
export const LIVE_CHANNEL = 'hansa_events'

/** NOTIFY payloads are limited to 8000 bytes; larger events travel by reference. */
export const NOTIFY_PAYLOAD_LIMIT = 7900

const MIGRATION_TABLE = 'hansa_migration'

const EVENTS_V1 = `
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  id bytea NOT NULL UNIQUE,
  pubkey bytea NOT NULL,
  created_at bigint NOT NULL,
  kind integer NOT NULL,
  d_tag text,
  expiration bigint,
  received_at bigint NOT NULL,
  raw text NOT NULL
);
CREATE INDEX events_created ON events (created_at DESC, id);
CREATE INDEX events_pubkey_created ON events (pubkey, created_at DESC);
CREATE INDEX events_kind_created ON events (kind, created_at DESC);
CREATE INDEX events_pubkey_kind_d ON events (pubkey, kind, d_tag);
CREATE INDEX events_expiration ON events (expiration) WHERE expiration IS NOT NULL;
CREATE INDEX events_kind_received ON events (kind, received_at);
CREATE TABLE tags (
  seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  name text NOT NULL,
  value text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX tags_name_value ON tags (name, value, created_at DESC);
CREATE INDEX tags_seq ON tags (seq);
-- NIP-09: an id is kept out only for the author who deleted it.
CREATE TABLE deleted_ids (
  id bytea NOT NULL,
  pubkey bytea NOT NULL,
  PRIMARY KEY (id, pubkey)
);
CREATE TABLE deleted_addresses (
  pubkey bytea NOT NULL,
  kind integer NOT NULL,
  d_tag text NOT NULL,
  until bigint NOT NULL,
  PRIMARY KEY (pubkey, kind, d_tag)
);
-- Ephemeral events too large for a NOTIFY payload wait here for the other processes.
CREATE TABLE live_overflow (
  seq bigserial PRIMARY KEY,
  raw text NOT NULL,
  at bigint NOT NULL
);
`

/**
 * One batch in one call. Arrays are parallel, one entry per event; tags and deletion targets
 * are flattened, each event naming its slice by start (1-based) and count. `p_class`: 0
 * regular, 1 replaceable, 2 addressable. Returns each event's outcome.
 */
const WRITE_BATCH_V1 = `
CREATE FUNCTION hansa_write_batch(
  p_locks bigint[],
  p_id bytea[], p_pubkey bytea[], p_created bigint[], p_kind integer[], p_class smallint[],
  p_d text[], p_exp bigint[], p_received bigint[], p_raw text[],
  p_tag_start integer[], p_tag_count integer[], p_tag_name text[], p_tag_value text[],
  p_del_start integer[], p_del_count integer[], p_del_id bytea[], p_del_kind integer[],
  p_del_d text[],
  p_simple boolean[],
  p_origin text
) RETURNS text[] LANGUAGE plpgsql AS $fn$
DECLARE
  n integer := coalesce(array_length(p_id, 1), 0);
  outcome text[] := '{}';
  i integer;
  j integer;
  v_seq bigint;
  v_newest bigint;
  v_until bigint;
  v_ords integer[];
  v_seqs bigint[];
  v_deleted integer[];
  v_run text[];
  k integer;
BEGIN
  -- Every lock the batch needs, taken up front in one order, so two writers never deadlock.
  PERFORM pg_advisory_xact_lock(l.lock_key) FROM (SELECT DISTINCT unnest(p_locks) AS lock_key ORDER BY 1) AS l;
  i := 0;
  WHILE i < n LOOP
    i := i + 1;
    IF p_simple[i] THEN
      -- A run of regular events (no kind 5, no id twice): their only rules are "once" and
      -- "not deleted by their author", so the run is stored with set-based statements.
      j := i;
      WHILE j < n AND p_simple[j + 1] LOOP
        j := j + 1;
      END LOOP;
      SELECT array_agg(t.ord::integer) INTO v_deleted
        FROM unnest(p_id[i:j], p_pubkey[i:j]) WITH ORDINALITY AS t(id, pubkey, ord)
        WHERE EXISTS (SELECT 1 FROM deleted_ids d WHERE d.id = t.id AND d.pubkey = t.pubkey);
      WITH input AS (
        SELECT t.* FROM unnest(p_id[i:j], p_pubkey[i:j], p_created[i:j], p_kind[i:j],
                               p_exp[i:j], p_received[i:j], p_raw[i:j])
          WITH ORDINALITY AS t(id, pubkey, created, kind, exp, received, raw, ord)
        WHERE NOT (t.ord::integer = ANY(coalesce(v_deleted, '{}')))
      ), ins AS (
        INSERT INTO events (id, pubkey, created_at, kind, d_tag, expiration, received_at, raw)
          SELECT id, pubkey, created, kind, NULL, exp, received, raw FROM input ORDER BY ord
          ON CONFLICT (id) DO NOTHING
          RETURNING seq, id
      ), stored AS (
        SELECT ins.seq, input.ord::integer AS ord, input.created FROM ins JOIN input ON input.id = ins.id
      ), tagged AS (
        INSERT INTO tags (seq, name, value, created_at)
          SELECT stored.seq, tg.name, tg.value, stored.created
          FROM stored, LATERAL unnest(
            p_tag_name[p_tag_start[i + stored.ord - 1] : p_tag_start[i + stored.ord - 1] + p_tag_count[i + stored.ord - 1] - 1],
            p_tag_value[p_tag_start[i + stored.ord - 1] : p_tag_start[i + stored.ord - 1] + p_tag_count[i + stored.ord - 1] - 1]
          ) AS tg(name, value)
      )
      SELECT array_agg(ord ORDER BY ord), array_agg(seq ORDER BY ord) INTO v_ords, v_seqs FROM stored;
      v_run := array_fill('duplicate'::text, ARRAY[j - i + 1]);
      FOR k IN 1 .. coalesce(array_length(v_deleted, 1), 0) LOOP
        v_run[v_deleted[k]] := 'deleted';
      END LOOP;
      FOR k IN 1 .. coalesce(array_length(v_ords, 1), 0) LOOP
        v_run[v_ords[k]] := 'stored';
        IF octet_length(p_raw[i + v_ords[k] - 1]) <= ${NOTIFY_PAYLOAD_LIMIT} THEN
          PERFORM pg_notify('${LIVE_CHANNEL}', p_origin || ' ' || p_raw[i + v_ords[k] - 1]);
        ELSE
          PERFORM pg_notify('${LIVE_CHANNEL}', p_origin || ' #' || v_seqs[k]);
        END IF;
      END LOOP;
      outcome := outcome || v_run;
      i := j;
      CONTINUE;
    END IF;
    IF EXISTS (SELECT 1 FROM deleted_ids WHERE id = p_id[i] AND pubkey = p_pubkey[i]) THEN
      outcome := outcome || 'deleted'::text;
      CONTINUE;
    END IF;
    IF p_class[i] = 2 THEN
      SELECT until INTO v_until FROM deleted_addresses
        WHERE pubkey = p_pubkey[i] AND kind = p_kind[i] AND d_tag = p_d[i];
      IF FOUND AND p_created[i] <= v_until THEN
        outcome := outcome || 'deleted'::text;
        CONTINUE;
      END IF;
    END IF;
    v_seq := NULL;
    INSERT INTO events (id, pubkey, created_at, kind, d_tag, expiration, received_at, raw)
      VALUES (p_id[i], p_pubkey[i], p_created[i], p_kind[i], p_d[i], p_exp[i], p_received[i], p_raw[i])
      ON CONFLICT (id) DO NOTHING
      RETURNING seq INTO v_seq;
    IF v_seq IS NULL THEN
      outcome := outcome || 'duplicate'::text;
      CONTINUE;
    END IF;
    IF p_tag_count[i] > 0 THEN
      INSERT INTO tags (seq, name, value, created_at)
        SELECT v_seq, t.name, t.value, p_created[i]
        FROM unnest(p_tag_name[p_tag_start[i] : p_tag_start[i] + p_tag_count[i] - 1],
                    p_tag_value[p_tag_start[i] : p_tag_start[i] + p_tag_count[i] - 1]) AS t(name, value);
    END IF;
    IF p_class[i] = 1 OR p_class[i] = 2 THEN
      -- NIP-01: keep only the newest; on equal created_at the lowest id wins.
      IF p_d[i] IS NULL THEN
        SELECT seq INTO v_newest FROM events
          WHERE pubkey = p_pubkey[i] AND kind = p_kind[i] AND d_tag IS NULL
          ORDER BY created_at DESC, id ASC LIMIT 1;
        DELETE FROM events WHERE pubkey = p_pubkey[i] AND kind = p_kind[i] AND d_tag IS NULL
          AND seq <> v_newest;
      ELSE
        SELECT seq INTO v_newest FROM events
          WHERE pubkey = p_pubkey[i] AND kind = p_kind[i] AND d_tag = p_d[i]
          ORDER BY created_at DESC, id ASC LIMIT 1;
        DELETE FROM events WHERE pubkey = p_pubkey[i] AND kind = p_kind[i] AND d_tag = p_d[i]
          AND seq <> v_newest;
      END IF;
      IF v_newest <> v_seq THEN
        outcome := outcome || 'superseded'::text;
        CONTINUE;
      END IF;
    END IF;
    IF p_kind[i] = 5 AND p_del_count[i] > 0 THEN
      -- NIP-09: the author's kind 5 deletes the author's own events it names, and keeps them out.
      FOR j IN p_del_start[i] .. p_del_start[i] + p_del_count[i] - 1 LOOP
        IF p_del_id[j] IS NOT NULL THEN
          DELETE FROM events WHERE id = p_del_id[j] AND pubkey = p_pubkey[i] AND kind <> 5;
          INSERT INTO deleted_ids (id, pubkey) VALUES (p_del_id[j], p_pubkey[i])
            ON CONFLICT DO NOTHING;
        ELSE
          DELETE FROM events WHERE pubkey = p_pubkey[i] AND kind = p_del_kind[j]
            AND d_tag = p_del_d[j] AND created_at <= p_created[i];
          INSERT INTO deleted_addresses (pubkey, kind, d_tag, until)
            VALUES (p_pubkey[i], p_del_kind[j], p_del_d[j], p_created[i])
            ON CONFLICT (pubkey, kind, d_tag)
            DO UPDATE SET until = greatest(deleted_addresses.until, excluded.until);
        END IF;
      END LOOP;
    END IF;
    -- Delivered to the other processes only when the transaction commits.
    IF octet_length(p_raw[i]) <= ${NOTIFY_PAYLOAD_LIMIT} THEN
      PERFORM pg_notify('${LIVE_CHANNEL}', p_origin || ' ' || p_raw[i]);
    ELSE
      PERFORM pg_notify('${LIVE_CHANNEL}', p_origin || ' #' || v_seq);
    END IF;
    outcome := outcome || 'stored'::text;
  END LOOP;
  RETURN outcome;
END
$fn$;
`

const exec =
  (text: string): Migration['up'] =>
  async (db) => {
    const { sql } = await import('kysely')
    await sql.raw(text).execute(db)
  }

/**
 * The batch function again, with each stored event's seq in its notification
 * (`<origin> @<seq> <event JSON>`): a process whose LISTEN connection broke reads, once it is
 * back, what was committed after the last seq it heard (postgres-live.ts).
 */
const WRITE_BATCH_V2 = WRITE_BATCH_V1.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')
  .replace(
    "p_origin || ' ' || p_raw[i + v_ords[k] - 1]",
    "p_origin || ' @' || v_seqs[k] || ' ' || p_raw[i + v_ords[k] - 1]",
  )
  .replace("p_origin || ' ' || p_raw[i]);", "p_origin || ' @' || v_seq || ' ' || p_raw[i]);")

/**
 * The tag index carries each row's seq, so a read led by a tag (an inbox fetching its mail)
 * finds its events from the index alone, once VACUUM has marked the pages all-visible
 * (postgres-store.ts's maintenance does it), instead of visiting a tags page per row: 14 %
 * of PostgreSQL's time for such a read on 20,000 events. Built before the old one is dropped,
 * inside the migration's transaction (writes wait for it once, at the upgrade).
 */
const TAGS_COVER_V1 = `
CREATE INDEX tags_name_value_seq ON tags (name, value, created_at DESC) INCLUDE (seq);
DROP INDEX tags_name_value;
ALTER INDEX tags_name_value_seq RENAME TO tags_name_value;
`

/** Every migration this version of Hansa knows, oldest first. Names sort in order. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_events': { up: exec(EVENTS_V1 + WRITE_BATCH_V1) },
  '0002_billing': { up: exec(BILLING_V1) },
  '0003_orderbook': { up: exec(ORDERBOOK_V1) },
  '0004_live_seq': { up: exec(WRITE_BATCH_V2) },
  '0005_federation': { up: exec(FEDERATION_V1) },
  '0006_tags_cover': { up: exec(TAGS_COVER_V1) },
}

export const SCHEMA_VERSION = Object.keys(MIGRATIONS).length

/** Applies the migrations this code knows; refuses a database migrated by a newer Hansa. */
export async function migrateDatabase(pool: pg.Pool): Promise<{ applied: string[] }> {
  const known = new Set(Object.keys(MIGRATIONS))
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
    MIGRATION_TABLE,
  ])
  if (exists.rows[0]?.t) {
    const done = await pool.query<{ name: string }>(`SELECT name FROM ${MIGRATION_TABLE}`)
    const unknown = done.rows.map((r) => r.name).filter((name) => !known.has(name))
    if (unknown.length > 0) {
      throw new HansaError(
        'HANSA_STORAGE_SCHEMA_NEWER',
        `the PostgreSQL database has schema migrations this version of Hansa does not know (${unknown.join(', ')}); it was upgraded by a newer Hansa`,
        {
          details: `this Hansa knows schema version ${SCHEMA_VERSION}; run the newer Hansa, or restore a backup taken before the upgrade`,
        },
      )
    }
  }
  const { Kysely, PostgresDialect } = await import('kysely')
  const { Migrator } = await import('kysely/migration')
  // The Kysely instance borrows the pool; it is never destroyed, so the pool stays open.
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    throw new HansaError('HANSA_STORAGE_MIGRATION', 'a PostgreSQL schema migration failed', {
      cause: error,
      details: error instanceof Error ? error.message : String(error),
    })
  }
  return { applied: (results ?? []).map((r) => r.migrationName) }
}
