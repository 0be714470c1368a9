// The SQLite and PostgreSQL billing stores run one set of rules (books.ts, subscriptions.ts):
// the same steps against both — payments booked and split, subscriptions quoted, paid and
// their keys added and removed — give the same answers, refusals included (code, status,
// message), with the ones the rules give pinned here.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signSubscriptionConsent } from '@hansa/client'
import type { SubscriptionTerms } from '@hansa/protocol'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Books, devTaxToBook } from '../src/billing/books.js'
import { openBillingDb } from '../src/billing/db.js'
import { PgBooks, PgSubscriptions, inTransaction } from '../src/billing/pg-ledger.js'
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
})
