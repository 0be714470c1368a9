// Money across two `hansa node start` processes of one node on one PostgreSQL database (a
// metered inbox on the ledger rail): payers sending cheques to both processes at once have each
// cheque credited once and each chequebook's rise counted once, on their accounts and in the
// books; charges made on both processes for one account all count; a credit made on one
// process lets the other serve a peer it was refusing; a subscription paid on one process
// opens the other to the subscriber, and one quote paid on both at once is paid once.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  getAccount,
  getBilling,
  getSubscriptions,
  paySubscription,
  quoteSubscription,
  sendCheque,
  subscribeWith,
} from '@hansa/client'
import { readKeyFile } from '@hansa/node'
import { ethereumAddress, signCheque } from '@hansa/protocol'
import * as nip17 from 'nostr-tools/nip17'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import pg from 'pg'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir } from './helpers.js'
import { type Proc, startNodeProcess, stopNodeProcess } from './node-process.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

useWebSocketImplementation(WebSocket)

const METERED = {
  HANSA_INBOX_ACCESS: 'metered',
  HANSA_ORDERBOOK_ENABLED: 'true',
  HANSA_BILLING_METERED_QUERY_PRICE: '10',
  HANSA_BILLING_METERED_EVENT_PRICE: '20',
  HANSA_BILLING_METERED_KILOBYTE_PRICE: '5',
  HANSA_BILLING_METERED_PAYMENT_THRESHOLD: '1000',
}

/** Polls `read` until `done` holds (bounded); returns the last value read. */
async function until<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read()
  for (let i = 0; i < 100 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 100))
    v = await read()
  }
  return v
}

/** Publishes as `sk` (NIP-42 when asked); returns '' when accepted, else the reason. */
async function publishAs(
  url: string,
  sk: Uint8Array,
  events: Event[],
  auth = true,
): Promise<string[]> {
  const relay = new Relay(url)
  if (auth) relay.onauth = async (t) => finalizeEvent(t, sk)
  await relay.connect()
  const out: string[] = []
  try {
    for (const e of events) {
      let result = await relay.publish(e).then(
        () => '',
        (err: Error) => err.message,
      )
      for (let i = 0; i < 50 && result.startsWith('auth-required'); i++) {
        await new Promise((r) => setTimeout(r, 50))
        result = await relay.publish(e).then(
          () => '',
          (err: Error) => err.message,
        )
      }
      out.push(result)
    }
  } finally {
    relay.close()
  }
  return out
}

