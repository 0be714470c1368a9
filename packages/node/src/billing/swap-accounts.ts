// The node's side of SWAP: one account per peer (the pubkey a connection authenticated as
// first, NIP-42), priced by the node's metered terms, kept in memory on the request path and
// written to `swap_accounts` every second and at shutdown (db.ts says why). The decisions
// are protocol's pure functions (swap-ledger.ts): admit before serving, charge after, credit
// when a cheque arrives. A peer crossing out of bounds — owing more than the disconnect
// threshold, or having paid more than it ahead — is logged once when it crosses (and once
// when it comes back), in either direction and in every mode; soft mode logs and serves.
import {
  type Admission,
  type Bounds,
  EMPTY_ACCOUNT,
  type SwapAccount,
  type SwapPolicy,
  type SwapRequest,
  admit,
  basePrice,
  bounds,
  charge,
  credit,
  priceOf,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type { BillingDb } from './db.js'
import {
  creditedAccount,
  logBoundsChange,
  noteRefusal,
  reversedAccount,
  storedAccount,
} from './swap-rules.js'

export type PeerAccount = SwapAccount & {
  peer: string
  requests: number
  bounds: Bounds
  updatedAt: number
}

type Row = {
  peer: string
  balance: string
  charged: string
  paid: string
  cumulative: string
  requests: number
  out_of_bounds: string
  updated_at: number
}

type Entry = { account: SwapAccount; requests: number; bounds: Bounds; updatedAt: number }

export type OutOfBoundsEvent = { peer: string; direction: Bounds; balance: bigint }

export class SwapAccounts {
  private readonly entries = new Map<string, Entry>()
  private readonly dirty = new Set<string>()
  private readonly refusing = new Set<string>()
  private readonly stmt
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly db: BillingDb,
    readonly policy: SwapPolicy,
    private readonly options: {
      unit: string
      log: Logger
      now: () => number
      /** Called when a peer crosses out of bounds (or back): metrics count it. */
      onBounds?: (event: OutOfBoundsEvent) => void
      /**
       * The most credit a peer may hold ahead (the ledger rail: its cheques are IOUs, so an
       * uncapped one buys unlimited service); none on a rail whose cheques are covered on chain.
       */
      maxAhead?: bigint
    },
  ) {
    this.stmt = {
      all: db.prepare('SELECT * FROM swap_accounts'),
      save: db.prepare(
        `INSERT INTO swap_accounts (peer, balance, charged, paid, cumulative, requests, out_of_bounds, updated_at)
         VALUES (@peer, @balance, @charged, @paid, @cumulative, @requests, @out_of_bounds, @updated_at)
         ON CONFLICT (peer) DO UPDATE SET balance = @balance, charged = @charged, paid = @paid,
           cumulative = @cumulative, requests = @requests, out_of_bounds = @out_of_bounds,
           updated_at = @updated_at`,
      ),
    }
    for (const r of this.stmt.all.all() as Row[]) this.entries.set(r.peer, storedAccount(r))
  }

  /** Writes changed accounts every `seconds` (and at close). */
  startFlushing(seconds = 1): void {
    this.timer = setInterval(() => this.flush(), seconds * 1000)
    this.timer.unref()
  }

  get(peer: string): PeerAccount {
    const e = this.entries.get(peer)
    return e
      ? { peer, ...e.account, requests: e.requests, bounds: e.bounds, updatedAt: e.updatedAt }
      : { peer, ...EMPTY_ACCOUNT, requests: 0, bounds: 'within', updatedAt: 0 }
  }

  /** Every account, by pubkey. */
  all(): PeerAccount[] {
    return [...this.entries.keys()].sort().map((peer) => this.get(peer))
  }

  /** Admission of a request of this kind (at its base price) for `peer`. */
  admit(peer: string, kind: SwapRequest['kind']): Admission {
    const e = this.entries.get(peer)
    const decision = admit(
      e?.account ?? EMPTY_ACCOUNT,
      basePrice(this.policy.prices, kind),
      this.policy,
    )
    // logged once per streak; a credited cheque ends it
    noteRefusal(this.refusing, peer, e !== undefined, decision, this.options.log, this.options.unit)
    return decision
  }

  /** The price of a request under this node's terms. */
  price(request: SwapRequest): bigint {
    return priceOf(this.policy.prices, request)
  }

  /** Charges a served request; returns its price. */
  charge(peer: string, request: SwapRequest): bigint {
    const price = this.price(request)
    this.chargeAmount(peer, price)
    return price
  }

  /** Charges `price` for one served request (a reader's share of one). */
  chargeAmount(peer: string, price: bigint): void {
    const e = this.entry(peer)
    e.account = charge(e.account, price)
    e.requests++
    this.touch(peer, e)
  }

  /**
   * Credits a payment (a cheque's rise) in two steps: call this inside the cheque's transaction
   * — it refuses a rise past the credit cap and writes the credited account — and call what it
   * returns once the transaction has committed, which moves the balance in memory. A booking
   * that fails after this call rolls the row back and leaves the balance untouched, so the
   * request path never serves against money that was not booked.
   */
  stageCredit(peer: string, amount: bigint, cumulativePayout: bigint): () => PeerAccount {
    const before = this.entries.get(peer)
    const account = creditedAccount(
      before?.account ?? EMPTY_ACCOUNT,
      amount,
      cumulativePayout,
      this.options.maxAhead,
      this.options.unit,
    )
    const requests = before?.requests ?? 0
    const updatedAt = this.options.now()
    this.save(peer, { account, requests, bounds: bounds(account, this.policy), updatedAt })
    return () => {
      const e = this.entry(peer)
      e.account = { ...credit(e.account, amount), cumulativePayout }
      this.refusing.delete(peer)
      this.touch(peer, e)
      this.dirty.delete(peer)
      return this.get(peer)
    }
  }

  /**
   * Takes back `amount` of what was credited (a cheque that bounced on chain: the peer owes it
   * again), or gives it back when negative (the chequebook paid the rest later). Written at once.
   */
  reverseCredit(peer: string, amount: bigint): PeerAccount {
    const e = this.entry(peer)
    const account = reversedAccount(e.account, amount)
    // Written first: the balance in memory moves only once the debt is on disk.
    // With the time of the change: touch() dates it in memory, and the flush skips it.
    const updatedAt = this.options.now()
    this.save(peer, { ...e, account, bounds: bounds(account, this.policy), updatedAt })
    e.account = account
    this.touch(peer, e)
    this.dirty.delete(peer)
    return this.get(peer)
  }

  /**
   * Writes every account changed since the last flush, in one transaction. The timer's
   * flushes skip the fsync (synchronous NORMAL: they may be lost with the machine, never
   * torn); the next durable commit — a cheque, or the flush at close — carries them to disk.
   */
  flush(durable = false): void {
    if (this.dirty.size === 0 || !this.db.open) return
    const peers = [...this.dirty]
    this.dirty.clear()
    if (!durable) this.db.pragma('synchronous = NORMAL')
    try {
      this.db.transaction(() => {
        for (const peer of peers) {
          const e = this.entries.get(peer)
          if (e) this.save(peer, e)
        }
      })()
    } finally {
      if (!durable) this.db.pragma('synchronous = FULL')
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.flush(true)
  }

  outOfBounds(): PeerAccount[] {
    return this.all().filter((a) => a.bounds !== 'within')
  }

  private entry(peer: string): Entry {
    let e = this.entries.get(peer)
    if (!e) {
      e = { account: EMPTY_ACCOUNT, requests: 0, bounds: 'within', updatedAt: 0 }
      this.entries.set(peer, e)
    }
    return e
  }

  private touch(peer: string, e: Entry): void {
    e.updatedAt = this.options.now()
    this.dirty.add(peer)
    const now = bounds(e.account, this.policy)
    if (now === e.bounds) return
    const before = e.bounds
    e.bounds = now
    logBoundsChange(this.options.log, this.options.unit, this.policy, {
      peer,
      balance: e.account.balance,
      was: before,
      now,
    })
    this.options.onBounds?.({ peer, direction: now, balance: e.account.balance })
  }

  private save(peer: string, e: Entry): void {
    this.stmt.save.run({
      peer,
      balance: e.account.balance.toString(),
      charged: e.account.charged.toString(),
      paid: e.account.paid.toString(),
      cumulative: e.account.cumulativePayout.toString(),
      requests: e.requests,
      out_of_bounds: e.bounds,
      updated_at: e.updatedAt,
    })
  }
}
