// A coordinator's order book: makers submit orders (HTTP + NIP-98), the coordinator checks them
// against its terms and publishes them as NIP-69 events signed by the node key, naming the
// maker; takers take, makers cancel, sellers complete, and pending orders expire on time. Each
// decision is committed first (order-db.ts, one transaction), then its consequences follow:
// the new event is published, maker and taker are told through NIP-17 messages kept in this
// node's inbox, and the trade's fees are booked with the dev tax. The maintenance task repeats
// whatever a crash interrupted.
import {
  type JsonValue,
  type NostrEvent,
  type Order,
  type OrderSide,
  type OrderStatus,
  type OrderbookTradingTerms,
  formatPpm,
  orderEventTemplate,
  orderbookTermsIssues,
  ppmOf,
  rateToPpm,
  tradeFees,
} from '@hansa/protocol'
import { wrapEvent } from 'nostr-tools/nip17'
import { npubEncode } from 'nostr-tools/nip19'
import { finalizeEvent } from 'nostr-tools/pure'
import { ConfigError, type NodeConfig } from '../../config.js'
import type { ServiceContext } from '../service.js'
import { invalidOrder, outsideTerms, tooManyTakes } from './errors.js'
import type { OrderQuery, OrderRecord, OrderStore, Robot, Trade } from './order-db.js'

export const PLATFORM = 'hansa'

/** The trading terms this node's configuration sets (ConfigError when they make no sense). */
export function tradingTermsFromConfig(config: NodeConfig): OrderbookTradingTerms {
  const o = config.orderbook
  let fees: { makerFeePpm: number; takerFeePpm: number; bondPpm: number }
  try {
    fees = {
      makerFeePpm: rateToPpm(o.makerFee),
      takerFeePpm: rateToPpm(o.takerFee),
      bondPpm: rateToPpm(o.bondShare),
    }
  } catch {
    throw new ConfigError(
      'orderbook.makerFee, orderbook.takerFee and orderbook.bondShare are shares from 0 to 1 (0.00025 = 0.025 %)',
    )
  }
  const terms: OrderbookTradingTerms = {
    currencies: [...new Set(o.currencies)],
    minSats: o.minSats,
    maxSats: o.maxSats,
    ...fees,
    maxLifetimeSeconds: o.maxLifetimeSeconds,
    network: o.network,
    layers: [...new Set(o.layers)],
  }
  const issues = orderbookTermsIssues(terms)
  if (issues.length > 0) {
    const i = issues[0]!
    throw new ConfigError(
      `the orderbook options make invalid terms: ${i.path} ${i.message}`,
      'See orderbook.* in docs/configuration.md.',
    )
  }
  return terms
}

/** What a maker submits (POST /orderbook/orders). */
export type MakeRequest = {
  side: OrderSide
  currency: string
  /** One amount, or [min, max] for a range the taker chooses from. */
  fiatAmount: number[]
  /** Satoshis; 0 or absent: priced at market (plus the premium) when taken. */
  sats?: number
  paymentMethods: string[]
  premium?: number
  layer?: string
  /** Seconds the order stays pending (default and most: orderbook.maxLifetimeSeconds). */
  expiresIn?: number
  /** The maker's nickname, shown in the book (NIP-69 `name`). */
  name?: string
  geohash?: string
}

/** What a taker submits (POST /orderbook/orders/:id/take). */
export type TakeRequest = {
  /** For a range order: the fiat amount, between its min and max. */
  fiatAmount?: number
  /** For an order priced at market (amt 0): the trade's satoshis at the market price. */
  sats?: number
}

/** An order as the API shows it. */
export type OrderView = {
  id: string
  status: OrderStatus
  maker: string
  taker: string | null
  order: Order
  /** The trade, with the price its fiat and satoshis imply (fiat per bitcoin). */
  trade: (Trade & { impliedPrice: number; confirmed: boolean; confirmBy: number | null }) | null
  createdAt: number
  updatedAt: number
  event: NostrEvent | null
}

/**
 * An order as the API shows it to `viewer`. Who took an order and on what terms is the two
 * parties' business (the NIP-69 event does not say either): only the maker and the taker see
 * `taker` and `trade`; anyone else sees null.
 */
