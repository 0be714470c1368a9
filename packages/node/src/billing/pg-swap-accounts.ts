// SWAP accounts on PostgreSQL, shared by every process of a node. The balance is the
// database's: each charge is added there by one statement (`balance = balance + charge`, so
// two processes charging one peer at once both count), each credit is written under the row's
// lock inside the cheque's transaction (pg-ledger.ts). The request path's hooks are
// synchronous, so a process keeps, for admission only, the newest row it has seen (by
// `version`) plus the charges it has sent and not yet seen come back; charges go out as soon as
// the previous write returns (one write in flight per process, charges coalesced meanwhile),
// and a change made by another process (a credit) arrives by NOTIFY and is read back. A
// process that dies loses at most the charges of its write in flight, in the clients' favour
// — never a payment.
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
  priceOf,
} from '@hansa/protocol'
import type { Logger } from 'pino'
import type pg from 'pg'
import { announce, inTransaction } from './pg-ledger.js'
import type { OutOfBoundsEvent, PeerAccount } from './swap-accounts.js'
import {
  creditedAccount,
  logBoundsChange,
  noteRefusal,
  reversedAccount,
  storedAccount,
} from './swap-rules.js'

export type SwapRow = {
  peer: string
  balance: string
  charged: string
  paid: string
  cumulative: string
  requests: string
  out_of_bounds: string
  updated_at: string
  version: string
}

type Base = {
  account: SwapAccount
  requests: number
  bounds: Bounds
  updatedAt: number
  version: bigint
}
type Delta = { amount: bigint; requests: number }

const accountOf = (r: SwapRow): Base => ({ ...storedAccount(r), version: BigInt(r.version) })

const EMPTY_BASE: Base = {
  account: EMPTY_ACCOUNT,
  requests: 0,
  bounds: 'within',
  updatedAt: 0,
  version: -1n,
}

export class PgSwapAccounts {
  private readonly base = new Map<string, Base>()
  private pending = new Map<string, Delta>()
  private inflight = new Map<string, Delta>()
  /** Peers to read back (another process changed them). */
  private readonly stale = new Set<string>()
  private writing: Promise<void> | undefined
  private readonly refusing = new Set<string>()
  private closed = false

  constructor(
    private readonly pool: pg.Pool,
    readonly policy: SwapPolicy,
    private readonly options: {
      unit: string
      log: Logger
      now: () => number
      onBounds?: (event: OutOfBoundsEvent) => void
      maxAhead?: bigint
    },
  ) {}

  /** Reads every account (at start, and after the billing LISTEN connection came back). */
  async load(): Promise<void> {
    const { rows } = await this.pool.query<SwapRow>('SELECT * FROM swap_accounts')
    for (const r of rows) this.see(r, false)
  }

  /** The account as this process sees it: the database's row plus its own unsent charges. */
  get(peer: string): PeerAccount {
    const b = this.base.get(peer) ?? EMPTY_BASE
    let account = b.account
    let requests = b.requests
    for (const d of [this.inflight.get(peer), this.pending.get(peer)]) {
      if (!d) continue
      account = {
        ...account,
        balance: account.balance + d.amount,
        charged: account.charged + d.amount,
      }
      requests += d.requests
    }
    return {
      peer,
      ...account,
      requests,
      bounds: bounds(account, this.policy),
      updatedAt: b.updatedAt,
    }
  }

  /** Every account, from the database (written charges; a charge in flight may be missing). */
  async all(): Promise<PeerAccount[]> {
    await this.flush()
    const { rows } = await this.pool.query<SwapRow>('SELECT * FROM swap_accounts ORDER BY peer')
    return rows.map((r) => {
      const b = accountOf(r)
      return {
        peer: r.peer,
        ...b.account,
        requests: b.requests,
        bounds: b.bounds,
        updatedAt: b.updatedAt,
      }
    })
  }

  async outOfBounds(): Promise<PeerAccount[]> {
    return (await this.all()).filter((a) => a.bounds !== 'within')
  }

  /** One account, read from the database after this process's charges are written. */
  async read(peer: string): Promise<PeerAccount> {
    await this.flush()
    const { rows } = await this.pool.query<SwapRow>('SELECT * FROM swap_accounts WHERE peer = $1', [
      peer,
    ])
    if (rows[0]) this.see(rows[0], true)
    return this.get(peer)
  }

  admit(peer: string, kind: SwapRequest['kind']): Admission {
    const known = this.base.has(peer) || this.pending.has(peer) || this.inflight.has(peer)
    const decision = admit(this.get(peer), basePrice(this.policy.prices, kind), this.policy)
    noteRefusal(this.refusing, peer, known, decision, this.options.log, this.options.unit)
    return decision
  }

  price(request: SwapRequest): bigint {
    return priceOf(this.policy.prices, request)
  }

  charge(peer: string, request: SwapRequest): bigint {
    const price = this.price(request)
    this.chargeAmount(peer, price)
    return price
  }

  chargeAmount(peer: string, price: bigint): void {
    const d = this.pending.get(peer) ?? { amount: 0n, requests: 0 }
    d.amount += price
    d.requests++
    this.pending.set(peer, d)
    this.kick()
  }

  /** Another process changed `peer`'s account: read it back with the next write. */
  invalidate(peer: string): void {
    this.stale.add(peer)
    this.kick()
  }

  /** Every known account is read back (after missed notifications). */
  invalidateAll(): void {
    for (const peer of this.base.keys()) this.stale.add(peer)
    this.kick()
  }

  private kick(): void {
    if (this.writing || this.closed) return
    this.writing = this.writeLoop().finally(() => {
      this.writing = undefined
    })
  }

