// Billing's money on PostgreSQL, for a node whose processes share one database: the books, the
// cheque desk's records and the subscriptions, each operation one transaction that several
// processes may run at once. What two processes must never both count is decided by the
// database, not by a process's memory:
//   - a cheque: its chequebook is locked for the transaction (an advisory lock), its digest is
//     the primary key, and the chequebook's cumulative payout only rises (`WHERE cumulative <
//     excluded.cumulative`): two processes crediting the same cheque, or two cheques of the
//     same chequebook, credit the rise once;
//   - the books: `book_totals` is read FOR UPDATE, so each payment's dev-tax split (and its
//     rounding carry) follows the one before it;
//   - a SWAP credit: the account row is read FOR UPDATE, the cap checked, the row written;
//   - a subscription: the quote is marked paid with `paid_at IS NULL` (once), the subscription
//     row is locked while it is extended, and a rail's payment reference is unique.
// Every change a process's caches depend on is announced with NOTIFY (pg-swap-accounts.ts,
// pg-subscriptions.ts listen).
import { randomBytes } from 'node:crypto'
import { type SubscriptionTerms, checkCheque, chequeDigest, chequeOf } from '@hansa/protocol'
import type { Logger } from 'pino'
import type pg from 'pg'
import {
  type BookTotals,
  type BookedPayment,
  PAYMENT_COLUMNS,
  type PaymentInput,
  type PaymentPurpose,
  type PaymentRow,
  devTaxToBook,
  paymentOf,
  splitBooking,
  totalsOf,
} from './books.js'
import {
  type ChequePurpose,
  Settlements,
  type VerifiedCheque,
  chequeIssuer,
  chequeNotIncreasing,
  chequeValues,
  chequeReplayed,
  verifiedCheque,
} from './cheques.js'
import { BillingRequestError } from './errors.js'
import { BILLING_CHANNEL } from './pg-schema.js'
import type { SettlementRail } from './rails/rail.js'
import {
  type PaymentRecord,
  type Quote,
  type SubscriptionView,
  type QuoteRow,
  addableKey,
  checkKeyCount,
  checkPaymentAmount,
  checkRemovable,
  extendedExpiry,
  newQuote,
  ownedSubscription,
  payable,
  quotePaid,
  quoteRequest,
  quoteValues,
  requireConsent,
  storedQuote,
  subscriptionTermsOf,
  subscriptionView,
} from './subscriptions.js'

export type Db = pg.Pool | pg.PoolClient

/** Deadlock, serialization failure: the transaction is run again. */
const RETRYABLE = new Set(['40P01', '40001'])

/** Runs `fn` in one transaction on a pooled connection; retried on a deadlock. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      const code = (error as { code?: string }).code
      if (code !== undefined && RETRYABLE.has(code) && attempt < 5) continue
      throw error
    } finally {
      client.release()
    }
  }
}

/** Announces a change (inside the transaction: it reaches the others only if it commits). */
export const announce = (db: Db, what: string) =>
  db.query('SELECT pg_notify($1, $2)', [BILLING_CHANNEL, what])

