// Paid access, put together: the node's signed terms, the settlement rail, the cheque desk,
// SWAP accounts for metered services, subscriptions, and the books — all in `billing.sqlite`,
// or, on a node whose events are in PostgreSQL, in that database (pg-ledger.ts,
// pg-swap-accounts.ts), so that several processes of one node share them.
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
import type pg from 'pg'
import type { Registry } from 'prom-client'
import { ConfigError, type NodeConfig } from '../config.js'
import type { HookName, Hooks, Service } from '../services/service.js'
import { registerAccessHooks } from './access.js'
import {
  type BookTotals,
  type BookedPayment,
  Books,
  type PaymentInput,
  devTaxToBook,
} from './books.js'
import { ChequeDesk } from './cheques.js'
import { type BillingDb, openBillingDb } from './db.js'
import { BillingRequestError, badRequest } from './errors.js'
import { type BillingMetrics, createBillingMetrics } from './metrics.js'
import { buildTerms, nip11Fees, signNodeTerms } from './node-terms.js'
import { quoteWord, pubkeyWord, serviceWord } from './rails/evm-rail.js'
import { EvmRail, createRail } from './rails/index.js'
import type { SettlementRail } from './rails/rail.js'
import { type OutOfBoundsEvent, type PeerAccount, SwapAccounts } from './swap-accounts.js'
import { type Quote, type SubscriptionView, Subscriptions } from './subscriptions.js'
import { PgBooks, PgChequeDesk, PgSubscriptions, inTransaction } from './pg-ledger.js'
import { PgSwapAccounts } from './pg-swap-accounts.js'
import { BillingListener } from './pg-listener.js'

export type BillingOptions = {
  config: NodeConfig
  key: { secretKey: Uint8Array; pubkey: string; address: string }
  dataDir: string
  services: readonly Service[]
  log: Logger
  registry: Registry
  now: () => number
  /**
   * The node's PostgreSQL database (storage.backend = postgres): billing is kept there, shared
   * by every process of the node, instead of in billing.sqlite.
   */
  postgres?: { pool: pg.Pool; url: string }
}

/** Billing in billing.sqlite (one process per data folder). */
type SqliteParts = {
  db: BillingDb
  books: Books
  desk: ChequeDesk
  subscriptions: Subscriptions
  accounts: SwapAccounts | undefined
  stmtChequebook: { get(peer: string): unknown }
}