export const orderView = (
  r: OrderRecord,
  viewer?: string | null,
  takeTimeoutSeconds = 900,
): OrderView => {
  const party = viewer !== undefined && (viewer === r.order.maker || viewer === r.taker)
  const trade =
    r.trade === null
      ? null
      : {
          ...r.trade,
          impliedPrice: impliedPrice(r.trade),
          confirmed: r.confirmedAt !== null,
          confirmBy:
            r.confirmedAt === null && r.takenAt !== null ? r.takenAt + takeTimeoutSeconds : null,
        }
  return {
    id: r.order.id,
    status: r.status,
    maker: r.order.maker ?? '',
    taker: party ? r.taker : null,
    order: { ...r.order, status: r.status },
    trade: party ? trade : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    event: r.event,
  }
}
/** Fiat per bitcoin that a trade's amounts imply, to two decimals. */
export const impliedPrice = (trade: Trade): number =>
  Math.round((trade.fiat * 1e8 * 100) / trade.sats) / 100

const fiatText = (o: Order) => `${o.fiatAmount.join('–')} ${o.currency}`

export class OrderBook {
  readonly trading: OrderbookTradingTerms
  private expiryTimer: NodeJS.Timeout | undefined
  private closed = false
  private warnedUnit = false

  constructor(
    private readonly ctx: ServiceContext,
    private readonly db: OrderStore,
  ) {
    this.trading = tradingTermsFromConfig(ctx.config)
  }

  /** The terms now: the configured ones, currencies narrowed by the manifest's list if it has one. */
  terms(): OrderbookTradingTerms {
    const federationWide = this.ctx.federation.manifest()?.services.orderbook?.currencies
    if (!Array.isArray(federationWide)) return this.trading
    const allowed = new Set(federationWide.filter((c): c is string => typeof c === 'string'))
    return { ...this.trading, currencies: this.trading.currencies.filter((c) => allowed.has(c)) }
  }

  /** `y`: the platform, and this coordinator's alias when the node is a member. */
  platform(): string[] {
    const alias = this.ctx.federation.coordinator()?.alias
    return alias === undefined ? [PLATFORM] : [PLATFORM, alias]
  }

  async info() {
    const coordinator = this.ctx.federation.coordinator()
    return {
      node: this.ctx.nodeKey.pubkey,
      coordinator: coordinator ? { pubkey: coordinator.pubkey, alias: coordinator.alias } : null,
      active: this.ctx.federation.active(),
      platform: this.platform(),
      trading: this.terms(),
      fees: {
        maker: formatPpm(this.trading.makerFeePpm),
        taker: formatPpm(this.trading.takerFeePpm),
        bond: formatPpm(this.trading.bondPpm),
      },
      counts: await this.db.counts(),
    }
  }

  takeTimeoutSeconds(): number {
    return this.ctx.config.orderbook.takeTimeoutSeconds
  }

  async get(id: string): Promise<OrderRecord | undefined> {
    return this.db.get(id)
  }

  async list(query: OrderQuery): Promise<OrderRecord[]> {
    return this.db.list(query)
  }

  /** Registers a key on first use, or notes it came back (RoboSats's robot generation). */
  async robot(pubkey: string): Promise<{ robot: Robot; created: boolean }> {
    return this.db.touchRobot(pubkey, this.ctx.now())
  }

  // ---- actions --------------------------------------------------------------------------

  async make(maker: string, request: MakeRequest): Promise<OrderRecord> {
    const now = this.ctx.now()
    const terms = this.terms()
    if (!terms.currencies.includes(request.currency)) {
      throw outsideTerms(
        `this coordinator books ${terms.currencies.join(', ') || 'no currency'}, not ${request.currency}`,
      )
    }
    const sats = request.sats ?? 0
    if (sats !== 0 && (sats < terms.minSats || sats > terms.maxSats)) {
      throw outsideTerms(
        `trades here are ${terms.minSats} to ${terms.maxSats} sats; the order asks for ${sats}`,
      )
    }
    const fiat = request.fiatAmount
    if (fiat.length === 2 && sats !== 0) {
      throw invalidOrder(
        'a range order is priced at market: leave sats out (the taker states the amount)',
      )
    }
    if (fiat.length === 2 && !(fiat[0]! < fiat[1]!)) {
      throw invalidOrder('a range is [min, max] with min below max')
    }
    const layer = request.layer ?? terms.layers[0]!
    if (!terms.layers.includes(layer)) {
      throw outsideTerms(`this coordinator settles on ${terms.layers.join(', ')}, not ${layer}`)
    }
    const lifetime = request.expiresIn ?? terms.maxLifetimeSeconds
    if (lifetime < 60 || lifetime > terms.maxLifetimeSeconds) {
      throw outsideTerms(
        `an order stays pending 60 to ${terms.maxLifetimeSeconds} seconds here; expiresIn was ${lifetime}`,
      )
    }
    const limit = this.ctx.config.orderbook.maxOrdersPerMaker
    if ((await this.db.pendingOf(maker, now)) >= limit) {
      throw outsideTerms(
        `you have ${limit} pending orders on this coordinator, the most it keeps per maker: cancel one first`,
      )
    }
    const expiresAt = now + lifetime
    const order: Order = {
      id: crypto.randomUUID(),
      side: request.side,
      currency: request.currency,
      status: 'pending',
      amount: sats,
      fiatAmount: fiat.length === 2 ? [fiat[0]!, fiat[1]!] : [fiat[0]!],
      paymentMethods: request.paymentMethods.map((m) => m.trim()),
      premium: request.premium ?? 0,
      network: terms.network,
      layer,
      expiresAt,
      expiration: expiresAt + this.ctx.config.orderbook.keepClosedSeconds,
      platform: this.platform(),
      maker,
      createdAt: now,
    }
    if (sats > 0) order.bond = ppmOf(sats, terms.bondPpm)
    if (request.name !== undefined) order.name = request.name
    if (request.geohash !== undefined) order.geohash = request.geohash
    try {
      orderEventTemplate(order, now) // what is published must be a valid NIP-69 order
    } catch (error) {
      throw invalidOrder((error as Error).message)
    }
    const record = await this.db.insert(order, now)
    this.ctx.log.info(
      { order: order.id, maker, side: order.side, fiat: fiatText(order) },
      'orderbook: order made',
    )
    await this.publish(record)
    this.scheduleExpiry()
    return (await this.db.get(order.id))!
  }