/** The books (books.ts's rules) on PostgreSQL. */
export class PgBooks {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { unit: string; rateBps: number; now: () => number },
  ) {}

  get unit(): string {
    return this.options.unit
  }

  get rateBps(): number {
    return this.options.rateBps
  }

  /** The totals row, locked until the transaction ends. */
  private async locked(client: pg.PoolClient) {
    await client.query(
      `INSERT INTO book_totals (unit, payments, received, income, dev_tax, dev_tax_paid, carry)
       VALUES ($1, 0, 0, 0, 0, 0, 0) ON CONFLICT (unit) DO NOTHING`,
      [this.options.unit],
    )
    const { rows } = await client.query<{ carry: string; dev_tax: string; dev_tax_paid: string }>(
      'SELECT carry, dev_tax, dev_tax_paid FROM book_totals WHERE unit = $1 FOR UPDATE',
      [this.options.unit],
    )
    return rows[0]!
  }

  /** Books one credited payment, inside the transaction that credits it. */
  async book(client: pg.PoolClient, payment: PaymentInput): Promise<BookedPayment> {
    const totals = await this.locked(client)
    const { split, values, booked } = splitBooking(
      payment,
      this.options,
      BigInt(totals.carry),
      this.options.now(),
    )
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO payments (${PAYMENT_COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
      values,
    )
    await client.query(
      `UPDATE book_totals SET payments = payments + 1, received = received + $2,
         income = income + $3, dev_tax = dev_tax + $4, carry = $5 WHERE unit = $1`,
      [
        this.options.unit,
        payment.amount.toString(),
        split.income.toString(),
        split.devTax.toString(),
        split.carry.toString(),
      ],
    )
    return booked(Number(rows[0]!.id))
  }

  /**
   * Books dev tax passed on to the dev fund, at most what is due (checked under the row's
   * lock, so two processes booking at once cannot together book more than was due).
   */
  async recordDevTaxPaid(
    amount: bigint,
    reference: string,
    client?: pg.PoolClient,
    capToDue = false,
  ): Promise<{ booked: bigint; totals: BookTotals }> {
    const run = async (c: pg.PoolClient) => {
      const t = await this.locked(c)
      const due = BigInt(t.dev_tax) - BigInt(t.dev_tax_paid)
      const booked = devTaxToBook(amount, due, this.options.unit, capToDue)
      if (booked > 0n) {
        await c.query(
          'INSERT INTO dev_tax_paid (at, unit, amount, reference) VALUES ($1, $2, $3, $4)',
          [this.options.now(), this.options.unit, booked.toString(), reference],
        )
        await c.query('UPDATE book_totals SET dev_tax_paid = dev_tax_paid + $2 WHERE unit = $1', [
          this.options.unit,
          booked.toString(),
        ])
      }
      return booked
    }
    const booked = client ? await run(client) : await inTransaction(this.pool, run)
    return { booked, totals: await this.totals(client) }
  }

  async totals(db: Db = this.pool): Promise<BookTotals> {
    const { rows } = await db.query<{
      payments: string
      received: string
      income: string
      dev_tax: string
      dev_tax_paid: string
      carry: string
    }>('SELECT * FROM book_totals WHERE unit = $1', [this.options.unit])
    return totalsOf(rows[0], this.options)
  }

  async byReference(
    purpose: PaymentPurpose,
    reference: string,
  ): Promise<BookedPayment | undefined> {
    const { rows } = await this.pool.query<PaymentRow>(
      'SELECT * FROM payments WHERE purpose = $1 AND reference = $2 ORDER BY id LIMIT 1',
      [purpose, reference],
    )
    return rows[0] ? paymentOf(rows[0]) : undefined
  }

  async recent(limit: number, peer?: string): Promise<BookedPayment[]> {
    const { rows } =
      peer === undefined
        ? await this.pool.query<PaymentRow>('SELECT * FROM payments ORDER BY id DESC LIMIT $1', [
            limit,
          ])
        : await this.pool.query<PaymentRow>(
            'SELECT * FROM payments WHERE peer = $1 ORDER BY id DESC LIMIT $2',
            [peer, limit],
          )
    return rows.map(paymentOf)
  }
}

/** The cheque desk (cheques.ts's checks) on PostgreSQL. */
export class PgChequeDesk {
  private readonly settlements: Settlements
  private closed = false

  constructor(
    private readonly pool: pg.Pool,
    private readonly rail: SettlementRail,
    private readonly options: { beneficiary: string; chainId: number; now: () => number },
    log: Logger,
  ) {
    this.settlements = new Settlements(rail, log)
  }

  get beneficiary(): string {
    return this.options.beneficiary
  }

  get chainId(): number {
    return this.options.chainId
  }

