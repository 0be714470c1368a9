// The books: every credited payment — a cheque's rise on a SWAP account, a subscription paid —
// is booked once, split into the coordinator's income and the dev tax at the coordinator's
// rate (money.ts's rule: rounded down, the remainder carried to the next payment, so income +
// tax == payment exactly and nothing is lost). Dev tax the coordinator has passed on to the
// dev fund is booked as paid; what is due is the difference. All amounts are bigint base units.
//
// `book` runs inside the caller's transaction (the cheque's), so a payment is booked if and
// only if it was credited.
import { type DevTaxSplit, splitPayment } from '@hansa/protocol'
import type { BillingDb } from './db.js'
import { badRequest } from './errors.js'

/** trade-fee: a coordinator's fee on a trade its order book matched (services/orderbook). */
export type PaymentPurpose = 'swap' | 'subscription' | 'trade-fee'

export type PaymentInput = {
  peer: string
  purpose: PaymentPurpose
  service: string | null
  rail: string
  /** The cheque's digest or the rail's payment reference. */
  reference: string
  amount: bigint
}

export type BookedPayment = PaymentInput & {
  id: number
  at: number
  unit: string
  income: bigint
  devTax: bigint
  rateBps: number
}

export type BookTotals = {
  unit: string
  rateBps: number
  payments: number
  received: bigint
  income: bigint
  devTax: bigint
  devTaxPaid: bigint
  devTaxDue: bigint
  /** The dev tax's rounding remainder, in 1/10 000 base units, waiting for the next payment. */
  carry: bigint
}

type TotalsRow = {
  payments: number | string
  received: string
  income: string
  dev_tax: string
  dev_tax_paid: string
  carry: string
}

/** A payments row as either database returns it (PostgreSQL's bigints come as strings). */
export type PaymentRow = {
  id: number | string
  at: number | string
  peer: string
  purpose: PaymentPurpose
  service: string | null
  rail: string
  reference: string
  unit: string
  amount: string
  income: string
  dev_tax: string
  rate_bps: number
}

/** The books' totals before the first payment. */
const NO_TOTALS: TotalsRow = {
  payments: 0,
  received: '0',
  income: '0',
  dev_tax: '0',
  dev_tax_paid: '0',
  carry: '0',
}

/**
 * Splits one credited payment at the coordinator's rate, after the carry of the payment
 * before it. Returns the split, the payments row's values (in the column order of
 * PAYMENT_COLUMNS) and the booked payment once its row has an id. Both stores book by it.
 */
export function splitBooking(
  payment: PaymentInput,
  options: { unit: string; rateBps: number },
  carry: bigint,
  at: number,
): {
  split: DevTaxSplit
  values: Array<string | number | null>
  booked: (id: number) => BookedPayment
} {
  const { unit, rateBps } = options
  const split = splitPayment(payment.amount, rateBps, carry)
  return {
    split,
    values: [
      at,
      payment.peer,
      payment.purpose,
      payment.service,
      payment.rail,
      payment.reference,
      unit,
      payment.amount.toString(),
      split.income.toString(),
      split.devTax.toString(),
      rateBps,
    ],
    booked: (id) => ({
      ...payment,
      id,
      at,
      unit,
      income: split.income,
      devTax: split.devTax,
      rateBps,
    }),
  }
}

/** The columns of a payments row, in the order of splitBooking's values. */
export const PAYMENT_COLUMNS =
  'at, peer, purpose, service, rail, reference, unit, amount, income, dev_tax, rate_bps'

/** The totals as reported, from the stored row (none yet: all zero). */
export function totalsOf(
  row: TotalsRow | undefined,
  options: { unit: string; rateBps: number },
): BookTotals {
  const r = row ?? NO_TOTALS
  const devTax = BigInt(r.dev_tax)
  const devTaxPaid = BigInt(r.dev_tax_paid)
  return {
    unit: options.unit,
    rateBps: options.rateBps,
    payments: Number(r.payments),
    received: BigInt(r.received),
    income: BigInt(r.income),
    devTax,
    devTaxPaid,
    devTaxDue: devTax - devTaxPaid,
    carry: BigInt(r.carry),
  }
}