  async take(taker: string, id: string, request: TakeRequest): Promise<OrderRecord> {
    const now = this.ctx.now()
    const record = await this.db.apply(
      id,
      { type: 'take', by: taker, at: now },
      now,
      (r, openTakes) => {
        // Counted inside the take's transaction, so racing takes by one key cannot pass it.
        const limit = this.ctx.config.orderbook.maxOpenTakesPerKey
        if (openTakes >= limit) throw tooManyTakes(limit)
        return this.tradeOf(r, request)
      },
    )
    this.ctx.log.info({ order: id, taker, sats: record.trade?.sats }, 'orderbook: order taken')
    await this.publish(record)
    const o = record.order
    const trade = record.trade!
    const price = impliedPrice(trade)
    const counterpart = (pubkey: string) => npubEncode(pubkey)
    const terms = `${trade.fiat} ${o.currency} for ${trade.sats} sats (${o.layer}, ${o.network}), paid by ${o.paymentMethods.join(' or ')}`
    // A market-priced order leaves the satoshis to the taker: the maker sees the price they
    // imply beside the premium she asked for, and decides whether to go on.
    const priced =
      o.amount === 0
        ? ` The taker chose the amount: that is ${price} ${o.currency}/BTC (your premium: ${o.premium} % over market).`
        : ` Price: ${price} ${o.currency}/BTC.`
    const minutes = Math.ceil(this.ctx.config.orderbook.takeTimeoutSeconds / 60)
    await this.notify(
      o.maker!,
      `Order ${id} taken. Your ${o.side} order was taken by ${counterpart(taker)}: ${terms}.${priced} Confirm the take within ${minutes} minutes (POST /orderbook/orders/${id}/confirm), or the order returns to the book. Write to them (NIP-17) to settle. Coordinator fee: ${trade.makerFee} sats.`,
    )
    await this.notify(
      taker,
      `Order ${id} taken. You took the ${o.side} order of ${counterpart(o.maker!)}: ${terms}. The maker has ${minutes} minutes to confirm, or the order returns to the book. Write to them (NIP-17) to settle. Coordinator fee: ${trade.takerFee} sats.`,
    )
    this.scheduleExpiry()
    return record
  }

  /** The maker confirms a take: the trade goes on, and its fees are booked. */
  async confirm(by: string, id: string): Promise<OrderRecord> {
    const now = this.ctx.now()
    const before = await this.db.get(id)
    const record = await this.db.confirm(id, by, now)
    await this.bookFees(record)
    if (before?.confirmedAt === null && record.taker !== null) {
      this.ctx.log.info({ order: id }, 'orderbook: take confirmed by the maker')
      await this.notify(
        record.taker,
        `Order ${id}: the maker confirmed your take. Write to them (NIP-17) to settle.`,
      )
    }
    return record
  }