describe.skipIf(!pgUrl)('PostgreSQL: billing shared by two node processes', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-pg-billing-'))
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: Proc
  let b: Proc
  let nodeKey: { secretKey: Uint8Array; address: string }
  let sql: pg.Client

  beforeAll(async () => {
    db = await freshDatabase()
    a = await startNodeProcess(join(root, 'a'), db.url, METERED)
    mkdirSync(join(root, 'b'), { mode: 0o700 })
    copyFileSync(join(root, 'a', 'node.key'), join(root, 'b', 'node.key'))
    b = await startNodeProcess(join(root, 'b'), db.url, METERED)
    nodeKey = readKeyFile(join(root, 'a', 'node.key'))
    sql = new pg.Client({ connectionString: db.url })
    await sql.connect()
  }, 60_000)
  afterAll(async () => {
    await sql?.end()
    await stopNodeProcess(a)
    await stopNodeProcess(b)
    await db?.drop()
    removeDir(root)
  })

  const cheque = (sk: Uint8Array, payout: bigint) =>
    signCheque(
      {
        chequebook: ethereumAddress(sk),
        beneficiary: nodeKey.address,
        cumulativePayout: payout,
        chainId: 31337,
      },
      sk,
    )

  it('keeps billing and the order book in the database, not in the data folders', () => {
    for (const dir of ['a', 'b']) {
      expect(existsSync(join(root, dir, 'billing.sqlite'))).toBe(false)
      expect(existsSync(join(root, dir, 'orderbook.sqlite'))).toBe(false)
    }
  })

  it('credits each cheque once when payers send them to both processes at once', async () => {
    const payers = [generateSecretKey(), generateSecretKey(), generateSecretKey()]
    const steps = 8
    const sends: Array<Promise<{ payer: number; payout: bigint; credited: bigint | null }>> = []
    for (const [p, sk] of payers.entries()) {
      const cheques = await Promise.all(
        Array.from({ length: steps }, (_, i) => cheque(sk, BigInt((i + 1) * 1000))),
      )
      // every cheque goes to both processes, all at once
      for (const [i, c] of cheques.entries()) {
        for (const proc of [a, b]) {
          sends.push(
            sendCheque(proc.url, c, sk).then(
              (r) => ({ payer: p, payout: BigInt((i + 1) * 1000), credited: BigInt(r.credited) }),
              () => ({ payer: p, payout: BigInt((i + 1) * 1000), credited: null }),
            ),
          )
        }
      }
    }
    const results = await Promise.all(sends)
    for (const p of payers.keys()) {
      const mine = results.filter((r) => r.payer === p && r.credited !== null)
      // a cheque credited at most once, the rises adding up to the last payout exactly
      expect(new Set(mine.map((r) => r.payout)).size).toBe(mine.length)
      expect(mine.reduce((s, r) => s + r.credited!, 0n)).toBe(BigInt(steps * 1000))
      for (const proc of [a, b]) {
        const account = await getAccount(proc.url, payers[p]!)
        expect(account.swap).toMatchObject({
          balance: `-${steps * 1000}`,
          paid: `${steps * 1000}`,
          cumulativePayout: `${steps * 1000}`,
        })
        expect(account.chequebook?.cumulativePayout).toBe(`${steps * 1000}`)
      }
    }
    const credited = results.filter((r) => r.credited !== null)
    const total = BigInt(payers.length * steps * 1000)
    for (const proc of [a, b]) {
      const report = await getBilling(proc.url, nodeKey.secretKey)
      expect(report.totals.payments).toBe(credited.length)
      expect(report.totals.received).toBe(total.toString())
      expect(BigInt(report.totals.income) + BigInt(report.totals.devTax)).toBe(total)
      expect(report.cheques).toBe(credited.length)
    }
    const { rows } = await sql.query(
      'SELECT count(*)::int AS n, sum(increment)::text AS sum FROM cheques',
    )
    expect(rows[0]).toEqual({ n: credited.length, sum: total.toString() })
  }, 60_000)

  it('counts the charges both processes make on one account', async () => {
    const aliceSk = generateSecretKey()
    await sendCheque(a.url, await cheque(aliceSk, 5000n), aliceSk)
    const bob = getPublicKey(generateSecretKey())
    const wraps = Array.from({ length: 12 }, (_, i) =>
      nip17.wrapEvent(aliceSk, { publicKey: bob }, `message ${i}`),
    )
    const price = (e: Event) =>
      20n + (BigInt(Buffer.byteLength(JSON.stringify(e))) * 5n + 1023n) / 1024n
    // two connections per process, all publishing at once
    const results = (
      await Promise.all([
        publishAs(a.url, aliceSk, wraps.slice(0, 3)),
        publishAs(b.url, aliceSk, wraps.slice(3, 6)),
        publishAs(a.url, aliceSk, wraps.slice(6, 9)),
        publishAs(b.url, aliceSk, wraps.slice(9, 12)),
      ])
    ).flat()
    expect(results).toEqual(wraps.map(() => ''))
    const charged = wraps.reduce((s, e) => s + price(e), 0n)
    for (const proc of [a, b]) {
      const account = await until(
        () => getAccount(proc.url, aliceSk),
        (x) => x.swap?.requests === wraps.length,
      )
      expect(account.swap).toMatchObject({
        requests: wraps.length,
        charged: charged.toString(),
        paid: '5000',
        balance: (charged - 5000n).toString(),
      })
    }
  }, 60_000)

  it('a cheque paid on one process lets the other serve a peer it refused', async () => {
    const carolSk = generateSecretKey()
    const bob = getPublicKey(generateSecretKey())
    // carol runs up a debt past the disconnect threshold (1250) on process b
    const wraps = Array.from({ length: 60 }, (_, i) =>
      nip17.wrapEvent(carolSk, { publicKey: bob }, `m${i}`),
    )
    const results = await publishAs(b.url, carolSk, wraps)
    const refused = results.findIndex((r) => r !== '')
    expect(refused).toBeGreaterThan(0)
    expect(results[refused]).toMatch(/^payment-required: you owe \d+ msat/)
    const owed = await until(
      () => getAccount(a.url, carolSk),
      (x) => x.swap?.requests === refused,
    )
    // she pays on process a; process b serves her again
    await sendCheque(a.url, await cheque(carolSk, BigInt(owed.swap!.balance)), carolSk)
    const again = nip17.wrapEvent(carolSk, { publicKey: bob }, 'paid up')
    const after = await until(
      () => publishAs(b.url, carolSk, [again]),
      (r) => r[0] === '' || r[0]!.startsWith('duplicate'),
    )
    expect(after[0] === '' || after[0]!.startsWith('duplicate')).toBe(true)
  }, 60_000)
})

