// Billing's tables on PostgreSQL (a node with `storage.backend = postgres`): the same tables
// and columns as billing.sqlite (db.ts), so `hansa storage migrate` copies them one to one,
// with amounts as numeric(80,0) — exact, and summed in the database without floating point.
// `swap_accounts.version` rises with every change, so a process keeping balances for its
// request path takes the newest row it has seen (pg-swap-accounts.ts). A payment reference is
// used once across every process: `subscription_payments (rail, reference)` is unique.
export const BILLING_V1 = `
CREATE TABLE swap_accounts (
  peer text PRIMARY KEY,
  balance numeric(80,0) NOT NULL DEFAULT 0,
  charged numeric(80,0) NOT NULL DEFAULT 0,
  paid numeric(80,0) NOT NULL DEFAULT 0,
  cumulative numeric(80,0) NOT NULL DEFAULT 0,
  requests bigint NOT NULL DEFAULT 0,
  out_of_bounds text NOT NULL DEFAULT 'within',
  updated_at bigint NOT NULL DEFAULT 0,
  version bigint NOT NULL DEFAULT 0
);
CREATE TABLE chequebooks (
  chequebook text PRIMARY KEY,
  issuer text NOT NULL,
  cumulative numeric(80,0) NOT NULL,
  last_digest text NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE cheques (
  digest text PRIMARY KEY,
  chequebook text NOT NULL,
  peer text NOT NULL,
  cumulative numeric(80,0) NOT NULL,
  increment numeric(80,0) NOT NULL,
  purpose text NOT NULL,
  cheque text NOT NULL,
  received_at bigint NOT NULL,
  settled text NOT NULL
);
CREATE INDEX cheques_chequebook ON cheques (chequebook, received_at);
CREATE INDEX cheques_peer ON cheques (peer, received_at DESC, cumulative DESC);
CREATE TABLE subscriptions (
  id text PRIMARY KEY,
  owner text NOT NULL,
  service text NOT NULL,
  expires_at bigint NOT NULL,
  created_at bigint NOT NULL,
  UNIQUE (owner, service)
);
CREATE TABLE subscription_keys (
  subscription text NOT NULL REFERENCES subscriptions (id),
  pubkey text NOT NULL,
  added_at bigint NOT NULL,
  PRIMARY KEY (subscription, pubkey)
);
CREATE INDEX subscription_keys_pubkey ON subscription_keys (pubkey);
CREATE TABLE quotes (
  id text PRIMARY KEY,
  owner text NOT NULL,
  service text NOT NULL,
  periods integer NOT NULL,
  amount numeric(80,0) NOT NULL,
  unit text NOT NULL,
  pubkeys text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  paid_at bigint
);
CREATE TABLE subscription_payments (
  id bigserial PRIMARY KEY,
  subscription text NOT NULL,
  quote text NOT NULL,
  periods integer NOT NULL,
  amount numeric(80,0) NOT NULL,
  rail text NOT NULL,
  reference text NOT NULL,
  expires_before bigint NOT NULL,
  expires_after bigint NOT NULL,
  paid_at bigint NOT NULL,
  UNIQUE (rail, reference)
);
CREATE TABLE payments (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  peer text NOT NULL,
  purpose text NOT NULL,
  service text,
  rail text NOT NULL,
  reference text NOT NULL,
  unit text NOT NULL,
  amount numeric(80,0) NOT NULL,
  income numeric(80,0) NOT NULL,
  dev_tax numeric(80,0) NOT NULL,
  rate_bps integer NOT NULL
);
CREATE INDEX payments_peer ON payments (peer, id DESC);
-- A trade fee is booked once, whichever process of the node books it.
CREATE UNIQUE INDEX payments_trade_fee ON payments (reference) WHERE purpose = 'trade-fee';
CREATE TABLE dev_tax_paid (
  id bigserial PRIMARY KEY,
  at bigint NOT NULL,
  unit text NOT NULL,
  amount numeric(80,0) NOT NULL,
  reference text NOT NULL
);
CREATE TABLE book_totals (
  unit text PRIMARY KEY,
  payments bigint NOT NULL,
  received numeric(80,0) NOT NULL,
  income numeric(80,0) NOT NULL,
  dev_tax numeric(80,0) NOT NULL,
  dev_tax_paid numeric(80,0) NOT NULL,
  carry numeric(80,0) NOT NULL
);
`

/** The channel billing changes are announced on, so every process refreshes what it keeps. */
export const BILLING_CHANNEL = 'hansa_billing'