  /**
   * Returns to the book every order whose take its maker did not confirm within
   * orderbook.takeTimeoutSeconds, telling both parties; returns how many. A stranger who takes
   * orders and walks away holds each for that long at most (and only
   * orderbook.maxOpenTakesPerKey at once per key).
   */
  async releaseLapsed(): Promise<number> {
    const now = this.ctx.now()
    const timeout = this.ctx.config.orderbook.takeTimeoutSeconds
    let released = 0
    for (const id of await this.db.lapsed(now - timeout)) {
      const done = await this.db.release(id, now)
      if (done === undefined) continue // confirmed or completed in the meantime
      const { record, taker } = done
      await this.publish(record)
      released++
      const back = record.status === 'pending' ? 'is back in the book' : 'has expired meanwhile'
      const minutes = Math.ceil(timeout / 60)
      await this.notify(
        record.order.maker!,
        `Order ${id}: the take by ${npubEncode(taker)} was not confirmed within ${minutes} minutes; the order ${back}.`,
      )
      await this.notify(
        taker,
        `Order ${id}: your take was not confirmed by the maker within ${minutes} minutes; the order ${back} and you no longer hold it.`,
      )
    }
    if (released > 0) this.ctx.log.info({ released }, 'orderbook: lapsed takes returned')
    return released
  }

  async complete(by: string, id: string): Promise<OrderRecord> {
    const now = this.ctx.now()
    const record = await this.db.apply(id, { type: 'complete', by, at: now }, now)
    this.ctx.log.info({ order: id }, 'orderbook: trade completed')
    await this.publish(record)
    await this.bookFees(record)
    const text = `Order ${id} completed: the seller confirmed the fiat payment arrived.`
    await this.notify(record.order.maker!, text)
    if (record.taker !== null) await this.notify(record.taker, text)
    return record
  }

  async cancel(by: string, id: string): Promise<OrderRecord> {
    const now = this.ctx.now()
    const record = await this.db.apply(id, { type: 'cancel', by, at: now }, now)
    this.ctx.log.info({ order: id }, 'orderbook: order canceled by its maker')
    await this.publish(record)
    return record
  }

  /** Expires every pending order whose time has come; returns how many. */
  async expireDue(): Promise<number> {
    const now = this.ctx.now()
    let expired = 0
    for (const id of await this.db.due(now)) {
      let record: OrderRecord
      try {
        record = await this.db.apply(id, { type: 'expire', at: now }, now)
      } catch {
        continue // taken or canceled in the meantime
      }
      await this.publish(record)
      expired++
    }
    if (expired > 0) this.ctx.log.info({ expired }, 'orderbook: orders expired')
    return expired
  }

  /** The maintenance task: expire what is due, then finish what a crash interrupted. */
  async maintain(): Promise<void> {
    await this.expireDue()
    await this.releaseLapsed()
    for (const record of await this.db.unpublished()) await this.publish(record)
    for (const record of await this.db.unbooked()) await this.bookFees(record)
    this.scheduleExpiry()
  }

  close(): void {
    this.closed = true
    clearTimeout(this.expiryTimer)
  }

  // ---- consequences ---------------------------------------------------------------------

  private tradeOf(record: OrderRecord, request: TakeRequest): Trade {
    const o = record.order
    let fiat: number
    if (o.fiatAmount.length === 2) {
      const [min, max] = o.fiatAmount
      if (request.fiatAmount === undefined) {
        throw invalidOrder(
          `this is a range order: say how much (fiatAmount) from ${min} to ${max} ${o.currency}`,
        )
      }
      if (request.fiatAmount < min || request.fiatAmount > max!) {
        throw outsideTerms(
          `the order takes ${min} to ${max} ${o.currency}; ${request.fiatAmount} is outside`,
        )
      }
      fiat = request.fiatAmount
    } else {
      if (request.fiatAmount !== undefined && request.fiatAmount !== o.fiatAmount[0]) {
        throw invalidOrder(
          `the order is for exactly ${o.fiatAmount[0]} ${o.currency}; leave fiatAmount out`,
        )
      }
      fiat = o.fiatAmount[0]
    }
    let sats: number
    if (o.amount > 0) {
      if (request.sats !== undefined && request.sats !== o.amount) {
        throw invalidOrder(`the order is for exactly ${o.amount} sats; leave sats out`)
      }
      sats = o.amount
    } else {
      if (request.sats === undefined) {
        throw invalidOrder(
          `the order is priced at market (premium ${o.premium} %): say the trade's satoshis (sats) at that price`,
        )
      }
      sats = request.sats
    }
    const terms = this.trading
    if (sats < terms.minSats || sats > terms.maxSats) {
      throw outsideTerms(`trades here are ${terms.minSats} to ${terms.maxSats} sats, not ${sats}`)
    }
    const fees = tradeFees(sats, terms)
    return { sats, fiat, makerFee: fees.maker, takerFee: fees.taker }
  }