/** Billing in PostgreSQL (every process of the node). */
type PgParts = {
  pool: pg.Pool
  books: PgBooks
  desk: PgChequeDesk
  subscriptions: PgSubscriptions
  accounts: PgSwapAccounts | undefined
  listener: BillingListener | undefined
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

const accountJson = (a: PeerAccount, accounts: { policy: SwapAccounts['policy'] }) => ({
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
  private readonly lite: SqliteParts | undefined
  private readonly pgp: PgParts | undefined
  private readonly metrics: BillingMetrics
  /** The last report, for the history's samples (which are taken synchronously). */
  private lastReport: ReturnType<Billing['reportSync']> | undefined

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
    const unit = config.billing.unit
    const subscriptionTerms = new Map<string, SubscriptionTerms>()
    for (const [name, t] of Object.entries(this.terms.services)) {
      if (t.access === 'subscription') subscriptionTerms.set(name, t)
    }
    let counter: BillingMetrics | undefined
    const accountOptions =
      metered?.access === 'metered'
        ? {
            policy: swapPolicy(metered),
            options: {
              unit,
              log,
              now,
              onBounds: (e: OutOfBoundsEvent) => {
                if (e.direction !== 'within') counter?.outOfBounds.inc({ direction: e.direction })
              },
              ...(this.rail.name === 'ledger' ? { maxAhead: maxCreditAhead(config, metered) } : {}),
            },
          }
        : undefined
    const deskOptions = { beneficiary: key.address, chainId: config.billing.chainId, now }
    if (options.postgres) {
      const { pool } = options.postgres
      const accounts = accountOptions
        ? new PgSwapAccounts(pool, accountOptions.policy, accountOptions.options)
        : undefined
      this.pgp = {
        pool,
        books: new PgBooks(pool, { unit, rateBps: this.terms.devTax.rateBps, now }),
        desk: new PgChequeDesk(pool, this.rail, deskOptions, log),
        subscriptions: new PgSubscriptions(pool, subscriptionTerms, now, key.pubkey),
        accounts,
        listener: undefined,
      }
      const pgp = this.pgp
      this.metrics = createBillingMetrics(options.registry, {
        unit,
        totals: () => pgp.books.totals(),
        accounts: () => pgp.accounts?.all(),
        activeCount: (s) => pgp.subscriptions.activeCount(s),
        subscriptionServices: () => [...subscriptionTerms.keys()],
      })
    } else {
      const db = openBillingDb(join(options.dataDir, 'billing.sqlite'))
      try {
        const books = new Books(db, { unit, rateBps: this.terms.devTax.rateBps, now })
        const accounts = accountOptions
          ? new SwapAccounts(db, accountOptions.policy, accountOptions.options)
          : undefined
        accounts?.startFlushing(1)
        const subscriptions = new Subscriptions(db, subscriptionTerms, now, key.pubkey)
        this.lite = {
          db,
          books,
          desk: new ChequeDesk(db, this.rail, deskOptions, log),
          subscriptions,
          accounts,
          stmtChequebook: db
            .prepare(
              'SELECT chequebook FROM cheques WHERE peer = ? ORDER BY received_at DESC, cumulative DESC LIMIT 1',
            )
            .pluck(),
        }
        this.metrics = createBillingMetrics(options.registry, {
          unit,
          totals: () => books.totals(),
          accounts: () => accounts?.all(),
          activeCount: (s) => subscriptions.activeCount(s),
          subscriptionServices: () => [...subscriptionTerms.keys()],
        })
      } catch (error) {
        db.close()
        throw error
      }
    }
    counter = this.metrics
    this.evm?.setCashOutEvents({
      onCashed: (chequebook, tx, _paid, devTax) => this.cashedOnChain(chequebook, tx, devTax),
      onShortfall: (chequebook, delta) => this.shortfallOnChain(chequebook, delta),
    })
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
    const pgp = this.pgp
    if (pgp && this.options.postgres) {
      // What other processes change arrives by NOTIFY; after a gap, everything is read again.
      pgp.listener = await BillingListener.start(this.options.postgres.url, {
        onSwap: (peer) => pgp.accounts?.invalidate(peer),
        onSubscriptions: () => void pgp.subscriptions.reloadAccess().catch(() => {}),
        onReconnect: () => {
          pgp.accounts?.invalidateAll()
          void pgp.subscriptions.reloadAccess().catch(() => {})
        },
      })
      await pgp.accounts?.load()
      await pgp.subscriptions.reloadAccess()
    }
    await this.rail.start?.()
  }

  /** billing.sqlite's parts; a node keeping billing in PostgreSQL has none. */
  private sqlite(): SqliteParts {
    if (!this.lite) {
      // a programming error: callers on a PostgreSQL node use the async methods
      throw new Error('this node keeps billing in PostgreSQL; billing.sqlite is not open')
    }
    return this.lite
  }

  get books(): Books {
    return this.sqlite().books
  }

  get desk(): ChequeDesk {
    return this.sqlite().desk
  }

  get subscriptions(): Subscriptions {
    return this.sqlite().subscriptions
  }

  /** SWAP accounts (billing.sqlite), when a service is metered. */
  get accounts(): SwapAccounts | undefined {
    return this.sqlite().accounts
  }

  /** The books' totals, wherever they are kept. */
  private async totals() {
    return this.pgp ? this.pgp.books.totals() : this.sqlite().books.totals()
  }

  /** A cash-out paid the dev fund on chain: that dev tax is paid, with the tx as reference. */
  private cashedOnChain(chequebook: string, tx: string, devTax: bigint): void {
    if (devTax === 0n) return
    if (this.pgp) {
      this.pgp.books
        .recordDevTaxPaid(devTax, `${tx} (cash-out of ${chequebook})`, undefined, true)
        .catch((err) => this.options.log.error({ err }, 'billing: booking dev tax paid failed'))
      return
    }
    if (!this.sqlite().db.open) return
    const amount = devTaxToBook(devTax, this.books.totals().devTaxDue, this.books.unit, true)
    if (amount > 0n) this.books.recordDevTaxPaid(amount, `${tx} (cash-out of ${chequebook})`)
  }

  /** A chequebook paid less than was credited (or paid a bounced rest later): the peer's debt. */
  private shortfallOnChain(chequebook: string, delta: bigint): void {
    const pgp = this.pgp
    if (pgp) {
      void (async () => {
        const peer = await pgp.desk.peerOfChequebook(chequebook)
        if (peer === undefined || !pgp.accounts) return
        this.logShortfall(peer, chequebook, delta, await pgp.accounts.reverseCredit(peer, delta))
      })().catch((err) => this.options.log.error({ err }, 'billing: booking a shortfall failed'))
      return
    }
    const db = this.sqlite().db
    if (!db.open) return
    const peer = db
      .prepare('SELECT peer FROM cheques WHERE chequebook = ? ORDER BY received_at DESC LIMIT 1')
      .pluck()
      .get(chequebook) as string | undefined
    if (peer === undefined || !this.accounts) return
    this.logShortfall(peer, chequebook, delta, this.accounts.reverseCredit(peer, delta))
  }

  private logShortfall(peer: string, chequebook: string, delta: bigint, account: PeerAccount) {
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
      subscriptions: this.pgp?.subscriptions ?? this.sqlite().subscriptions,
      accounts: this.pgp ? this.pgp.accounts : this.sqlite().accounts,
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
  bookIncome(
    service: string,
    income: { peer: string; reference: string; amount: bigint },
  ): BookedPayment | Promise<BookedPayment> {
    const payment = { ...income, purpose: 'trade-fee' as const, service, rail: service }
    const pgp = this.pgp
    if (pgp) {
      return inTransaction(pgp.pool, (client) => pgp.books.book(client, payment)).then(
        (b) => {
          this.metrics.payments.inc({ purpose: 'trade-fee' })
          return b
        },
        async (error) => {
          // booked already (by another process of the node): that booking stands
          if ((error as { code?: string }).code !== '23505') throw error
          const booked = await pgp.books.byReference('trade-fee', income.reference)
          if (!booked) throw error
          return booked
        },
      )
    }
    const { db, books } = this.sqlite()
    const booked = db.transaction(() => books.book(payment))()
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

  async chequebookOf(peer: string): Promise<string | null> {
    if (this.pgp) return this.pgp.desk.chequebookOf(peer)
    return (this.sqlite().stmtChequebook.get(peer) as string | undefined) ?? null
  }

  private lastCumulative(chequebook: string): Promise<bigint> | bigint {
    return this.pgp
      ? this.pgp.desk.lastCumulative(chequebook)
      : this.sqlite().desk.lastCumulative(chequebook)
  }

  // ---- actions (the HTTP routes call these) ---------------------------------------------

  /** A cheque for the peer's SWAP balance: verified, credited, booked. */
  async payCheque(peer: string, value: unknown) {
    const accounts = this.pgp ? this.pgp.accounts : this.sqlite().accounts
    if (!accounts) {
      throw badRequest(
        'no service on this node is metered, so there is no balance to pay; subscriptions are paid with POST /subscriptions/payments',
      )
    }
    const pgp = this.pgp
    if (pgp && accounts instanceof PgSwapAccounts) {
      const verified = await this.countCheque(() => pgp.desk.verify(peer, value))
      const { row, booked } = await this.countCheque(() =>
        pgp.desk.commit(peer, verified, 'swap', async (client, rise) => ({
          row: await accounts.credit(client, peer, rise, verified.cumulative),
          booked: await pgp.books.book(client, this.swapPayment(peer, verified.digest, rise)),
        })),
      )
      return this.chequeReceipt(verified.cumulative, booked, accounts.committed(row), accounts)
    }
    if (!(accounts instanceof SwapAccounts)) throw new Error('unreachable')
    const { books, desk } = this.sqlite()
    const verified = await this.countCheque(() => desk.verify(peer, value))
    const { account, booked } = await this.countCheque(async () => {
      const staged = desk.commit(peer, verified, 'swap', (rise) => ({
        credit: accounts.stageCredit(peer, rise, verified.cumulative),
        booked: books.book(this.swapPayment(peer, verified.digest, rise)),
      }))
      // The booking committed: only now, in the same turn, does the balance the request path
      // reads move (a booking that failed left it untouched).
      return { account: staged.credit(), booked: staged.booked }
    })
    return this.chequeReceipt(verified.cumulative, booked, account, accounts)
  }

  /** The books' entry of a cheque's rise on a SWAP account. */
  private swapPayment(peer: string, digest: string, rise: bigint): PaymentInput {
    return {
      peer,
      purpose: 'swap',
      service: null,
      rail: this.rail.name,
      reference: digest,
      amount: rise,
    }
  }

  private chequeReceipt(
    cumulative: bigint,
    booked: BookedPayment,
    account: PeerAccount,
    accounts: { policy: SwapAccounts['policy'] },
  ) {
    this.metrics.cheques.inc({ result: 'credited' })
    this.metrics.payments.inc({ purpose: 'swap' })
    return {
      credited: booked.amount.toString(),
      unit: booked.unit,
      devTax: booked.devTax.toString(),
      cumulativePayout: cumulative.toString(),
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
  async quoteSubscription(
    peer: string,
    body: { service?: unknown; periods?: unknown; pubkeys?: unknown; consents?: unknown },
  ) {
    const subscriptions = this.pgp?.subscriptions ?? this.sqlite().subscriptions
    const quote = await subscriptions.quote(peer, {
      service: body.service,
      periods: body.periods,
      pubkeys: body.pubkeys,
      consents: body.consents,
    })
    return {
      quote: this.quoteJson(quote),
      pay: this.evm ? this.howToPayOnChain(quote) : await this.howToPay(peer, quote.amount),
    }
  }

  /** evm rail: the PaymentRouter call that pays `quote` (approve the router for `amount` first). */
  private howToPayOnChain(quote: Quote) {
    const evm = this.evm!
    return {
      rail: 'evm' as const,
      chainId: this.options.config.billing.chainId,
      token: evm.addresses.token,
      router: evm.addresses.router,
      confirmations: this.options.config.billing.evm.confirmations,
      call: {
        function:
          'pay(address node,bytes32 quote,bytes32 service,uint32 periods,bytes32[] pubkeys,uint256 amount)',
        node: this.options.key.address,
        quote: quoteWord(quote.id),
        service: serviceWord(quote.service),
        periods: quote.periods,
        pubkeys: [quote.owner, ...quote.pubkeys].map(pubkeyWord),
        amount: quote.amount.toString(),
      },
    }
  }

  private async proofUsed(reference: string): Promise<boolean> {
    if (this.pgp) return this.pgp.subscriptions.proofUsed(this.rail.name, reference)
    return (
      this.sqlite()
        .db.prepare('SELECT 1 FROM subscription_payments WHERE rail = ? AND reference = ?')
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
    if (early !== null && (await this.proofUsed(early))) throw reused(early)
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
    const { record, booked } = await this.payByProofBooked(peer, quote, payment, reused)
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

  /** Applies and books a verified proof payment, once (in one transaction). */
  private async payByProofBooked(
    peer: string,
    quote: Quote,
    payment: { reference: string; amount: bigint; devTaxPaid: bigint },
    reused: (reference: string) => Error,
  ) {
    const rail = this.rail.name
    const reference = payment.reference.toLowerCase()
    const input = {
      peer,
      purpose: 'subscription' as const,
      service: quote.service,
      rail,
      reference,
      amount: payment.amount,
    }
    const pgp = this.pgp
    if (pgp) {
      if (await this.proofUsed(reference)) throw reused(reference)
      const paid = await inTransaction(pgp.pool, async (client) => {
        const record = await pgp.subscriptions.applyPayment(
          client,
          quote,
          payment.amount,
          rail,
          reference,
        )
        const booked = await pgp.books.book(client, input)
        // the rail paid the dev fund with the payment (evm: the router's split)
        await pgp.books.recordDevTaxPaid(payment.devTaxPaid, reference, client, true)
        return { record, booked }
      })
      await pgp.subscriptions.reloadAccess() // committed: only now does the relay let the keys in
      return paid
    }
    const { db, books, subscriptions } = this.sqlite()
    const paid = db.transaction(() => {
      if (
        db
          .prepare('SELECT 1 FROM subscription_payments WHERE rail = ? AND reference = ?')
          .get(rail, reference) !== undefined
      ) {
        throw reused(reference)
      }
      const record = subscriptions.applyPayment(quote, payment.amount, rail, reference)
      const booked = books.book({
        peer,
        purpose: 'subscription',
        service: quote.service,
        rail,
        reference,
        amount: payment.amount,
      })
      // the rail paid the dev fund with the payment (evm: the router's split)
      const paidTax = devTaxToBook(payment.devTaxPaid, books.totals().devTaxDue, books.unit, true)
      if (paidTax > 0n) books.recordDevTaxPaid(paidTax, reference)
      return { record, booked }
    })()
    subscriptions.reloadAccess() // committed: only now does the relay let the keys in
    return paid
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
  async howToPay(peer: string, amount: bigint) {
    const chequebook = await this.chequebookOf(peer)
    const last = chequebook ? await this.lastCumulative(chequebook) : 0n
    return {
      rail: this.rail.name,
      beneficiary: this.options.key.address,
      chainId: this.options.config.billing.chainId,
      chequebook,
      /** The cumulative payout a cheque from that chequebook must state to pay `amount`. */
      cumulativePayout: (last + amount).toString(),
      lastCumulativePayout: last.toString(),
    }
  }

  /** Pays a quote with a proof (ledger rail: a cheque raising her payout by the amount). */
  async paySubscription(peer: string, body: { quote?: unknown; proof?: unknown }) {
    const pgp = this.pgp
    const quote = pgp
      ? await pgp.subscriptions.payableQuote(body.quote, peer)
      : this.sqlite().subscriptions.payableQuote(body.quote, peer)
    const proof = body.proof as { rail?: unknown; cheque?: unknown } | undefined
    if (typeof proof !== 'object' || proof === null || proof.rail !== this.rail.name) {
      throw badRequest(`proof must be { "rail": "${this.rail.name}", ... } (this node's rail)`)
    }
    if (this.rail.subscriptionPayment === 'proof') return this.payByProof(peer, quote, proof)
    const verified = await this.countCheque(() =>
      pgp ? pgp.desk.verify(peer, proof.cheque) : this.sqlite().desk.verify(peer, proof.cheque),
    )
    if (verified.rise !== quote.amount) {
      throw new BillingRequestError(
        402,
        'HANSA_PAYMENT_AMOUNT',
        `the cheque raises your cumulative payout by ${verified.rise} ${quote.unit}; the quote asks for exactly ${quote.amount}: sign cumulativePayout ${verified.cumulative - verified.rise + quote.amount}`,
      )
    }
    const input = (rise: bigint) => ({
      peer,
      purpose: 'subscription' as const,
      service: quote.service,
      rail: this.rail.name,
      reference: verified.digest,
      amount: rise,
    })
    const { record, booked } = await this.countCheque(async () => {
      if (pgp) {
        const paid = await pgp.desk.commit(peer, verified, 'subscription', async (client, rise) => {
          const record = await pgp.subscriptions.applyPayment(
            client,
            quote,
            rise,
            this.rail.name,
            verified.digest,
          )
          return { record, booked: await pgp.books.book(client, input(rise)) }
        })
        await pgp.subscriptions.reloadAccess() // committed: only now does the relay let them in
        return paid
      }
      const { desk, books, subscriptions } = this.sqlite()
      const paid = desk.commit(peer, verified, 'subscription', (rise) => {
        const record = subscriptions.applyPayment(quote, rise, this.rail.name, verified.digest)
        return { record, booked: books.book(input(rise)) }
      })
      subscriptions.reloadAccess() // committed: only now does the relay let the keys in
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
  async account(peer: string) {
    const chequebook = await this.chequebookOf(peer)
    const pgp = this.pgp
    const lite = pgp ? undefined : this.sqlite()
    const accounts = pgp ? pgp.accounts : lite!.accounts
    const swap = !accounts
      ? null
      : accounts instanceof PgSwapAccounts
        ? accountJson(await accounts.read(peer), accounts)
        : accountJson(accounts.get(peer), accounts)
    const rateBps = this.terms.devTax.rateBps
    return {
      pubkey: peer,
      unit: this.options.config.billing.unit,
      swap,
      chequebook:
        chequebook === null
          ? null
          : {
              address: chequebook,
              cumulativePayout: (await this.lastCumulative(chequebook)).toString(),
            },
      subscriptions: (pgp
        ? await pgp.subscriptions.listFor(peer)
        : lite!.subscriptions.listFor(peer)
      ).map(subscriptionJson),
      payments: (pgp ? await pgp.books.recent(20, peer) : lite!.books.recent(20, peer)).map(
        paymentJson,
      ),
      devTax: { rateBps, rate: formatBps(rateBps) },
    }
  }

  /** The subscriptions that cover `pubkey`. */
  async subscriptionsOf(pubkey: string): Promise<SubscriptionView[]> {
    return this.pgp
      ? this.pgp.subscriptions.listFor(pubkey)
      : this.sqlite().subscriptions.listFor(pubkey)
  }

  /** The owner adds one of her keys to her subscription (with that key's consent). */
  async addSubscriptionKey(id: string, by: string, pubkey: unknown, consent?: unknown) {
    return this.pgp
      ? this.pgp.subscriptions.addPubkey(id, by, pubkey, consent)
      : this.sqlite().subscriptions.addPubkey(id, by, pubkey, consent)
  }

  /** The owner removes a key from her subscription (a key may remove itself). */
  async removeSubscriptionKey(id: string, by: string, pubkey: string) {
    return this.pgp
      ? this.pgp.subscriptions.removePubkey(id, by, pubkey)
      : this.sqlite().subscriptions.removePubkey(id, by, pubkey)
  }

  /** The coordinator's view: the books, every balance, who is out of bounds, subscriptions. */
  async report() {
    const pgp = this.pgp
    if (!pgp) return this.reportSync()
    const report = this.buildReport({
      t: await pgp.books.totals(),
      accounts: pgp.accounts,
      peers: pgp.accounts ? await pgp.accounts.all() : [],
      subs: await pgp.subscriptions.all(),
      cheques: await pgp.desk.chequeCount(),
      recent: await pgp.books.recent(50),
    })
    this.lastReport = report
    return report
  }

  /** billing.sqlite's report, read at once. */
  private reportSync() {
    const lite = this.sqlite()
    return this.buildReport({
      t: lite.books.totals(),
      accounts: lite.accounts,
      peers: lite.accounts?.all() ?? [],
      subs: lite.subscriptions.all(),
      cheques: lite.desk.chequeCount(),
      recent: lite.books.recent(50),
    })
  }

  /**
   * The report for the history's samples, which are taken synchronously: billing.sqlite's now,
   * or, from PostgreSQL, the last one read (one sample old at most; each call reads the next).
   */
  reportNow(): ReturnType<Billing['reportSync']> | undefined {
    if (this.lite) return this.reportSync()
    // PostgreSQL: the last one read, and a fresh one read for the next sample
    this.report().catch((err) =>
      this.options.log.warn({ err }, 'billing: reading the report failed'),
    )
    return this.lastReport
  }

  private buildReport(d: {
    t: BookTotals
    accounts: { policy: SwapAccounts['policy'] } | undefined
    peers: PeerAccount[]
    subs: SubscriptionView[]
    cheques: number
    recent: BookedPayment[]
  }) {
    const { t, accounts, peers, subs } = d
    const active: Record<string, number> = {}
    for (const [service, terms] of Object.entries(this.terms.services)) {
      if (terms.access !== 'subscription') continue
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
            peers: peers.map((a) => accountJson(a, accounts)),
            outOfBounds: peers
              .filter((a) => a.bounds !== 'within')
              .map((a) => ({ peer: a.peer, direction: a.bounds, balance: a.balance.toString() })),
          }
        : null,
      subscriptions: { active, list: subs.map(subscriptionJson) },
      cheques: d.cheques,
      settlement: this.evm
        ? { rail: 'evm', ...this.evm.settlementTerms(), cashOuts: this.evm.report() }
        : null,
      recentPayments: d.recent.map(paymentJson),
    }
  }

  /** The coordinator books dev tax she has passed on to the dev fund. */
  async recordDevTaxPaid(body: { amount?: unknown; reference?: unknown }) {
    const { amount, reference } = body
    if (typeof amount !== 'string' || !/^[1-9][0-9]{0,77}$/.test(amount)) {
      throw badRequest('amount must be a decimal string of base units, more than 0')
    }
    if (typeof reference !== 'string' || reference === '' || reference.length > 200) {
      throw badRequest(
        'reference must say how it was paid (a transaction id, a note), 1–200 characters',
      )
    }
    const unit = this.options.config.billing.unit
    let t: Awaited<ReturnType<Billing['totals']>>
    if (this.pgp) {
      // checked against what is due under the totals' row lock
      t = (await this.pgp.books.recordDevTaxPaid(BigInt(amount), reference)).totals
    } else {
      const books = this.sqlite().books
      t = books.recordDevTaxPaid(
        devTaxToBook(BigInt(amount), books.totals().devTaxDue, unit, false),
        reference,
      )
    }
    return {
      devTax: t.devTax.toString(),
      devTaxPaid: t.devTaxPaid.toString(),
      devTaxDue: t.devTaxDue.toString(),
      unit: t.unit,
    }
  }

  /** Writes the SWAP balances; the maintenance timer and close call it. */
  async flush(): Promise<void> {
    if (this.pgp) await this.pgp.accounts?.flush()
    else this.sqlite().accounts?.flush()
  }

  async close(): Promise<void> {
    const pgp = this.pgp
    if (pgp) {
      await pgp.accounts?.close()
      await pgp.desk.drain()
      await pgp.listener?.stop()
      await this.rail.close?.()
      return
    }
    const { accounts, desk, db } = this.sqlite()
    accounts?.close()
    await desk.drain()
    await this.rail.close?.()
    if (db.open) db.close()
  }
}