  async lastCumulative(chequebook: string, db: Db = this.pool): Promise<bigint> {
    const { rows } = await db.query<{ cumulative: string }>(
      'SELECT cumulative FROM chequebooks WHERE chequebook = $1',
      [chequebook.toLowerCase()],
    )
    return rows[0] ? BigInt(rows[0].cumulative) : 0n
  }

  async chequebookOf(peer: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ chequebook: string }>(
      'SELECT chequebook FROM cheques WHERE peer = $1 ORDER BY received_at DESC, cumulative DESC LIMIT 1',
      [peer],
    )
    return rows[0]?.chequebook ?? null
  }

  async peerOfChequebook(chequebook: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ peer: string }>(
      'SELECT peer FROM cheques WHERE chequebook = $1 ORDER BY received_at DESC LIMIT 1',
      [chequebook],
    )
    return rows[0]?.peer
  }

  async chequeCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM cheques')
    return Number(rows[0]!.n)
  }

  /** cheques.ts's verify, with what it knows read from the database first. */
  async verify(peer: string, value: unknown): Promise<VerifiedCheque> {
    const { signed, chequebook, issuer } = await chequeIssuer(this.rail, value)
    const digest = chequeDigest(chequeOf(signed))
    const [last, known] = await Promise.all([
      this.lastCumulative(chequebook),
      this.pool.query('SELECT 1 FROM cheques WHERE digest = $1', [digest]),
    ])
    const verdict = await checkCheque(value, {
      beneficiary: this.options.beneficiary,
      chainId: this.options.chainId,
      issuer,
      issuerPubkey: peer,
      lastCumulativePayout: last,
      isCredited: (d) => d === digest && known.rowCount !== 0,
    })
    return verifiedCheque(this.rail, chequebook, verdict)
  }

  /**
   * Records a verified cheque and runs `credit(client, rise)` in the same transaction, under
   * the chequebook's lock, with the rise measured from the payout credited at that moment.
   */
  async commit<T>(
    peer: string,
    cheque: VerifiedCheque,
    purpose: ChequePurpose,
    credit: (client: pg.PoolClient, rise: bigint) => Promise<T>,
  ): Promise<T> {
    const result = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `hansa-chequebook:${cheque.chequebook}`,
      ])
      const known = await client.query('SELECT 1 FROM cheques WHERE digest = $1', [cheque.digest])
      if (known.rowCount !== 0) throw chequeReplayed(cheque)
      const last = await this.lastCumulative(cheque.chequebook, client)
      const notIncreasing = () => chequeNotIncreasing(cheque, last)
      if (cheque.cumulative <= last) throw notIncreasing()
      const rise = cheque.cumulative - last
      const now = this.options.now()
      // The payout only rises, checked by the database as well.
      const moved = await client.query(
        `INSERT INTO chequebooks (chequebook, issuer, cumulative, last_digest, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (chequebook) DO UPDATE SET cumulative = excluded.cumulative,
           last_digest = excluded.last_digest, updated_at = excluded.updated_at
         WHERE chequebooks.cumulative < excluded.cumulative`,
        [
          cheque.chequebook,
          cheque.signer.address,
          cheque.cumulative.toString(),
          cheque.digest,
          now,
        ],
      )
      if (moved.rowCount !== 1) throw notIncreasing()
      await client.query(
        `INSERT INTO cheques (digest, chequebook, peer, cumulative, increment, purpose, cheque, received_at, settled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')`,
        chequeValues(cheque, peer, rise, purpose, now),
      )
      return { rise, value: await credit(client, rise) }
    })
    this.settlements.settle(cheque, result.rise, async (outcome) => {
      if (this.closed) return
      await this.pool.query('UPDATE cheques SET settled = $1 WHERE digest = $2', [
        outcome.status,
        cheque.digest,
      ])
    })
    return result.value
  }

  async drain(): Promise<void> {
    await this.settlements.drain()
    this.closed = true
  }
}

type SubRow = { id: string; owner: string; service: string; expires_at: string; created_at: string }

