// The order book's table on PostgreSQL (a node with `storage.backend = postgres`): the same
// columns as orderbook.sqlite (order-db.ts), so `hansa storage migrate` copies them one to one.
export const ORDERBOOK_V1 = `
CREATE TABLE orders (
  id text PRIMARY KEY,
  maker text NOT NULL,
  side text NOT NULL,
  currency text NOT NULL,
  status text NOT NULL,
  taker text,
  order_json text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  event_created_at bigint NOT NULL,
  event_json text,
  published integer NOT NULL DEFAULT 0,
  trade_sats bigint,
  trade_fiat double precision,
  maker_fee bigint,
  taker_fee bigint,
  maker_fee_booked integer NOT NULL DEFAULT 0,
  taker_fee_booked integer NOT NULL DEFAULT 0,
  taken_at bigint,
  confirmed_at bigint
);
CREATE INDEX orders_status ON orders (status, expires_at);
CREATE INDEX orders_maker ON orders (maker, status);
CREATE INDEX orders_taker ON orders (taker, status);
CREATE TABLE robots (
  pubkey text PRIMARY KEY,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  orders_made bigint NOT NULL DEFAULT 0,
  orders_taken bigint NOT NULL DEFAULT 0
);
`
