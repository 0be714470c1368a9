// Billing's Prometheus metrics, in the node's registry (/metrics). Balances and book totals
// are read when Prometheus scrapes (gauges with collect), so the request path only counts.
// Amounts are base units of the node's unit (label `unit`); a gauge holds a float, exact up
// to 2^53 base units — the books themselves (GET /billing) are exact.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { BookTotals } from './books.js'
import type { PeerAccount } from './swap-accounts.js'

type Maybe<T> = T | Promise<T>

/** What the gauges read (from billing.sqlite, or PostgreSQL when the node keeps billing there). */
export type BillingMetricSources = {
  unit: string
  totals: () => Maybe<BookTotals>
  /** Every SWAP account, or undefined when no service is metered. */
  accounts: () => Maybe<PeerAccount[] | undefined>
  activeCount: (service: string) => Maybe<number>
  subscriptionServices: () => string[]
}

export type BillingMetrics = ReturnType<typeof createBillingMetrics>

export function createBillingMetrics(registry: Registry, parts: BillingMetricSources) {
  const registers = [registry]
  const unit = parts.unit
  new Gauge({
    name: 'hansa_swap_balance',
    help: 'SWAP balance per peer: what the peer owes this node (negative: paid ahead), base units',
    labelNames: ['peer', 'unit'] as const,
    registers,
    async collect() {
      const accounts = await parts.accounts()
      this.reset()
      for (const a of accounts ?? []) {
        this.set({ peer: a.peer, unit }, Number(a.balance))
      }
    },
  })
  new Gauge({
    name: 'hansa_swap_out_of_bounds_peers',
    help: 'Peers out of bounds now: owing more than the disconnect threshold (debt) or paid more than it ahead (credit)',
    labelNames: ['direction'] as const,
    registers,
    async collect() {
      const out = ((await parts.accounts()) ?? []).filter((a) => a.bounds !== 'within')
      this.set({ direction: 'debt' }, out.filter((a) => a.bounds === 'debt').length)
      this.set({ direction: 'credit' }, out.filter((a) => a.bounds === 'credit').length)
    },
  })
  const book = (name: string, help: string, read: (t: BookTotals) => bigint) =>
    new Gauge({
      name,
      help,
      labelNames: ['unit'] as const,
      registers,
      async collect() {
        this.set({ unit }, Number(read(await parts.totals())))
      },
    })
  book('hansa_billing_received', 'Payments credited, base units', (t) => t.received)
  book(
    'hansa_billing_income',
    "The coordinator's income (payments less dev tax), base units",
    (t) => t.income,
  )
  book('hansa_billing_dev_tax', 'Dev tax booked on payments, base units', (t) => t.devTax)
  book(
    'hansa_billing_dev_tax_paid',
    'Dev tax passed on to the dev fund, base units',
    (t) => t.devTaxPaid,
  )
  book(
    'hansa_billing_dev_tax_due',
    'Dev tax booked and not yet passed on, base units',
    (t) => t.devTaxDue,
  )
  new Gauge({
    name: 'hansa_subscriptions_active',
    help: 'Subscriptions whose expiry is in the future, per service',
    labelNames: ['service'] as const,
    registers,
    async collect() {
      for (const s of parts.subscriptionServices())
        this.set({ service: s }, await parts.activeCount(s))
    },
  })
  return {
    outOfBounds: new Counter({
      name: 'hansa_swap_out_of_bounds_total',
      help: 'Times a peer crossed out of bounds, by direction',
      labelNames: ['direction'] as const,
      registers,
    }),
    cheques: new Counter({
      name: 'hansa_cheques_total',
      help: 'Cheques received: credited, or refused by code',
      labelNames: ['result'] as const,
      registers,
    }),
    payments: new Counter({
      name: 'hansa_billing_payments_total',
      help: 'Payments booked, by purpose (swap, subscription)',
      labelNames: ['purpose'] as const,
      registers,
    }),
  }
}
