// `hansa storage migrate --to postgres` for the rest of a node's state: billing.sqlite,
// orderbook.sqlite and federation.sqlite's chain and proposals copied into their PostgreSQL
// tables (billing/pg-schema.ts, services/orderbook/pg-schema.ts, federation/pg-schema.ts), in pages, keeping ids, checking that every source row is
// there afterwards (by its key) and that the books' totals are the ones copied. Run again, it
// copies only what is missing. Sequences are moved past the copied ids, so the node's next
// payment takes a new one.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type pg from 'pg'

/** `target`: the PostgreSQL table, when its name differs (the federation's are prefixed). */
type Table = { name: string; key: string[]; columns: string[]; serial?: boolean; target?: string }

/** Billing's, in an order that keeps references valid (keys after their subscription). */
const BILLING: Table[] = [
  {
    name: 'swap_accounts',
    key: ['peer'],
    columns: [
      'peer',
      'balance',
      'charged',
      'paid',
      'cumulative',
      'requests',
      'out_of_bounds',
      'updated_at',
    ],
  },
  {
    name: 'chequebooks',
    key: ['chequebook'],
    columns: ['chequebook', 'issuer', 'cumulative', 'last_digest', 'updated_at'],
  },
  {
    name: 'cheques',
    key: ['digest'],
    columns: [
      'digest',
      'chequebook',
      'peer',
      'cumulative',
      'increment',
      'purpose',
      'cheque',
      'received_at',
      'settled',
    ],
  },
  {
    name: 'subscriptions',
    key: ['id'],
    columns: ['id', 'owner', 'service', 'expires_at', 'created_at'],
  },
  {
    name: 'subscription_keys',
    key: ['subscription', 'pubkey'],
    columns: ['subscription', 'pubkey', 'added_at'],
  },
  {
    name: 'quotes',
    key: ['id'],
    columns: [
      'id',
      'owner',
      'service',
      'periods',
      'amount',
      'unit',
      'pubkeys',
      'created_at',
      'expires_at',
      'paid_at',
    ],
  },
  {
    name: 'subscription_payments',
    key: ['id'],
    serial: true,
    columns: [
      'id',
      'subscription',
      'quote',
      'periods',
      'amount',
      'rail',
      'reference',
      'expires_before',
      'expires_after',
      'paid_at',
    ],
  },
  {
    name: 'payments',
    key: ['id'],
    serial: true,
    columns: [
      'id',
      'at',
      'peer',
      'purpose',
      'service',
      'rail',
      'reference',
      'unit',
      'amount',
      'income',
      'dev_tax',
      'rate_bps',
    ],
  },
  {
    name: 'dev_tax_paid',
    key: ['id'],
    serial: true,
    columns: ['id', 'at', 'unit', 'amount', 'reference'],
  },
  {
    name: 'book_totals',
    key: ['unit'],
    columns: ['unit', 'payments', 'received', 'income', 'dev_tax', 'dev_tax_paid', 'carry'],
  },
]

const ORDERBOOK: Table[] = [
  {
    name: 'orders',
    key: ['id'],
    columns: [
      'id',
      'maker',
      'side',
      'currency',
      'status',
      'taker',
      'order_json',
      'created_at',
      'expires_at',
      'updated_at',
      'event_created_at',
      'event_json',
      'published',
      'trade_sats',
      'trade_fiat',
      'maker_fee',
      'taker_fee',
      'maker_fee_booked',
      'taker_fee_booked',
      'taken_at',
      'confirmed_at',
    ],
  },
  {
    name: 'robots',
    key: ['pubkey'],
    columns: ['pubkey', 'first_seen', 'last_seen', 'orders_made', 'orders_taken'],
  },
]

/** federation.sqlite's chain and proposals (its registry signatures stay in the file). */
const FEDERATION: Table[] = [
  { name: 'meta', target: 'federation_meta', key: ['key'], columns: ['key', 'value'] },
  {
    name: 'chain',
    target: 'federation_chain',
    key: ['version'],
    columns: ['version', 'hash', 'signed', 'adopted_at'],
  },
  {
    name: 'proposals',
    target: 'federation_proposals',
    key: ['hash'],
    columns: ['hash', 'version', 'manifest', 'proposer', 'received_at'],
  },
  {
    name: 'proposal_signatures',
    target: 'federation_proposal_signatures',
    key: ['hash', 'pubkey'],
    columns: ['hash', 'pubkey', 'sig'],
  },
]

const PAGE = 1000

type Tables = Record<string, { source: number; copied: number; present: number }>

