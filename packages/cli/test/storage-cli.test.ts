// `hansa storage`: a SQLite node's events exported as JSON lines, moved into PostgreSQL with
// their counts checked (with its billing: accounts, cheques, the books), imported into another database (refusing forged lines), and counted.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { sendCheque } from '@hansa/client'
import { OrderDb, SqliteStore, resolveConfig, startNode } from '@hansa/node'
import { type NostrEvent, ethereumAddress, signCheque } from '@hansa/protocol'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import Database from 'better-sqlite3'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgUrl } from '../../node/test/pg-test-db.js'

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const run = promisify(execFile)
const hansa = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [CLI, 'storage', ...args, '--quiet'], {
    env: { ...process.env, HANSA_VERIFY_THREADS: '1', ...env },
  })

describe.skipIf(!pgUrl)('hansa storage', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hansa-storage-cli-'))
  const sk = generateSecretKey()
  const events: NostrEvent[] = []
  let target: Awaited<ReturnType<typeof freshDatabase>>
  let second: Awaited<ReturnType<typeof freshDatabase>>

  beforeAll(async () => {
    const store = new SqliteStore({ path: join(dataDir, 'events.sqlite'), synchronous: 'normal' })
    for (let i = 0; i < 30; i++) {
      events.push(
        finalizeEvent(
          { kind: 1, created_at: 1_800_000_000 + i, tags: [['t', 'move']], content: `${i}` },
          sk,
        ) as NostrEvent,
      )
    }
    events.push(
      finalizeEvent(
        { kind: 5, created_at: 1_800_000_100, tags: [['e', events[0]!.id]], content: '' },
        sk,
      ) as NostrEvent,
    )
    await store.writeBatch(
      events.map((event, i) => ({ event, raw: JSON.stringify(event), receivedAt: 1000 + i })),
    )
    await store.close()
    // A metered node's billing.sqlite, with two cheques credited, beside those events.
    const billingDir = mkdtempSync(join(tmpdir(), 'hansa-storage-billing-'))
    const node = await startNode(
      resolveConfig({
        flags: { dataDir: billingDir, port: 0, 'verify.threads': 1, 'inbox.access': 'metered' },
      }),
      { log: pino({ level: 'silent' }) },
    )
    for (const payout of [3000n, 5000n]) {
      const cheque = await signCheque(
        {
          chequebook: ethereumAddress(sk),
          beneficiary: node.key.address,
          cumulativePayout: payout,
          chainId: 31337,
        },
        sk,
      )
      await sendCheque(node.url, cheque, sk)
    }
    await node.close()
    copyFileSync(join(billingDir, 'billing.sqlite'), join(dataDir, 'billing.sqlite'))
    copyFileSync(join(billingDir, 'federation.sqlite'), join(dataDir, 'federation.sqlite'))
    const fed = new Database(join(dataDir, 'federation.sqlite'))
    fed.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('pinned', 'a-genesis-hash')
    fed.close()
    rmSync(billingDir, { recursive: true, force: true })
    // …and an order book with two orders, one of them taken.
    const book = new OrderDb(join(dataDir, 'orderbook.sqlite'), 'full')
    for (const id of ['o-1', 'o-2']) {
      book.insert(
        {
          id,
          side: 'sell',
          currency: 'EUR',
          status: 'pending',
          amount: 100_000,
          fiatAmount: [50],
          paymentMethods: ['SEPA'],
          premium: 0,
          network: 'regtest',
          layer: 'lightning',
          expiresAt: 1_900_000_000,
          expiration: 1_900_003_600,
          platform: ['hansa'],
          maker: getPublicKey(sk),
        },
        1_800_000_000,
      )
    }
    book.apply(
      'o-1',
      { type: 'take', by: 'b'.repeat(64), at: 1_800_000_001 },
      1_800_000_001,
      () => ({
        sats: 100_000,
        fiat: 50,
        makerFee: 100,
        takerFee: 200,
      }),
    )
    book.close()
    target = await freshDatabase()
    second = await freshDatabase()
  })
  afterAll(async () => {
    await target?.drop()
    await second?.drop()
  })

  it('exports every stored event as JSON lines, oldest first', async () => {
    const out = join(dataDir, 'events.jsonl')
    const { stdout } = await hansa(['export', '--data-dir', dataDir, '--out', out])
    expect(JSON.parse(stdout)).toEqual({ events: 30 }) // event 0 was deleted
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as NostrEvent).id)).toEqual(
      events.slice(1).map((e) => e.id),
    )
  })

  it('migrates into PostgreSQL, checks the counts, and stores nothing twice when run again', async () => {
    const args = ['migrate', '--data-dir', dataDir, '--to', 'postgres', '--url', target.url]
    const first = JSON.parse((await hansa(args)).stdout)
    expect(first).toMatchObject({ stored: 30, countsMatch: true, target: { before: 0, after: 30 } })
    expect(first.billing).toMatchObject({
      countsMatch: true,
      totalsMatch: true,
      tables: {
        swap_accounts: { source: 1, copied: 1, present: 1 },
        cheques: { source: 2, copied: 2, present: 2 },
        payments: { source: 2, copied: 2, present: 2 },
        book_totals: { source: 1, copied: 1, present: 1 },
      },
    })
    expect(first.orderbook).toEqual({
      countsMatch: true,
      tables: {
        orders: { source: 2, copied: 2, present: 2 },
        robots: { source: 2, copied: 2, present: 2 },
      },
    })
    expect(first.federation).toMatchObject({
      countsMatch: true,
      tables: { meta: { source: 1, copied: 1, present: 1 }, chain: { source: 0 } },
    })
    const sql = new pg.Client({ connectionString: target.url })
    await sql.connect()
    try {
      const account = await sql.query(
        'SELECT balance::text, paid::text, cumulative::text FROM swap_accounts WHERE peer = $1',
        [getPublicKey(sk)],
      )
      expect(account.rows).toEqual([{ balance: '-5000', paid: '5000', cumulative: '5000' }])
      const meta = await sql.query('SELECT key, value FROM federation_meta')
      expect(meta.rows).toEqual([{ key: 'pinned', value: 'a-genesis-hash' }])
      const books = await sql.query('SELECT received::text, payments::int FROM book_totals')
      expect(books.rows).toEqual([{ received: '5000', payments: 2 }])
      const taken = await sql.query(
        "SELECT taker, status, trade_sats::int FROM orders WHERE id = 'o-1'",
      )
      expect(taken.rows).toEqual([
        { taker: 'b'.repeat(64), status: 'in-progress', trade_sats: 100_000 },
      ])
      // the next payment takes a new id
      const next = await sql.query(
        "SELECT nextval(pg_get_serial_sequence('payments', 'id'))::int AS id",
      )
      expect(next.rows[0].id).toBe(3)
    } finally {
      await sql.end()
    }
    const again = JSON.parse((await hansa(args)).stdout)
    expect(again).toMatchObject({ stored: 0, duplicate: 30, countsMatch: true })
    expect(again.billing).toMatchObject({
      countsMatch: true,
      tables: { cheques: { copied: 0, present: 2 } },
    })
    const stats = JSON.parse(
      (
        await hansa(['stats', '--data-dir', dataDir], {
          HANSA_STORAGE_BACKEND: 'postgres',
          HANSA_STORAGE_URL: target.url,
        })
      ).stdout,
    )
    expect(stats).toMatchObject({ backend: 'postgres', events: 30 })
    expect(stats.bytes).toBeGreaterThan(0)
  })

  it('imports JSON lines into the configured store, refusing forged and malformed lines', async () => {
    const lines = readFileSync(join(dataDir, 'events.jsonl'), 'utf8').trim().split('\n')
    const forged = { ...(JSON.parse(lines[0]!) as NostrEvent), content: 'changed' }
    const file = join(dataDir, 'import.jsonl')
    writeFileSync(file, [...lines, JSON.stringify(forged), '{not json', ''].join('\n'))
    const env = { HANSA_STORAGE_BACKEND: 'postgres', HANSA_STORAGE_URL: second.url }
    const report = JSON.parse(
      (await hansa(['import', '--data-dir', dataDir, '--in', file], env)).stdout,
    )
    expect(report).toMatchObject({ stored: 30, invalid: 2 })
    expect(report.refusals.map((r: { line: number }) => r.line)).toEqual([31, 32])
  })

  it('refuses a migration without a target, saying what to pass', async () => {
    await expect(hansa(['migrate', '--data-dir', dataDir, '--to', 'sqlite'])).rejects.toMatchObject(
      {
        stderr: expect.stringContaining('--to postgres --url'),
      },
    )
  })
})