describe.skipIf(!pgUrl)('PostgreSQL: subscriptions shared by two node processes', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-pg-subs-'))
  const SUBSCRIPTION = {
    HANSA_INBOX_ACCESS: 'subscription',
    HANSA_BILLING_SUBSCRIPTION_PRICE: '30000',
    HANSA_BILLING_SUBSCRIPTION_PERIOD_DAYS: '30',
    HANSA_BILLING_SUBSCRIPTION_MAX_PERIODS: '12',
  }
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: Proc
  let b: Proc

  beforeAll(async () => {
    db = await freshDatabase()
    a = await startNodeProcess(join(root, 'a'), db.url, SUBSCRIPTION)
    mkdirSync(join(root, 'b'), { mode: 0o700 })
    copyFileSync(join(root, 'a', 'node.key'), join(root, 'b', 'node.key'))
    b = await startNodeProcess(join(root, 'b'), db.url, SUBSCRIPTION)
  }, 60_000)
  afterAll(async () => {
    await stopNodeProcess(a)
    await stopNodeProcess(b)
    await db?.drop()
    removeDir(root)
  })

  it('opens both processes to a subscriber who paid on one; a quote paid on both is paid once', async () => {
    const aliceSk = generateSecretKey()
    const alice = getPublicKey(aliceSk)
    const bobSk = generateSecretKey()
    const mail = (text: string) => nip17.wrapEvent(bobSk, { publicKey: alice }, text)
    const refused = await publishAs(b.url, bobSk, [mail('before')], false)
    expect(refused[0]).toMatch(/^restricted: .* has no inbox subscription/)

    const first = await subscribeWith(a.url, { service: 'inbox', periods: 1 }, aliceSk)
    const after = await until(
      () => publishAs(b.url, bobSk, [mail('after')], false),
      (r) => r[0] === '',
    )
    expect(after).toEqual([''])

    // One quote, one cheque, paid on both processes at once: paid once, extended once.
    const quote = await quoteSubscription(b.url, { service: 'inbox', periods: 1 }, aliceSk)
    const c = await signCheque(
      {
        chequebook: ethereumAddress(aliceSk),
        beneficiary: quote.pay.beneficiary!,
        cumulativePayout: 60_000n,
        chainId: quote.pay.chainId,
      },
      aliceSk,
    )
    const results = await Promise.allSettled([
      paySubscription(a.url, quote.quote.id, c, aliceSk),
      paySubscription(b.url, quote.quote.id, c, aliceSk),
    ])
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const subscriptions = await getSubscriptions(a.url, aliceSk)
    expect(subscriptions).toHaveLength(1)
    expect(subscriptions[0]!.expiresAt).toBe(first.payment.expiresAfter + 30 * 86_400)
  }, 60_000)
})