export const paymentOf = (r: PaymentRow): BookedPayment => ({
  id: Number(r.id),
  at: Number(r.at),
  peer: r.peer,
  purpose: r.purpose,
  service: r.service,
  rail: r.rail,
  reference: r.reference,
  unit: r.unit,
  amount: BigInt(r.amount),
  income: BigInt(r.income),
  devTax: BigInt(r.dev_tax),
  rateBps: r.rate_bps,
})

/**
 * How much dev tax to book as paid when `due` is due: all of `amount`, refused (400) when it
 * is more than is due; or, with `capToDue` (the dev fund was paid on chain, whatever the
 * books say), at most what is due.
 */
export function devTaxToBook(amount: bigint, due: bigint, unit: string, capToDue: boolean): bigint {
  if (capToDue) return amount < due ? amount : due
  if (amount > due) throw badRequest(`only ${due} ${unit} of dev tax is due`)
  return amount
}

export class Books {
  private readonly stmt

  constructor(
    private readonly db: BillingDb,
    private readonly options: { unit: string; rateBps: number; now: () => number },
  ) {
    this.stmt = {
      totals: db.prepare('SELECT * FROM book_totals WHERE unit = ?'),
      saveTotals: db.prepare(
        `INSERT INTO book_totals (unit, payments, received, income, dev_tax, dev_tax_paid, carry)
         VALUES (@unit, @payments, @received, @income, @dev_tax, @dev_tax_paid, @carry)
         ON CONFLICT (unit) DO UPDATE SET payments = @payments, received = @received,
           income = @income, dev_tax = @dev_tax, dev_tax_paid = @dev_tax_paid, carry = @carry`,
      ),
      insert: db.prepare(
        `INSERT INTO payments (${PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      recent: db.prepare('SELECT * FROM payments ORDER BY id DESC LIMIT ?'),
      ofPeer: db.prepare('SELECT * FROM payments WHERE peer = ? ORDER BY id DESC LIMIT ?'),
      insertPaid: db.prepare(
        'INSERT INTO dev_tax_paid (at, unit, amount, reference) VALUES (?, ?, ?, ?)',
      ),
    }
  }

  get unit(): string {
    return this.options.unit
  }

  get rateBps(): number {
    return this.options.rateBps
  }

  private row(): TotalsRow {
    return (this.stmt.totals.get(this.options.unit) as TotalsRow | undefined) ?? NO_TOTALS
  }

  private save(row: TotalsRow): void {
    this.stmt.saveTotals.run({ unit: this.options.unit, ...row })
  }

  /** Books one credited payment. Call inside the transaction that credits it. */
  book(payment: PaymentInput): BookedPayment {
    const totals = this.row()
    const { split, values, booked } = splitBooking(
      payment,
      this.options,
      BigInt(totals.carry),
      this.options.now(),
    )
    const info = this.stmt.insert.run(...values)
    this.save({
      ...totals,
      payments: Number(totals.payments) + 1,
      received: (BigInt(totals.received) + payment.amount).toString(),
      income: (BigInt(totals.income) + split.income).toString(),
      dev_tax: (BigInt(totals.dev_tax) + split.devTax).toString(),
      carry: split.carry.toString(),
    })
    return booked(Number(info.lastInsertRowid))
  }

  /** Books dev tax passed on to the dev fund (by the coordinator, outside the node). */
  recordDevTaxPaid(amount: bigint, reference: string): BookTotals {
    return this.db.transaction(() => {
      const totals = this.row()
      this.stmt.insertPaid.run(this.options.now(), this.options.unit, amount.toString(), reference)
      this.save({ ...totals, dev_tax_paid: (BigInt(totals.dev_tax_paid) + amount).toString() })
      return this.totals()
    })()
  }

  totals(): BookTotals {
    return totalsOf(this.stmt.totals.get(this.options.unit) as TotalsRow | undefined, this.options)
  }

  /** The latest payments, newest first; of one peer when `peer` is given. */
  recent(limit: number, peer?: string): BookedPayment[] {
    const rows = (
      peer === undefined ? this.stmt.recent.all(limit) : this.stmt.ofPeer.all(peer, limit)
    ) as PaymentRow[]
    return rows.map(paymentOf)
  }
}
