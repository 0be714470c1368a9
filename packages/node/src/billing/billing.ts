// Paid access, put together: the node's signed terms, the settlement rail, the cheque desk,
// SWAP accounts for metered services, subscriptions, and the books — all in `billing.sqlite`.
// node.ts creates one Billing, installs its hooks after the services' own (access.ts), and
// serves its routes (http/billing-routes.ts). Every method the routes call returns plain JSON
// data (amounts as decimal strings), so the CLI and tests read the same figures.
import { join } from 'node:path'
import {
  type AccessMode,
  type MeteredTerms,
  type SignedTerms,
  type SubscriptionTerms,
  type Terms,
  formatBps,
  httpStatusOfCode,
  swapPolicy,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { ConfigError, type NodeConfig } from '../config.js'
import type { HookName, Hooks, Service } from '../services/service.js'
import { registerAccessHooks } from './access.js'
import { type BookedPayment, Books } from './books.js'
import { ChequeDesk } from './cheques.js'
import { type BillingDb, openBillingDb } from './db.js'
import { BillingRequestError, badRequest } from './errors.js'
import { type BillingMetrics, createBillingMetrics } from './metrics.js'
import { buildTerms, nip11Fees, signNodeTerms } from './node-terms.js'
import { quoteWord, pubkeyWord, serviceWord } from './rails/evm-rail.js'
import { EvmRail, createRail } from './rails/index.js'
import type { SettlementRail } from './rails/rail.js'
import { type PeerAccount, SwapAccounts } from './swap-accounts.js'
import { type Quote, type SubscriptionView, Subscriptions } from './subscriptions.js'

export type BillingOptions = {
  config: NodeConfig
  key: { secretKey: Uint8Array; pubkey: string; address: string }
  dataDir: string
  services: readonly Service[]
  log: Logger
  registry: Registry
  now: () => number
}

const iso = (s: number) => new Date(s * 1000).toISOString()

export const subscriptionJson = (s: SubscriptionView) => ({
  ...s,
  expires: iso(s.expiresAt),
})

export const paymentJson = (p: BookedPayment) => ({
  id: p.id,
  at: p.at,
  peer: p.peer,
  purpose: p.purpose,
  service: p.service,
  rail: p.rail,
  reference: p.reference,
  unit: p.unit,
  amount: p.amount.toString(),
  income: p.income.toString(),
  devTax: p.devTax.toString(),
  rateBps: p.rateBps,
})

const accountJson = (a: PeerAccount, accounts: SwapAccounts) => ({
  peer: a.peer,
  balance: a.balance.toString(),
  charged: a.charged.toString(),
  paid: a.paid.toString(),
  cumulativePayout: a.cumulativePayout.toString(),
  requests: a.requests,
  bounds: a.bounds,
  paymentThreshold: accounts.policy.paymentThreshold.toString(),
  disconnectThreshold: accounts.policy.disconnectThreshold.toString(),
  mode: accounts.policy.mode,
})

/** The ledger rail's cap on credit paid ahead (billing.metered.maxCreditAhead; 0: ten payment thresholds). */
function maxCreditAhead(config: NodeConfig, metered: MeteredTerms): bigint {
  const set = config.billing.metered.maxCreditAhead
  return set > 0 ? BigInt(set) : 10n * BigInt(metered.paymentThreshold)
}

export class Billing {
  readonly terms: Terms
  readonly signedTerms: SignedTerms
  readonly rail: SettlementRail
  /** The evm rail, when it is the one. */
  readonly evm: EvmRail | undefined
  readonly books: Books
  readonly desk: ChequeDesk
  readonly subscriptions: Subscriptions
  /** SWAP accounts, when a service is metered. */
  readonly accounts: SwapAccounts | undefined
  private readonly db: BillingDb
  private readonly metrics: BillingMetrics
  private readonly stmtChequebook

  constructor(private readonly options: BillingOptions) {
    const { config, key, services, log, now } = options
    const built = buildTerms(config, key, services, now())
    const metered = Object.values(built.services).find((t) => t.access === 'metered')
    const hard = metered?.access === 'metered' && metered.swap === 'hard'
    if (hard && config.billing.rail !== 'evm') {
      throw new ConfigError(
        'billing.metered.swap hard cashes cheques on chain: it needs billing.rail evm (and billing.evm.*); use mock (cheques checked and credited) or soft (account only) on the ledger rail',
      )
    }
    this.rail = createRail(config.billing.rail, {
      evm: config.billing.evm,
      chainId: config.billing.chainId,
      key,
      rateBps: built.devTax.rateBps,
      hard,
      dataDir: options.dataDir,
      log,
      now,
    })
    this.evm = this.rail instanceof EvmRail ? this.rail : undefined
    this.terms = this.evm
      ? { ...built, settlement: { ...built.settlement, evm: this.evm.settlementTerms() } }
      : built
    this.signedTerms = signNodeTerms(this.terms, key.secretKey)
    this.db = openBillingDb(join(options.dataDir, 'billing.sqlite'))
    try {
      const unit = config.billing.unit
      this.books = new Books(this.db, { unit, rateBps: this.terms.devTax.rateBps, now })
      this.desk = new ChequeDesk(
        this.db,
        this.rail,
        { beneficiary: key.address, chainId: config.billing.chainId, now },
        log,
      )
      const subscriptionTerms = new Map<string, SubscriptionTerms>()
      for (const [name, t] of Object.entries(this.terms.services)) {
        if (t.access === 'subscription') subscriptionTerms.set(name, t)
      }
      this.subscriptions = new Subscriptions(this.db, subscriptionTerms, now, key.pubkey)
      let counter: BillingMetrics | undefined
      this.accounts =
        metered?.access === 'metered'
          ? new SwapAccounts(this.db, swapPolicy(metered), {
              unit,
              log,
              now,
              onBounds: (e) => {
                if (e.direction !== 'within') counter?.outOfBounds.inc({ direction: e.direction })
              },
              ...(this.rail.name === 'ledger' ? { maxAhead: maxCreditAhead(config, metered) } : {}),
            })
          : undefined
      this.accounts?.startFlushing(1)
      this.metrics = createBillingMetrics(options.registry, {
        books: this.books,
        subscriptions: this.subscriptions,
        accounts: () => this.accounts,
        subscriptionServices: () => [...subscriptionTerms.keys()],
      })
      counter = this.metrics
      this.evm?.setCashOutEvents({
        onCashed: (chequebook, tx, _paid, devTax) => this.cashedOnChain(chequebook, tx, devTax),
        onShortfall: (chequebook, delta) => this.shortfallOnChain(chequebook, delta),
      })
      this.stmtChequebook = this.db
        .prepare(
          'SELECT chequebook FROM cheques WHERE peer = ? ORDER BY received_at DESC, cumulative DESC LIMIT 1',
        )
        .pluck()
    } catch (error) {
      this.db.close()
      throw error
    }
    const paid = Object.entries(this.terms.services).filter(([, t]) => t.access !== 'free')
    if (paid.length > 0) {
      log.info(
        {
          services: Object.fromEntries(paid.map(([n, t]) => [n, t.access])),
          rail: this.rail.name,
          devTax: formatBps(this.terms.devTax.rateBps),
        },
        'billing: paid access on',
      )
    }
  }

  /** Starts the rail's background work (evm: router terms, cash-outs resumed). */
  async start(): Promise<void> {
    await this.rail.start?.()
  }

  /** A cash-out paid the dev fund on chain: that dev tax is paid, with the tx as reference. */
  private cashedOnChain(chequebook: string, tx: string, devTax: bigint): void {
    if (devTax === 0n || !this.db.open) return
    const due = this.books.totals().devTaxDue
    const amount = devTax < due ? devTax : due
    if (amount > 0n) this.books.recordDevTaxPaid(amount, `${tx} (cash-out of ${chequebook})`)
  }

  /** A chequebook paid less than was credited (or paid a bounced rest later): the peer's debt. */
  private shortfallOnChain(chequebook: string, delta: bigint): void {
    if (!this.db.open) return
    const peer = this.db
      .prepare('SELECT peer FROM cheques WHERE chequebook = ? ORDER BY received_at DESC LIMIT 1')
      .pluck()
      .get(chequebook) as string | undefined
    if (peer === undefined || !this.accounts) return
    const account = this.accounts.reverseCredit(peer, delta)
    this.options.log.warn(
      { peer, chequebook, delta: delta.toString(), balance: account.balance.toString() },
      delta > 0n
        ? "billing: a cheque bounced on chain; what it did not pay is the peer's debt again"
        : "billing: a bounced chequebook paid the rest; the peer's debt is lowered",
    )
  }

  modeOf(service: string): AccessMode {
    return this.terms.services[service]?.access ?? 'free'
  }

  /** Whether some service is not free. */
  get paid(): boolean {
    return Object.values(this.terms.services).some((t) => t.access !== 'free')
  }

  /** Installs the access hooks (after the services registered theirs). */
  registerHooks(addHook: <K extends HookName>(name: K, fn: Hooks[K]) => void): void {
    registerAccessHooks(addHook, this.options.services, (s) => this.modeOf(s), {
      subscriptions: this.subscriptions,
      accounts: this.accounts,
      unit: this.options.config.billing.unit,
    })
  }

  /** What NIP-11 shows: `fees` (empty while every service is free) and whether payment is required. */
  nip11(): { fees: object; paymentRequired: boolean } {
    if (!this.paid) return { fees: {}, paymentRequired: false }
    return { fees: nip11Fees(this.signedTerms, this.options.services), paymentRequired: true }
  }

  /**
   * Books income a service earned outside paid access — the order book's trade fees — with
   * the dev tax, in one transaction. Nothing was paid through a rail, so `rail` is the service.
   */
  bookIncome(service: string, income: { peer: string; reference: string; amount: bigint }) {
    const booked = this.db.transaction(() =>
      this.books.book({ ...income, purpose: 'trade-fee', service, rail: service }),
    )()
    this.metrics.payments.inc({ purpose: 'trade-fee' })
    return booked
  }

  /** The node key, or one of billing.adminPubkeys (re-read on SIGHUP). */
  isAdmin(pubkey: string): boolean {
    return (
      pubkey === this.options.key.pubkey ||
      this.options.config.billing.adminPubkeys.includes(pubkey)
    )
  }

  chequebookOf(peer: string): string | null {
    return (this.stmtChequebook.get(peer) as string | undefined) ?? null
  }

  // ---- actions (the HTTP routes call these) ---------------------------------------------

  /** A cheque for the peer's SWAP balance: verified, credited, booked. */
  async payCheque(peer: string, value: unknown) {
    const accounts = this.accounts
    if (!accounts) {
      throw badRequest(
        'no service on this node is metered, so there is no balance to pay; subscriptions are paid with POST /subscriptions/payments',
      )
    }
    const verified = await this.countCheque(() => this.desk.verify(peer, value))
    const { account, booked } = await this.countCheque(async () => {
      const staged = this.desk.commit(peer, verified, 'swap', (rise) => ({
        credit: accounts.stageCredit(peer, rise, verified.cumulative),
        booked: this.books.book({
          peer,
          purpose: 'swap',
          service: null,
          rail: this.rail.name,
          reference: verified.digest,
          amount: rise,
        }),
      }))
      // The booking committed: only now, in the same turn, does the balance the request path
      // reads move (a booking that failed left it untouched).
      return { account: staged.credit(), booked: staged.booked }
    })
    this.metrics.cheques.inc({ result: 'credited' })
    this.metrics.payments.inc({ purpose: 'swap' })
    return {
      credited: booked.amount.toString(),
      unit: booked.unit,
      devTax: booked.devTax.toString(),
      cumulativePayout: verified.cumulative.toString(),
      account: accountJson(account, accounts),
    }
  }

  private async countCheque<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      if (error instanceof BillingRequestError && error.code.startsWith('HANSA_CHEQUE_')) {
        this.metrics.cheques.inc({ result: error.code })
      }
      throw error
    }
  }

  /** A price for N periods, and how to pay it. */
  quoteSubscription(
    peer: string,
    body: { service?: unknown; periods?: unknown; pubkeys?: unknown; consents?: unknown },
  ) {
    const quote = this.subscriptions.quote(peer, {
      service: body.service,
      periods: body.periods,
      pubkeys: body.pubkeys,
      consents: body.consents,
    })
    return {
      quote: this.quoteJson(quote),
      pay: this.evm ? this.howToPayOnChain(quote) : this.howToPay(peer, quote.amount),
    }
  }

  /** evm rail: the PaymentRouter call that pays `quote` (approve the router for `amount` first). */
  private howToPayOnChain(quote: Quote) {
    const evm = this.evm!
    return {
      rail: 'evm' as const,
      chainId: this.desk.chainId,
      token: evm.addresses.token,
      router: evm.addresses.router,
      confirmations: this.options.config.billing.evm.confirmations,
      call: {
        function:
          'pay(address node,bytes32 quote,bytes32 service,uint32 periods,bytes32[] pubkeys,uint256 amount)',
        node: this.desk.beneficiary,
        quote: quoteWord(quote.id),
        service: serviceWord(quote.service),
        periods: quote.periods,
        pubkeys: [quote.owner, ...quote.pubkeys].map(pubkeyWord),
        amount: quote.amount.toString(),
      },
    }
  }

  private proofUsed(reference: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM subscription_payments WHERE rail = ? AND reference = ?')
        .get(this.rail.name, reference.toLowerCase()) !== undefined
    )
  }

  /** A quote paid with a proof the rail checks (evm: `{rail: "evm", tx}`; rail.ts). */
  private async payByProof(peer: string, quote: Quote, proof: unknown) {
    const rail = this.rail.name
    const reused = (reference: string) =>
      new BillingRequestError(
        httpStatusOfCode('HANSA_PAYMENT_REUSED'),
        'HANSA_PAYMENT_REUSED',
        `${rail === 'evm' ? 'transaction' : 'payment'} ${reference} already paid for a subscription on this node; each payment is used once`,
      )
    const early = this.rail.proofReference?.(proof) ?? null
    if (early !== null && this.proofUsed(early)) throw reused(early)
    const payment = await this.rail.verifySubscriptionPayment(
      {
        quote: quote.id,
        service: quote.service,
        periods: quote.periods,
        pubkeys: [quote.owner, ...quote.pubkeys],
        amount: quote.amount,
      },
      proof,
    )
    const reference = payment.reference.toLowerCase()
    const { record, booked } = this.db.transaction(() => {
      if (this.proofUsed(reference)) throw reused(reference)
      const record = this.subscriptions.applyPayment(quote, payment.amount, rail, reference)
      const booked = this.books.book({
        peer,
        purpose: 'subscription',
        service: quote.service,
        rail,
        reference,
        amount: payment.amount,
      })
      // the rail paid the dev fund with the payment (evm: the router's split)
      const due = this.books.totals().devTaxDue
      const paidTax = payment.devTaxPaid < due ? payment.devTaxPaid : due
      if (paidTax > 0n) this.books.recordDevTaxPaid(paidTax, reference)
      return { record, booked }
    })()
    this.subscriptions.reloadAccess() // committed: only now does the relay let the keys in
    this.metrics.payments.inc({ purpose: 'subscription' })
    this.options.log.info(
      {
        peer,
        service: quote.service,
        periods: quote.periods,
        amount: quote.amount.toString(),
        rail,
        reference,
        expires: iso(record.expiresAfter),
      },
      'billing: subscription paid with a proof',
    )
    return {
      subscription: subscriptionJson(record.subscription),
      payment: {
        periods: record.periods,
        amount: booked.amount.toString(),
        unit: booked.unit,
        devTax: booked.devTax.toString(),
        devTaxOnChain: payment.devTaxPaid.toString(),
        expiresBefore: record.expiresBefore,
        expiresAfter: record.expiresAfter,
        ...(rail === 'evm' ? { tx: reference } : { reference }),
      },
    }
  }

  private quoteJson(q: Quote) {
    return {
      id: q.id,
      owner: q.owner,
      service: q.service,
      periods: q.periods,
      amount: q.amount.toString(),
      unit: q.unit,
      pubkeys: q.pubkeys,
      createdAt: q.createdAt,
      expiresAt: q.expiresAt,
    }
  }

  /** What a payer needs to pay `amount` on this node's rail. */
  howToPay(peer: string, amount: bigint) {
    const chequebook = this.chequebookOf(peer)
    const last = chequebook ? this.desk.lastCumulative(chequebook) : 0n
    return {
      rail: this.rail.name,
      beneficiary: this.desk.beneficiary,
      chainId: this.desk.chainId,
      chequebook,
      /** The cumulative payout a cheque from that chequebook must state to pay `amount`. */
      cumulativePayout: (last + amount).toString(),
      lastCumulativePayout: last.toString(),
    }
  }

  /** Pays a quote with a proof (ledger rail: a cheque raising her payout by the amount). */
  async paySubscription(peer: string, body: { quote?: unknown; proof?: unknown }) {
    const quote = this.subscriptions.payableQuote(body.quote, peer)
    const proof = body.proof as { rail?: unknown; cheque?: unknown } | undefined
    if (typeof proof !== 'object' || proof === null || proof.rail !== this.rail.name) {
      throw badRequest(`proof must be { "rail": "${this.rail.name}", ... } (this node's rail)`)
    }
    if (this.rail.subscriptionPayment === 'proof') return this.payByProof(peer, quote, proof)
    const verified = await this.countCheque(() => this.desk.verify(peer, proof.cheque))
    if (verified.rise !== quote.amount) {
      throw new BillingRequestError(
        402,
        'HANSA_PAYMENT_AMOUNT',
        `the cheque raises your cumulative payout by ${verified.rise} ${quote.unit}; the quote asks for exactly ${quote.amount}: sign cumulativePayout ${verified.cumulative - verified.rise + quote.amount}`,
      )
    }
    const { record, booked } = await this.countCheque(async () => {
      const paid = this.desk.commit(peer, verified, 'subscription', (rise) => {
        const record = this.subscriptions.applyPayment(quote, rise, this.rail.name, verified.digest)
        const booked = this.books.book({
          peer,
          purpose: 'subscription',
          service: quote.service,
          rail: this.rail.name,
          reference: verified.digest,
          amount: rise,
        })
        return { record, booked }
      })
      this.subscriptions.reloadAccess() // committed: only now does the relay let the keys in
      return paid
    })
    this.metrics.cheques.inc({ result: 'credited' })
    this.metrics.payments.inc({ purpose: 'subscription' })
    this.options.log.info(
      {
        peer,
        service: quote.service,
        periods: quote.periods,
        amount: quote.amount.toString(),
        expires: iso(record.expiresAfter),
      },
      'billing: subscription paid',
    )
    return {
      subscription: subscriptionJson(record.subscription),
      payment: {
        periods: record.periods,
        amount: booked.amount.toString(),
        unit: booked.unit,
        devTax: booked.devTax.toString(),
        expiresBefore: record.expiresBefore,
        expiresAfter: record.expiresAfter,
        cumulativePayout: verified.cumulative.toString(),
      },
    }
  }

  /** A user's own view: her SWAP account, chequebook, subscriptions and payments. */
  account(peer: string) {
    const chequebook = this.chequebookOf(peer)
    return {
      pubkey: peer,
      unit: this.books.unit,
      swap: this.accounts ? accountJson(this.accounts.get(peer), this.accounts) : null,
      chequebook:
        chequebook === null
          ? null
          : {
              address: chequebook,
              cumulativePayout: this.desk.lastCumulative(chequebook).toString(),
            },
      subscriptions: this.subscriptions.listFor(peer).map(subscriptionJson),
      payments: this.books.recent(20, peer).map(paymentJson),
      devTax: { rateBps: this.books.rateBps, rate: formatBps(this.books.rateBps) },
    }
  }

  /** The coordinator's view: the books, every balance, who is out of bounds, subscriptions. */
  report() {
    const t = this.books.totals()
    const accounts = this.accounts
    const subs = this.subscriptions.all()
    const active: Record<string, number> = {}
    for (const service of this.subscriptions.terms.keys()) {
      active[service] = subs.filter((s) => s.service === service && s.active).length
    }
    return {
      node: this.options.key.pubkey,
      unit: t.unit,
      rail: this.rail.name,
      services: Object.fromEntries(
        Object.entries(this.terms.services).map(([n, s]) => [n, s.access]),
      ),
      devTax: {
        rateBps: t.rateBps,
        rate: formatBps(t.rateBps),
        recipient: this.terms.devTax.recipient,
      },
      totals: {
        payments: t.payments,
        received: t.received.toString(),
        income: t.income.toString(),
        devTax: t.devTax.toString(),
        devTaxPaid: t.devTaxPaid.toString(),
        devTaxDue: t.devTaxDue.toString(),
        carry: t.carry.toString(),
      },
      swap: accounts
        ? {
            mode: accounts.policy.mode,
            paymentThreshold: accounts.policy.paymentThreshold.toString(),
            disconnectThreshold: accounts.policy.disconnectThreshold.toString(),
            peers: accounts.all().map((a) => accountJson(a, accounts)),
            outOfBounds: accounts.outOfBounds().map((a) => ({
              peer: a.peer,
              direction: a.bounds,
              balance: a.balance.toString(),
            })),
          }
        : null,
      subscriptions: { active, list: subs.map(subscriptionJson) },
      cheques: this.desk.chequeCount(),
      settlement: this.evm
        ? { rail: 'evm', ...this.evm.settlementTerms(), cashOuts: this.evm.report() }
        : null,
      recentPayments: this.books.recent(50).map(paymentJson),
    }
  }

  /** The coordinator books dev tax she has passed on to the dev fund. */
  recordDevTaxPaid(body: { amount?: unknown; reference?: unknown }) {
    const { amount, reference } = body
    if (typeof amount !== 'string' || !/^[1-9][0-9]{0,77}$/.test(amount)) {
      throw badRequest('amount must be a decimal string of base units, more than 0')
    }
    if (typeof reference !== 'string' || reference === '' || reference.length > 200) {
      throw badRequest(
        'reference must say how it was paid (a transaction id, a note), 1–200 characters',
      )
    }
    const due = this.books.totals().devTaxDue
    if (BigInt(amount) > due) {
      throw badRequest(`only ${due} ${this.books.unit} of dev tax is due`)
    }
    const t = this.books.recordDevTaxPaid(BigInt(amount), reference)
    return {
      devTax: t.devTax.toString(),
      devTaxPaid: t.devTaxPaid.toString(),
      devTaxDue: t.devTaxDue.toString(),
      unit: t.unit,
    }
  }

  /** Writes the SWAP balances; the maintenance timer and close call it. */
  flush(): void {
    this.accounts?.flush()
  }

  async close(): Promise<void> {
    this.accounts?.close()
    await this.desk.drain()
    await this.rail.close?.()
    if (this.db.open) this.db.close()
  }
}