export type StateMigrateReport = {
  /** Per table: rows in the SQLite file, rows copied now, source rows found in PostgreSQL after. */
  billing: { tables: Tables; totalsMatch: boolean; countsMatch: boolean } | null
  orderbook: { tables: Tables; countsMatch: boolean } | null
  federation: { tables: Tables; countsMatch: boolean } | null
  countsMatch: boolean
}

type Progress = (table: string, done: number, total: number) => void

/**
 * Copies `dataDir`'s billing.sqlite and orderbook.sqlite (those that exist) into PostgreSQL,
 * whose schema is migrated already (PostgresStore.open).
 */
export async function migrateNodeState(
  dataDir: string,
  pool: pg.Pool,
  progress?: Progress,
): Promise<StateMigrateReport> {
  const billing = await migrateBilling(join(dataDir, 'billing.sqlite'), pool, progress)
  const orderbook = await withFile(join(dataDir, 'orderbook.sqlite'), async (db) => {
    const tables = await copyTables(db, ORDERBOOK, pool, progress)
    return { tables, countsMatch: Object.values(tables).every((e) => e.present === e.source) }
  })
  const federation = await withFile(join(dataDir, 'federation.sqlite'), async (db) => {
    const tables = await copyTables(db, FEDERATION, pool, progress)
    return { tables, countsMatch: Object.values(tables).every((e) => e.present === e.source) }
  })
  return {
    billing,
    orderbook,
    federation,
    countsMatch: [billing, orderbook, federation].every((part) => part?.countsMatch ?? true),
  }
}

async function withFile<T>(
  path: string,
  fn: (db: Database.Database) => Promise<T>,
): Promise<T | null> {
  if (!existsSync(path)) return null
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    return await fn(db)
  } finally {
    db.close()
  }
}

async function copyTables(
  db: Database.Database,
  list: Table[],
  pool: pg.Pool,
  progress?: Progress,
): Promise<Tables> {
  const tables: Tables = {}
  for (const t of list) {
    const exists = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(t.name)
    const source = exists
      ? (db.prepare(`SELECT count(*) FROM ${t.name}`).pluck().get() as number)
      : 0
    const entry = { source, copied: 0, present: 0 }
    tables[t.name] = entry
    if (source === 0) continue
    const cols = t.columns.join(', ')
    const into = t.target ?? t.name
    const page = db.prepare(
      `SELECT ${cols} FROM ${t.name} ORDER BY ${t.key.join(', ')} LIMIT ? OFFSET ?`,
    )
    for (let offset = 0; offset < source; offset += PAGE) {
      const rows = page.all(PAGE, offset)
      if (rows.length === 0) break
      const json = JSON.stringify(rows)
      const inserted = await pool.query(
        `INSERT INTO ${into} (${cols}) SELECT ${cols} FROM json_populate_recordset(null::${into}, $1)
           ON CONFLICT DO NOTHING`,
        [json],
      )
      entry.copied += inserted.rowCount ?? 0
      const found = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${into} JOIN json_populate_recordset(null::${into}, $1) s
           USING (${t.key.join(', ')})`,
        [json],
      )
      entry.present += Number(found.rows[0]!.n)
      progress?.(t.name, Math.min(offset + rows.length, source), source)
    }
    if (t.serial) {
      await pool.query(
        `SELECT setval(pg_get_serial_sequence('${t.name}', 'id'), (SELECT max(id) FROM ${t.name}))`,
      )
    }
  }
  return tables
}

function migrateBilling(path: string, pool: pg.Pool, progress?: Progress) {
  return withFile(path, async (db) => {
    const tables = await copyTables(db, BILLING, pool, progress)
    // Money: the totals must be the copied ones, to the unit.
    const totals = db.prepare('SELECT * FROM book_totals ORDER BY unit').all() as Array<
      Record<string, string | number>
    >
    let totalsMatch = true
    for (const row of totals) {
      const { rows } = await pool.query<Record<string, string>>(
        `SELECT payments::text, received::text, income::text, dev_tax::text, dev_tax_paid::text,
           carry::text FROM book_totals WHERE unit = $1`,
        [row.unit],
      )
      const got = rows[0]
      const same =
        got !== undefined &&
        ['payments', 'received', 'income', 'dev_tax', 'dev_tax_paid', 'carry'].every(
          (k) => got[k] === String(row[k]),
        )
      if (!same) totalsMatch = false
    }
    const countsMatch = Object.values(tables).every((e) => e.present === e.source)
    return { tables, totalsMatch, countsMatch: countsMatch && totalsMatch }
  })
}
