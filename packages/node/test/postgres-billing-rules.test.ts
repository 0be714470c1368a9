// The SQLite and PostgreSQL billing stores run one set of rules (books.ts, subscriptions.ts):
// the same steps against both — payments booked and split, subscriptions quoted, paid and
// their keys added and removed, SWAP accounts charged, credited and a credit reversed — give the same answers, refusals included (code, status,
// message), with the ones the rules give pinned here.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signSubscriptionConsent } from '@hansa/client'
import type { SubscriptionTerms, SwapPolicy } from '@hansa/protocol'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Books, devTaxToBook } from '../src/billing/books.js'
import { openBillingDb } from '../src/billing/db.js'
import { PgBooks, PgSubscriptions, inTransaction } from '../src/billing/pg-ledger.js'
import { PgSwapAccounts } from '../src/billing/pg-swap-accounts.js'
import { SwapAccounts } from '../src/billing/swap-accounts.js'
import { Subscriptions } from '../src/billing/subscriptions.js'
import { migrateDatabase } from '../src/store/postgres-schema.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const now = 1_800_000_000
/** A subscription's keys added at one moment come in pubkey order. */
const sorted = (...keys: string[]) => [...keys].sort()
const node = 'f'.repeat(64)
const terms = new Map<string, SubscriptionTerms>([
  [
    'inbox',
    {
      access: 'subscription',
      unit: 'msat',
      price: '1000',
      periodSeconds: 86_400,
      maxPeriods: 12,
      maxPubkeys: 3,
    },
  ],
])

/** What a step answered: its value (bigints as strings, ids left out) or its refusal. */
async function outcome(step: () => unknown): Promise<unknown> {
  try {
    return JSON.parse(
      JSON.stringify(await step(), (key, v) =>
        typeof v === 'bigint' ? v.toString() : key === 'id' ? undefined : v,
      ) ?? 'null',
    )
  } catch (e) {
    const err = e as { code?: string; status?: number; shortMessage?: string; message: string }
    return { code: err.code, status: err.status, message: err.shortMessage ?? err.message }
  }
}