/** Subscriptions (subscriptions.ts's rules) on PostgreSQL; access is cached per process. */
export class PgSubscriptions {
  private access_ = new Map<string, Map<string, number>>()

  constructor(
    private readonly pool: pg.Pool,
    readonly terms: ReadonlyMap<string, SubscriptionTerms>,
    private readonly now: () => number,
    private readonly nodePubkey: string,
  ) {}

  /** Rebuilds the access table from the database (after a change here or elsewhere). */
  async reloadAccess(): Promise<void> {
    const { rows } = await this.pool.query<{ pubkey: string; service: string; expires_at: string }>(
      `SELECT k.pubkey, s.service, max(s.expires_at) AS expires_at FROM subscription_keys k
       JOIN subscriptions s ON s.id = k.subscription GROUP BY k.pubkey, s.service`,
    )
    const next = new Map<string, Map<string, number>>()
    for (const r of rows) {
      const m = next.get(r.service) ?? new Map<string, number>()
      next.set(r.service, m)
      m.set(r.pubkey, Number(r.expires_at))
    }
    this.access_ = next
  }

  access(pubkey: string, service: string) {
    const expiresAt = this.access_.get(service)?.get(pubkey)
    if (expiresAt === undefined) return { active: false as const, expiredAt: null }
    return expiresAt > this.now()
      ? { active: true as const, expiresAt }
      : { active: false as const, expiredAt: expiresAt }
  }