  /** Signs and publishes the event of the order's current status. */
  private async publish(record: OrderRecord): Promise<NostrEvent> {
    const keep = this.ctx.config.orderbook.keepClosedSeconds
    const o = record.order
    // A pending order's event lives until it expires (plus `keep`, so "expired" can follow);
    // a closed one `keep` seconds past its last change, never less than its expires_at.
    const expiration =
      record.status === 'pending'
        ? o.expiresAt + keep
        : Math.max(o.expiresAt, record.updatedAt + keep)
    const template = orderEventTemplate(
      { ...o, status: record.status, expiration },
      record.eventCreatedAt,
    )
    const event = finalizeEvent(template, this.ctx.nodeKey.secretKey) as unknown as NostrEvent
    await this.ctx.publish({
      id: event.id,
      pubkey: event.pubkey,
      created_at: event.created_at,
      kind: event.kind,
      tags: event.tags,
      content: event.content,
      sig: event.sig,
    })
    await this.db.markPublished(o.id, event)
    return event
  }

  /** A NIP-17 message from the node to `recipient`, kept in this node's inbox for them. */
  private async notify(recipient: string, text: string): Promise<void> {
    try {
      const wrap = wrapEvent(
        this.ctx.nodeKey.secretKey,
        { publicKey: recipient },
        text,
        'Hansa order book',
      ) as unknown as NostrEvent
      await this.ctx.publish(wrap)
    } catch (err) {
      this.ctx.log.error({ err, recipient }, 'orderbook: could not store a notice')
    }
  }

  /**
   * Books the trade's fees (maker's and taker's) with the dev tax, each once: the booking's
   * reference is the order and side, and a reference already booked (by another process of
   * the node, on PostgreSQL) is not booked again.
   */
  private async bookFees(record: OrderRecord): Promise<void> {
    const trade = record.trade
    // Fees are due once the trade goes on (the maker confirmed, or it completed): a take
    // that lapses costs nobody anything.
    if (trade === null || record.taker === null || record.confirmedAt === null) return
    for (const side of ['maker', 'taker'] as const) {
      if (record.feesBooked[side]) continue
      const fee = side === 'maker' ? trade.makerFee : trade.takerFee
      const amount = this.inBillingUnit(fee)
      try {
        if (amount !== null && amount > 0n) {
          await this.ctx.bookIncome({
            peer: side === 'maker' ? record.order.maker! : record.taker,
            reference: `order:${record.order.id}:${side}-fee`,
            amount,
          })
        }
        await this.db.markBooked(record.order.id, side)
      } catch (err) {
        this.ctx.log.error({ err, order: record.order.id }, 'orderbook: booking a fee failed')
      }
    }
  }

  /** Satoshis in billing.unit (msat or sat), or null for a unit that is not bitcoin's. */
  private inBillingUnit(sats: number): bigint | null {
    const unit = this.ctx.config.billing.unit
    if (unit === 'msat') return BigInt(sats) * 1000n
    if (unit === 'sat' || unit === 'sats') return BigInt(sats)
    if (!this.warnedUnit) {
      this.warnedUnit = true
      this.ctx.log.warn(
        { unit },
        'orderbook: trade fees are in satoshis and billing.unit is neither sat nor msat; fees are not booked',
      )
    }
    return null
  }

  /** Wakes up when the next pending order expires or take lapses, so the book acts on time. */
  private scheduleExpiry(): void {
    this.scheduleAt().catch((err) =>
      this.ctx.log.error({ err }, 'orderbook: scheduling expiries failed'),
    )
  }

  private async scheduleAt(): Promise<void> {
    if (this.closed) return
    const expiry = await this.db.nextExpiry()
    const takenAt = await this.db.nextLapse()
    clearTimeout(this.expiryTimer)
    if (this.closed) return
    const lapse = takenAt === null ? null : takenAt + this.ctx.config.orderbook.takeTimeoutSeconds
    const next = expiry === null ? lapse : lapse === null ? expiry : Math.min(expiry, lapse)
    if (next === null) return
    const delay = Math.min(Math.max(1000, (next - this.ctx.now()) * 1000), 2 ** 31 - 1)
    this.expiryTimer = setTimeout(() => {
      this.expireDue()
        .then(() => this.releaseLapsed())
        .catch((err) => this.ctx.log.error({ err }, 'orderbook: expiring orders failed'))
        .finally(() => this.scheduleExpiry())
    }, delay)
    this.expiryTimer.unref()
  }
}

/** The `trading` object of the order book's entry in the node's signed terms. */
export const termsEntry = (config: NodeConfig): Record<string, JsonValue> => ({
  trading: tradingTermsFromConfig(config) as unknown as JsonValue,
})