describe.skipIf(!pgUrl)('PostgreSQL: billing stores that follow the SQLite ones', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let pool: pg.Pool
  let dir: string

  beforeAll(async () => {
    db = await freshDatabase()
    pool = new pg.Pool({ connectionString: db.url, max: 4 })
    pool.on('error', () => {})
    await migrateDatabase(pool)
    dir = mkdtempSync(join(tmpdir(), 'hansa-billing-rules-'))
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('split payments into income and dev tax alike, and refuse booking more tax than is due', async () => {
    const sqlite = openBillingDb(join(dir, 'books.sqlite'))
    const options = { unit: 'msat', rateBps: 333, now: () => now }
    const books = new Books(sqlite, options)
    const pgBooks = new PgBooks(pool, options)
    const payment = (amount: bigint, i: number) => ({
      peer: 'a'.repeat(64),
      purpose: 'swap' as const,
      service: null,
      rail: 'ledger',
      reference: `cheque-${i}`,
      amount,
    })
    const amounts = [1n, 7n, 1000n, 29_999n, 3n]
    const seen: Record<string, unknown[]> = { sqlite: [], postgres: [] }
    for (const [i, a] of amounts.entries()) {
      seen.sqlite!.push(await outcome(() => sqlite.transaction(() => books.book(payment(a, i)))()))
      seen.postgres!.push(
        await outcome(() => inTransaction(pool, (c) => pgBooks.book(c, payment(a, i)))),
      )
    }
    seen.sqlite!.push(await outcome(() => books.totals()), await outcome(() => books.recent(3)))
    seen.postgres!.push(
      await outcome(() => pgBooks.totals()),
      await outcome(() => pgBooks.recent(3)),
    )
    const due = books.totals().devTaxDue
    seen.sqlite!.push(await outcome(() => devTaxToBook(due + 1n, due, 'msat', false)))
    seen.postgres!.push(await outcome(() => pgBooks.recordDevTaxPaid(due + 1n, 'fund')))
    sqlite.close()
    expect(seen.postgres).toEqual(seen.sqlite)
    expect(seen.sqlite![amounts.length]).toMatchObject({
      payments: 5,
      received: '31010',
      devTaxDue: due.toString(),
    })
    const booked = seen.sqlite!.slice(0, amounts.length) as Array<{
      income: string
      devTax: string
    }>
    expect(booked.reduce((t, b) => t + BigInt(b.income) + BigInt(b.devTax), 0n)).toBe(31_010n)
    expect(seen.sqlite!.at(-1)).toEqual({
      code: 'HANSA_BILLING_BAD_REQUEST',
      status: 400,
      message: `only ${due} msat of dev tax is due`,
    })
  })

  it('quote, take payments for and change subscriptions alike', async () => {
    const sqlite = openBillingDb(join(dir, 'subs.sqlite'))
    const subs = new Subscriptions(sqlite, terms, () => now, node)
    const pgSubs = new PgSubscriptions(pool, terms, () => now, node)
    const ownerSk = generateSecretKey()
    const owner = getPublicKey(ownerSk)
    const phoneSk = generateSecretKey()
    const phone = getPublicKey(phoneSk)
    const stranger = 'e'.repeat(64)
    const consent = await signSubscriptionConsent(phoneSk, { node, service: 'inbox', owner }, now)
    const others = ['1', '2', '3'].map((c) => c.repeat(64))
    const [tabletSk, laptopSk] = [generateSecretKey(), generateSecretKey()]
    const [tablet, laptop] = [getPublicKey(tabletSk), getPublicKey(laptopSk)]
    const consentOf = (sk: Uint8Array) =>
      signSubscriptionConsent(sk, { node, service: 'inbox', owner }, now)
    const [tabletConsent, laptopConsent] = [await consentOf(tabletSk), await consentOf(laptopSk)]

    const seen: Record<string, unknown[]> = {}
    for (const [name, store] of [
      ['sqlite', subs],
      ['postgres', pgSubs],
    ] as const) {
      const results: unknown[] = []
      const step = async (fn: () => unknown) => {
        const r = await outcome(fn)
        results.push(r)
        return r
      }
      await step(() => store.quote(owner, { service: 'mail', periods: 1 }))
      await step(() => store.quote(owner, { service: 'inbox', periods: 13 }))
      await step(() => store.quote(owner, { service: 'inbox', periods: 1, pubkeys: [phone] }))
      await step(() =>
        store.quote(owner, { service: 'inbox', periods: 1, pubkeys: others, consents: [] }),
      )
      const quote = await store.quote(owner, { service: 'inbox', periods: 2 })
      await step(() => store.payableQuote('nope', owner))
      await step(() => store.payableQuote(quote.id, stranger))
      const pay = (amount: bigint) =>
        name === 'sqlite'
          ? sqlite.transaction(() => subs.applyPayment(quote, amount, 'ledger', `ref-${amount}`))()
          : inTransaction(pool, (c) =>
              pgSubs.applyPayment(c, quote, amount, 'ledger', `ref-${amount}`),
            )
      await step(() => pay(1999n))
      const paid = (await pay(2000n)) as { subscription: { id: string } }
      results.push(await outcome(() => paid))
      await step(() => pay(2000n))
      await step(() => store.payableQuote(quote.id, owner))
      const id = paid.subscription.id
      await step(() => store.addPubkey('nope', owner, phone, consent))
      await step(() => store.addPubkey(id, stranger, phone, consent))
      await step(() => store.addPubkey(id, owner, 'XYZ', consent))
      await step(() => store.addPubkey(id, owner, phone))
      await step(() => store.addPubkey(id, owner, phone, consent))
      await step(() => store.addPubkey(id, owner, tablet, tabletConsent))
      await step(() => store.addPubkey(id, owner, laptop, laptopConsent))
      await step(() => store.removePubkey(id, stranger, phone))
      await step(() => store.removePubkey(id, owner, owner))
      await step(() => store.removePubkey(id, owner, stranger))
      await step(() => store.removePubkey(id, phone, phone))
      await step(() => store.listFor(owner))
      results.push(store.access(owner, 'inbox'), store.access(phone, 'inbox'))
      seen[name] = results
    }
    sqlite.close()
    expect(seen.postgres).toEqual(seen.sqlite)
    const refusal = (code: string, status: number) => expect.objectContaining({ code, status })
    expect(seen.sqlite).toEqual([
      refusal('HANSA_BILLING_BAD_REQUEST', 400),
      refusal('HANSA_BILLING_BAD_REQUEST', 400),
      refusal('HANSA_SUBSCRIPTION_CONSENT', 403),
      refusal('HANSA_SUBSCRIPTION_CONSENT', 403),
      refusal('HANSA_BILLING_NOT_FOUND', 404),
      refusal('HANSA_BILLING_FORBIDDEN', 403),
      {
        code: 'HANSA_PAYMENT_AMOUNT',
        status: 402,
        message: 'the payment is 1999 msat; the quote asks for exactly 2000',
      },
      expect.objectContaining({ periods: 2, amount: '2000', expiresAfter: now + 2 * 86_400 }),
      { code: 'HANSA_QUOTE_PAID', status: 409, message: 'this quote is already paid' },
      { code: 'HANSA_QUOTE_PAID', status: 409, message: 'this quote is already paid' },
      refusal('HANSA_BILLING_NOT_FOUND', 404),
      refusal('HANSA_BILLING_FORBIDDEN', 403),
      refusal('HANSA_BILLING_BAD_REQUEST', 400),
      refusal('HANSA_SUBSCRIPTION_CONSENT', 403),
      expect.objectContaining({ pubkeys: sorted(owner, phone) }),
      expect.objectContaining({ pubkeys: sorted(owner, phone, tablet) }),
      {
        code: 'HANSA_BILLING_BAD_REQUEST',
        status: 400,
        message: 'a subscription covers at most 3 pubkeys',
      },
      refusal('HANSA_BILLING_FORBIDDEN', 403),
      refusal('HANSA_BILLING_BAD_REQUEST', 400),
      refusal('HANSA_BILLING_NOT_FOUND', 404),
      expect.objectContaining({ pubkeys: sorted(owner, tablet) }),
      [expect.objectContaining({ owner, pubkeys: sorted(owner, tablet), active: true })],
      { active: true, expiresAt: now + 2 * 86_400 },
      { active: false, expiredAt: null },
    ])
  })

  it('charge, credit, cap and reverse SWAP accounts alike, and keep them across a restart', async () => {
    const sqlite = openBillingDb(join(dir, 'swap.sqlite'))
    const policy: SwapPolicy = {
      prices: { query: 10n, event: 10n, kilobyte: 0n },
      paymentThreshold: 50n,
      disconnectThreshold: 100n,
      mode: 'hard',
    }
    let clock = now
    const logged: Record<string, string[]> = { sqlite: [], postgres: [] }
    const options = (name: string) => ({
      unit: 'msat',
      now: () => clock,
      maxAhead: 40n,
      log: pino(
        { level: 'info' },
        { write: (line: string) => logged[name]!.push(JSON.parse(line).msg) },
      ),
    })
    const peer = 'b'.repeat(64)
    const query = { kind: 'query' as const, bytes: 0 }
    const stores = {
      sqlite: new SwapAccounts(sqlite, policy, options('sqlite')),
      postgres: new PgSwapAccounts(pool, policy, options('postgres')),
    }
    const credit = (name: keyof typeof stores, amount: bigint, cumulative: bigint) =>
      name === 'sqlite'
        ? sqlite.transaction(() => stores.sqlite.stageCredit(peer, amount, cumulative))()()
        : inTransaction(pool, (c) => stores.postgres.credit(c, peer, amount, cumulative)).then(
            (row) => stores.postgres.committed(row),
          )
    const seen: Record<string, unknown[]> = { sqlite: [], postgres: [] }
    for (const name of ['sqlite', 'postgres'] as const) {
      const store = stores[name]
      const results = seen[name]!
      clock = now
      for (let i = 0; i < 12; i++) store.charge(peer, query)
      if (name === 'postgres') await stores.postgres.flush()
      for (let i = 0; i < 3; i++) results.push(await outcome(() => store.admit(peer, 'query')))
      clock = now + 10
      results.push(await outcome(() => credit(name, 30n, 30n)))
      results.push(await outcome(() => credit(name, 200n, 230n)))
      clock = now + 20
      results.push(await outcome(() => store.reverseCredit(peer, 25n)))
    }
    sqlite.close()
    // read back from the database, as after a restart
    const again = new SwapAccounts(
      openBillingDb(join(dir, 'swap.sqlite')),
      policy,
      options('sqlite'),
    )
    const pgAgain = new PgSwapAccounts(pool, policy, options('postgres'))
    await pgAgain.load()
    seen.sqlite!.push(await outcome(() => again.get(peer)))
    seen.postgres!.push(await outcome(() => pgAgain.get(peer)))
    again.close()
    expect(seen.postgres).toEqual(seen.sqlite)
    expect(logged.postgres).toEqual(logged.sqlite)
    expect(seen.sqlite!.slice(3)).toEqual([
      expect.objectContaining({ balance: '90', paid: '30', bounds: 'within', updatedAt: now + 10 }),
      {
        code: 'HANSA_CHEQUE_AHEAD',
        status: 400,
        message:
          'this cheque would put you 110 msat ahead; this node takes at most 40 msat ahead on the ledger rail (you owe 90): sign a cumulative payout at most 160',
      },
      expect.objectContaining({ balance: '115', paid: '5', bounds: 'debt', updatedAt: now + 20 }),
      expect.objectContaining({ balance: '115', paid: '5', bounds: 'debt', updatedAt: now + 20 }),
    ])
    expect(logged.sqlite).toEqual([
      'swap: peer out of bounds (owes more than the disconnect threshold; refused until it pays)',
      'swap: peer out of bounds: refusing its requests until it pays',
      'swap: peer back within bounds',
      'swap: peer out of bounds (owes more than the disconnect threshold; refused until it pays)',
    ])
  })
})