  async activeCount(service: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM subscriptions WHERE service = $1 AND expires_at > $2',
      [service, this.now()],
    )
    return Number(rows[0]!.n)
  }

  private async keysOf(id: string, db: Db = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ pubkey: string }>(
      'SELECT pubkey FROM subscription_keys WHERE subscription = $1 ORDER BY added_at, pubkey',
      [id],
    )
    return rows.map((r) => r.pubkey)
  }

  async quote(
    owner: string,
    request: { service: unknown; periods: unknown; pubkeys?: unknown; consents?: unknown },
  ): Promise<Quote> {
    const t = subscriptionTermsOf(this.terms, request.service)
    const asked = quoteRequest(t, request)
    const { rows } = await this.pool.query<SubRow>(
      'SELECT * FROM subscriptions WHERE owner = $1 AND service = $2',
      [owner, t.service],
    )
    const covered = rows[0] ? await this.keysOf(rows[0].id) : []
    const at = { node: this.nodePubkey, now: this.now() }
    const quote = newQuote(
      t,
      owner,
      asked,
      covered,
      (pubkey) => requireConsent(at, owner, t.service, pubkey, asked.consents),
      at.now,
    )
    await this.pool.query(
      `INSERT INTO quotes (id, owner, service, periods, amount, unit, pubkeys, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      quoteValues(quote),
    )
    return quote
  }

  async payableQuote(id: unknown, owner: string): Promise<Quote> {
    const row =
      typeof id === 'string'
        ? (await this.pool.query<QuoteRow>('SELECT * FROM quotes WHERE id = $1', [id])).rows[0]
        : undefined
    return payable(storedQuote(row), owner, this.now())
  }

  /** subscriptions.ts's applyPayment, inside the payment's transaction. */
  async applyPayment(
    client: pg.PoolClient,
    quote: Quote,
    amount: bigint,
    rail: string,
    reference: string,
  ): Promise<PaymentRecord> {
    checkPaymentAmount(quote, amount)
    const now = this.now()
    const marked = await client.query(
      'UPDATE quotes SET paid_at = $1 WHERE id = $2 AND paid_at IS NULL',
      [now, quote.id],
    )
    if (marked.rowCount === 0) throw quotePaid()
    const t = subscriptionTermsOf(this.terms, quote.service)
    await client.query(
      `INSERT INTO subscriptions (id, owner, service, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $4) ON CONFLICT (owner, service) DO NOTHING`,
      [randomBytes(16).toString('hex'), quote.owner, quote.service, now],
    )
    const sub = (
      await client.query<SubRow>(
        'SELECT * FROM subscriptions WHERE owner = $1 AND service = $2 FOR UPDATE',
        [quote.owner, quote.service],
      )
    ).rows[0]!
    const before = Number(sub.expires_at)
    const after = extendedExpiry(now, before, quote.periods, t)
    await client.query('UPDATE subscriptions SET expires_at = $1 WHERE id = $2', [after, sub.id])
    for (const pk of [quote.owner, ...quote.pubkeys]) {
      await client.query(
        `INSERT INTO subscription_keys (subscription, pubkey, added_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [sub.id, pk, now],
      )
    }
    try {
      await client.query(
        `INSERT INTO subscription_payments (subscription, quote, periods, amount, rail, reference, expires_before, expires_after, paid_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [sub.id, quote.id, quote.periods, amount.toString(), rail, reference, before, after, now],
      )
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new BillingRequestError(
          409,
          'HANSA_PAYMENT_REUSED',
          `payment ${reference} already paid for a subscription on this node; each payment is used once`,
        )
      }
      throw error
    }
    await announce(client, 'subs')
    return {
      subscription: (await this.view(sub.id, client))!,
      periods: quote.periods,
      amount,
      expiresBefore: before,
      expiresAfter: after,
    }
  }

  async proofUsed(rail: string, reference: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'SELECT 1 FROM subscription_payments WHERE rail = $1 AND reference = $2',
      [rail, reference.toLowerCase()],
    )
    return rowCount !== 0
  }

  private async viewOf(r: SubRow, db: Db = this.pool): Promise<SubscriptionView> {
    return subscriptionView(r, await this.keysOf(r.id, db), this.now())
  }

  async view(id: string, db: Db = this.pool): Promise<SubscriptionView | undefined> {
    const { rows } = await db.query<SubRow>('SELECT * FROM subscriptions WHERE id = $1', [id])
    return rows[0] ? this.viewOf(rows[0], db) : undefined
  }

  async listFor(pubkey: string): Promise<SubscriptionView[]> {
    const { rows } = await this.pool.query<SubRow>(
      `SELECT s.* FROM subscriptions s JOIN subscription_keys k ON k.subscription = s.id
       WHERE k.pubkey = $1 ORDER BY s.created_at, s.id`,
      [pubkey],
    )
    return Promise.all(rows.map((r) => this.viewOf(r)))
  }

  async all(): Promise<SubscriptionView[]> {
    const { rows } = await this.pool.query<SubRow>(
      'SELECT * FROM subscriptions ORDER BY created_at, id',
    )
    return Promise.all(rows.map((r) => this.viewOf(r)))
  }

  async addPubkey(
    id: string,
    by: string,
    pubkey: unknown,
    consent?: unknown,
  ): Promise<SubscriptionView> {
    const sub = ownedSubscription(await this.view(id), by)
    const key = addableKey({ node: this.nodePubkey, now: this.now() }, sub, pubkey, consent)
    const t = subscriptionTermsOf(this.terms, sub.service)
    await inTransaction(this.pool, async (client) => {
      // counted under the subscription's lock: two processes adding keys cannot pass the cap
      await client.query('SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE', [id])
      checkKeyCount(new Set([...(await this.keysOf(id, client)), key]).size, t)
      await client.query(
        `INSERT INTO subscription_keys (subscription, pubkey, added_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [id, key, this.now()],
      )
      await announce(client, 'subs')
    })
    await this.reloadAccess()
    return (await this.view(id))!
  }

  async removePubkey(id: string, by: string, pubkey: string): Promise<SubscriptionView> {
    checkRemovable(await this.view(id), by, pubkey)
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM subscription_keys WHERE subscription = $1 AND pubkey = $2', [
        id,
        pubkey,
      ])
      await announce(client, 'subs')
    })
    await this.reloadAccess()
    return (await this.view(id))!
  }
}
