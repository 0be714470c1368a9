// The client's side of SWAP (a minimal payer; the SDK's larger shape is HansaClient's). It keeps
// its own books of what it owes a metered node — priced with the same function the node uses,
// from the node's signed terms, so both sides agree without asking — and pays with a cumulative
// EIP-712 cheque once the debt reaches the payment threshold, or `earlyPercent` percent before
// it, as Swarm Bee pays early: well before the node's disconnect threshold. The same payer
// pays subscriptions, so one chequebook's cumulative payout covers both.
//
//   const payer = await SwapPayer.connect({ nodeUrl, secretKey })
//   …a query answered:   payer.recordQuery(events);  await payer.settle()
//   …an event stored:    payer.recordEvent(event);    await payer.settle()
//
// Its state (balance, cumulative payout) goes to `storage` after every change (memory by
// default), so a restarted app does not sign a payout twice. `sync()` adopts the node's record
// of the last credited payout when it is higher (a payer that lost its storage).
import {
  type Bounds,
  EMPTY_ACCOUNT,
  type MeteredTerms,
  type NostrEvent,
  type SignedCheque,
  type SwapAccount,
  type SwapPolicy,
  type Terms,
  bounds,
  charge,
  credit,
  ethereumAddress,
  paymentDue,
  priceOf,
  serializeEvent,
  signCheque,
  swapPolicy,
} from '@hansa/protocol'
import {
  type BillingApiOptions,
  type ChequeReceipt,
  type SubscriptionReceipt,
  type SubscriptionRequest,
  getAccount,
  getTerms,
  paySubscription,
  quoteSubscription,
  sendCheque,
} from './billing-api.js'

/** What a payer remembers per node. Amounts as decimal strings. */
export type PayerState = {
  balance: string
  charged: string
  paid: string
  cumulativePayout: string
  /** The chequebook the cumulative payout is of (absent: the key's own address). */
  chequebook?: string
}

export interface PayerStorage {
  load(node: string): PayerState | undefined
  save(node: string, state: PayerState): void
}

export function memoryPayerStorage(): PayerStorage {
  const states = new Map<string, PayerState>()
  return {
    load: (node) => states.get(node),
    save: (node, state) => void states.set(node, { ...state }),
  }
}

export type SwapPayerOptions = {
  nodeUrl: string
  secretKey: Uint8Array
  /** The metered service whose terms price the requests (default: the first metered one). */
  service?: string
  /** Pay this many percent before the payment threshold (Bee's early payment; default 0). */
  earlyPercent?: number
  storage?: PayerStorage
  /** Called when this payer's own books put it out of bounds (or back). */
  onBounds?: (direction: Bounds, balance: bigint) => void
  api?: BillingApiOptions
  /** A chequebook contract this key issues (evm rail, hard mode); default: the key's address. */
  chequebook?: string
}

const encoder = new TextEncoder()
const bytesOf = (events: readonly NostrEvent[]) =>
  events.reduce((n, e) => n + encoder.encode(serializeEvent(e)).length, 0)

export class SwapPayer {
  readonly terms: Terms
  readonly service: string
  readonly policy: SwapPolicy
  readonly unit: string
  /** The payer's chequebook: a contract on the evm rail, its own address on the ledger rail. */
  readonly chequebook: string
  private state: SwapAccount
  private bounds_: Bounds = 'within'
  private paying: Promise<ChequeReceipt | null> | undefined

  private constructor(
    private readonly options: SwapPayerOptions,
    terms: Terms,
    service: string,
  ) {
    this.terms = terms
    this.service = service
    const t = terms.services[service] as MeteredTerms
    this.policy = swapPolicy(t)
    this.unit = t.unit
    this.chequebook = options.chequebook ?? ethereumAddress(options.secretKey)
    const saved = this.storage.load(this.nodeId)
    // A cumulative payout belongs to one chequebook: another one (a chequebook deployed since)
    // starts from nothing paid out, or its first cheque would pay the old one's total again.
    const savedBook = saved?.chequebook ?? ethereumAddress(options.secretKey)
    const sameBook = savedBook.toLowerCase() === this.chequebook.toLowerCase()
    this.state = saved
      ? {
          balance: BigInt(saved.balance),
          charged: BigInt(saved.charged),
          paid: BigInt(saved.paid),
          cumulativePayout: sameBook ? BigInt(saved.cumulativePayout) : 0n,
        }
      : EMPTY_ACCOUNT
  }

  /** Reads and verifies the node's terms; the service must be metered. */
  static async connect(options: SwapPayerOptions): Promise<SwapPayer> {
    const { terms } = await getTerms(options.nodeUrl, undefined, options.api)
    const service =
      options.service ?? Object.entries(terms.services).find(([, t]) => t.access === 'metered')?.[0]
    if (service === undefined || terms.services[service]?.access !== 'metered') {
      throw new Error(
        `${options.nodeUrl} meters no ${options.service ?? 'service'}; its terms: ${JSON.stringify(terms.services)}`,
      )
    }
    return new SwapPayer(options, terms, service)
  }

  private get storage(): PayerStorage {
    this.options.storage ??= memoryPayerStorage()
    return this.options.storage
  }

  private get nodeId(): string {
    return this.terms.node
  }

  /** This payer's view of its account with the node. */
  get account(): SwapAccount {
    return this.state
  }

  get bounds(): Bounds {
    return this.bounds_
  }

  /** Books a query the node answered with `events` (or that many bytes); returns its price. */
  recordQuery(events: readonly NostrEvent[] | { bytes: number }): bigint {
    const bytes = Array.isArray(events) ? bytesOf(events) : (events as { bytes: number }).bytes
    return this.record(priceOf(this.policy.prices, { kind: 'query', bytes }))
  }

