// Billing's own database: `billing.sqlite` in the data folder, beside the event store (a
// coordinator's books outlive a wiped event store, and the relay's writer never waits on
// them). WAL, synchronous FULL: a credited cheque, a paid subscription and a booked payment
// are committed before the node answers. Amounts are TEXT (decimal bigint): SQLite's integers
// stop at 2^63 and its SUM turns to floating point, so totals are kept in `book_totals`.
//
// SWAP balances change on every metered request; they live in memory (swap-accounts.ts) and
// are written to `swap_accounts` every second and at shutdown — a crash loses at most the
// last second of charges, in the clients' favour, never a payment.
import Database from 'better-sqlite3'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS swap_accounts (
  peer TEXT PRIMARY KEY,
  balance TEXT NOT NULL,
  charged TEXT NOT NULL,
  paid TEXT NOT NULL,
  cumulative TEXT NOT NULL,
  requests INTEGER NOT NULL,
  out_of_bounds TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chequebooks (
  chequebook TEXT PRIMARY KEY,
  issuer TEXT NOT NULL,
  cumulative TEXT NOT NULL,
  last_digest TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cheques (
  digest TEXT PRIMARY KEY,
  chequebook TEXT NOT NULL,
  peer TEXT NOT NULL,
  cumulative TEXT NOT NULL,
  increment TEXT NOT NULL,
  purpose TEXT NOT NULL,
  cheque TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  settled TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cheques_chequebook ON cheques (chequebook, received_at);
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  service TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (owner, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscription_keys (
  subscription TEXT NOT NULL REFERENCES subscriptions (id),
  pubkey TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (subscription, pubkey)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subscription_keys_pubkey ON subscription_keys (pubkey);
CREATE TABLE IF NOT EXISTS quotes (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  service TEXT NOT NULL,
  periods INTEGER NOT NULL,
  amount TEXT NOT NULL,
  unit TEXT NOT NULL,
  pubkeys TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  paid_at INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscription_payments (
  id INTEGER PRIMARY KEY,
  subscription TEXT NOT NULL,
  quote TEXT NOT NULL,
  periods INTEGER NOT NULL,
  amount TEXT NOT NULL,
  rail TEXT NOT NULL,
  reference TEXT NOT NULL,
  expires_before INTEGER NOT NULL,
  expires_after INTEGER NOT NULL,
  paid_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  peer TEXT NOT NULL,
  purpose TEXT NOT NULL,
  service TEXT,
  rail TEXT NOT NULL,
  reference TEXT NOT NULL,
  unit TEXT NOT NULL,
  amount TEXT NOT NULL,
  income TEXT NOT NULL,
  dev_tax TEXT NOT NULL,
  rate_bps INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dev_tax_paid (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  unit TEXT NOT NULL,
  amount TEXT NOT NULL,
  reference TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS book_totals (
  unit TEXT PRIMARY KEY,
  payments INTEGER NOT NULL,
  received TEXT NOT NULL,
  income TEXT NOT NULL,
  dev_tax TEXT NOT NULL,
  dev_tax_paid TEXT NOT NULL,
  carry TEXT NOT NULL
) WITHOUT ROWID;
`

export function openBillingDb(path: string): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.exec(SCHEMA)
  return db
}

export type BillingDb = Database.Database