  /** Writes charges (and reads back stale accounts) until nothing is left. */
  private async writeLoop(): Promise<void> {
    while (this.pending.size > 0 || this.stale.size > 0) {
      this.inflight = this.pending
      this.pending = new Map()
      const peers = [...new Set([...this.inflight.keys(), ...this.stale])].sort()
      this.stale.clear()
      try {
        const { rows } = await this.pool.query<SwapRow>(
          `INSERT INTO swap_accounts AS s (peer, balance, charged, requests, updated_at)
           SELECT peer, amount, amount, n, $4 FROM unnest($1::text[], $2::numeric[], $3::bigint[])
             AS c (peer, amount, n) ORDER BY peer
           ON CONFLICT (peer) DO UPDATE SET balance = s.balance + excluded.balance,
             charged = s.charged + excluded.charged, requests = s.requests + excluded.requests,
             updated_at = CASE WHEN excluded.requests > 0 THEN excluded.updated_at ELSE s.updated_at END,
             out_of_bounds = CASE
               WHEN s.balance + excluded.balance > $5 THEN 'debt'
               WHEN -(s.balance + excluded.balance) > $5 THEN 'credit' ELSE 'within' END,
             version = s.version + 1
           RETURNING *`,
          [
            peers,
            peers.map((p) => (this.inflight.get(p)?.amount ?? 0n).toString()),
            peers.map((p) => this.inflight.get(p)?.requests ?? 0),
            this.options.now(),
            this.policy.disconnectThreshold.toString(),
          ],
        )
        this.inflight = new Map()
        for (const r of rows) this.see(r, true)
      } catch (err) {
        // Not written: the charges wait for the next write (merged back, nothing lost).
        for (const [peer, d] of this.inflight) {
          const p = this.pending.get(peer) ?? { amount: 0n, requests: 0 }
          this.pending.set(peer, { amount: p.amount + d.amount, requests: p.requests + d.requests })
        }
        this.inflight = new Map()
        if (this.closed) return
        this.options.log.error({ err }, 'swap: writing charges failed; retrying')
        await new Promise((r) => setTimeout(r, 500).unref())
      }
    }
  }

  /** Takes a row from the database when it is newer than the one kept; logs a bounds change. */
  private see(r: SwapRow, log: boolean): void {
    const next = accountOf(r)
    const before = this.base.get(r.peer)
    if (before && before.version >= next.version) return
    this.base.set(r.peer, next)
    if (!log || (before?.bounds ?? 'within') === next.bounds) return
    if (next.bounds === 'within') this.refusing.delete(r.peer)
    logBoundsChange(this.options.log, this.options.unit, this.policy, {
      peer: r.peer,
      balance: next.account.balance,
      was: before?.bounds,
      now: next.bounds,
    })
    this.options.onBounds?.({ peer: r.peer, direction: next.bounds, balance: next.account.balance })
  }

  /**
   * Credits a cheque's rise inside its transaction: the row is locked, the cap on credit ahead
   * checked against the balance in the database, the row written. Call `committed` with the
   * returned row once the transaction has committed.
   */
  async credit(
    client: pg.PoolClient,
    peer: string,
    amount: bigint,
    cumulativePayout: bigint,
  ): Promise<SwapRow> {
    const before = await this.locked(client, peer)
    const account = creditedAccount(
      before.account,
      amount,
      cumulativePayout,
      this.options.maxAhead,
      this.options.unit,
    )
    return this.write(client, peer, account)
  }

  /** Takes back `amount` of what was credited (a bounced cheque), or gives it back when negative. */
  async reverseCredit(peer: string, amount: bigint): Promise<PeerAccount> {
    const row = await inTransaction(this.pool, async (client) => {
      const before = await this.locked(client, peer)
      const account = reversedAccount(before.account, amount)
      return this.write(client, peer, account)
    })
    this.committed(row)
    return this.get(peer)
  }

  /** The peer's account (created empty if need be), locked until the transaction ends. */
  private async locked(client: pg.PoolClient, peer: string): Promise<Base> {
    await client.query('INSERT INTO swap_accounts (peer) VALUES ($1) ON CONFLICT DO NOTHING', [
      peer,
    ])
    const { rows } = await client.query<SwapRow>(
      'SELECT * FROM swap_accounts WHERE peer = $1 FOR UPDATE',
      [peer],
    )
    return accountOf(rows[0]!)
  }

  private async write(client: pg.PoolClient, peer: string, account: SwapAccount) {
    const { rows } = await client.query<SwapRow>(
      `UPDATE swap_accounts SET balance = $2, paid = $3, cumulative = $4, out_of_bounds = $5,
         updated_at = $6, version = version + 1 WHERE peer = $1 RETURNING *`,
      [
        peer,
        account.balance.toString(),
        account.paid.toString(),
        account.cumulativePayout.toString(),
        bounds(account, this.policy),
        this.options.now(),
      ],
    )
    await announce(client, `swap ${peer}`)
    return rows[0]!
  }

  /** A credit's transaction committed: the request path sees the new balance now. */
  committed(row: SwapRow): PeerAccount {
    this.see(row, true)
    this.refusing.delete(row.peer) // a credited cheque ends a refusal streak, as on SQLite
    return this.get(row.peer)
  }

  /** Waits until every charge made so far is written. */
  async flush(): Promise<void> {
    for (let i = 0; i < 100 && (this.writing || this.pending.size > 0); i++) {
      this.kick()
      await this.writing
    }
  }

  async close(): Promise<void> {
    await this.flush()
    this.closed = true
  }
}