  /**
   * Books an event the node stored (OK true, not a duplicate), or one of that many bytes (its
   * NIP-01 serialisation, UTF-8); returns its price.
   */
  recordEvent(event: NostrEvent | { bytes: number }): bigint {
    const bytes = 'id' in event ? bytesOf([event]) : event.bytes
    return this.record(priceOf(this.policy.prices, { kind: 'event', bytes }))
  }

  /**
   * Books an event the node sent live to an open subscription, or one of that many bytes; the
   * node charges its bytes only (the REQ that opened the subscription paid the base price).
   */
  recordDelivery(event: NostrEvent | { bytes: number }): bigint {
    const bytes = 'id' in event ? bytesOf([event]) : event.bytes
    return this.record(priceOf(this.policy.prices, { kind: 'delivery', bytes }))
  }

  private record(price: bigint): bigint {
    this.update(charge(this.state, price))
    return price
  }

  private update(next: SwapAccount): void {
    this.state = next
    this.storage.save(this.nodeId, {
      balance: next.balance.toString(),
      charged: next.charged.toString(),
      paid: next.paid.toString(),
      cumulativePayout: next.cumulativePayout.toString(),
      chequebook: this.chequebook,
    })
    const now = bounds(next, this.policy)
    if (now !== this.bounds_) {
      this.bounds_ = now
      this.options.onBounds?.(now, next.balance)
    }
  }

  /** What is due now (0n when nothing is). */
  due(): bigint {
    return paymentDue(this.state, this.policy, this.options.earlyPercent ?? 0)
  }

  /** Pays the whole debt with a cheque when it is due; null when nothing was. One at a time. */
  async settle(): Promise<ChequeReceipt | null> {
    if (this.paying) return this.paying
    if (this.due() === 0n) return null
    this.paying = this.payNow().finally(() => {
      this.paying = undefined
    })
    return this.paying
  }

  /** Pays `amount` (default: the whole debt) with a cheque now. */
  async payNow(amount = this.state.balance): Promise<ChequeReceipt> {
    if (amount <= 0n) throw new Error('nothing to pay')
    const cheque = await this.signCheque(amount)
    const receipt = await sendCheque(
      this.options.nodeUrl,
      cheque,
      this.options.secretKey,
      this.options.api,
    )
    return receipt
  }

  /**
   * Signs a cheque raising this payer's cumulative payout by `amount`, and books it as paid
   * (a cheque once signed is money given: it is never signed again for a lower total).
   */
  async signCheque(amount: bigint): Promise<SignedCheque> {
    const cumulativePayout = this.state.cumulativePayout + amount
    const cheque = await signCheque(
      {
        chequebook: this.chequebook,
        beneficiary: this.terms.settlement.beneficiary,
        cumulativePayout,
        chainId: this.terms.settlement.chainId,
      },
      this.options.secretKey,
    )
    this.update({ ...credit(this.state, amount), cumulativePayout })
    return cheque
  }

  /**
   * Subscribes (or renews): a quote for `periods` periods, paid with a cheque from this
   * chequebook. A subscription payment is not service owed, so the SWAP balance is unchanged.
   */
  async subscribe(request: SubscriptionRequest): Promise<SubscriptionReceipt> {
    return subscribeWith(this.options.nodeUrl, request, this.options.secretKey, {
      ...(this.options.api ?? {}),
      cheque: async (amount) => {
        const before = this.state
        const cheque = await this.signCheque(amount)
        this.update({ ...this.state, balance: before.balance, paid: before.paid })
        return cheque
      },
    })
  }

  /** Adopts the node's record of the last payout credited from this chequebook when higher. */
  async sync(): Promise<void> {
    const account = await getAccount(this.options.nodeUrl, this.options.secretKey, this.options.api)
    // only the node's record of this payer's chequebook: another one's payout is not this one's
    const same = account.chequebook?.address.toLowerCase() === this.chequebook.toLowerCase()
    const credited = same ? BigInt(account.chequebook?.cumulativePayout ?? '0') : 0n
    if (credited > this.state.cumulativePayout)
      this.update({ ...this.state, cumulativePayout: credited })
  }
}

/**
 * Subscribes without a payer: quote, then a cheque for exactly the quoted amount on top of the
 * payout the node says it last credited from this key's chequebook (the ledger rail is trust
 * anyway), then payment. Pass `cheque` to sign from your own books instead.
 */
export async function subscribeWith(
  nodeUrl: string,
  request: SubscriptionRequest,
  secretKey: Uint8Array,
  options: BillingApiOptions & { cheque?: (amount: bigint) => Promise<SignedCheque> } = {},
): Promise<SubscriptionReceipt> {
  const { cheque: signWith, ...api } = options
  const quote = await quoteSubscription(nodeUrl, request, secretKey, api)
  const amount = BigInt(quote.quote.amount)
  if (quote.pay.beneficiary === undefined || quote.pay.lastCumulativePayout === undefined) {
    throw new Error(
      `${nodeUrl} is paid on the ${quote.pay.rail} rail, not with cheques: use subscribeOnChain`,
    )
  }
  const cheque = signWith
    ? await signWith(amount)
    : await signCheque(
        {
          chequebook: ethereumAddress(secretKey),
          beneficiary: quote.pay.beneficiary,
          cumulativePayout: BigInt(quote.pay.lastCumulativePayout) + amount,
          chainId: quote.pay.chainId,
        },
        secretKey,
      )
  return paySubscription(nodeUrl, quote.quote.id, cheque, secretKey, api)
}
