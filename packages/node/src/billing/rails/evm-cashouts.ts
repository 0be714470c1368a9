// Hard mode's cash-outs: the node cashes the latest cheque of each chequebook on chain itself,
// with what Bee's users missed built in —
//  - it cashes only when what is uncashed is worth more than `gasMultiple` times the gas a
//    cash-out costs (priced with billing.evm.unitsPerEth), so gas never eats the income;
//  - every step is written to `settlement.sqlite` before the next (waiting → sending → sent →
//    cashed/bounced, or failed → retried), so a restart resumes: a `sent` transaction is
//    looked up by hash, a `sending` one by the chequebook's ChequeCashed events;
//  - cheques are cumulative and the chequebook pays only the rise over what it paid, so a
//    retry can never cash twice;
//  - a cheque the chequebook could not cover (ChequeBounced) is handed back as a shortfall,
//    which billing turns into the peer's debt; money recovered later is handed back too.
// One cash-out at a time (one nonce sequence for the node key); bounded by the table's size.
import { Chequebook, type ChainClients } from '@hansa/contracts'
import type { SignedCheque } from '@hansa/protocol'
import Database from 'better-sqlite3'
import type { Logger } from 'pino'
import { type Address, type Hex, type TransactionReceipt, getAddress, parseEventLogs } from 'viem'
import { isUnreachable } from './evm-chain.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cashouts (
  chequebook TEXT PRIMARY KEY,
  cheque TEXT NOT NULL,
  cumulative TEXT NOT NULL,
  cashed TEXT NOT NULL,
  shortfall TEXT NOT NULL,
  status TEXT NOT NULL,
  tx TEXT,
  tx_cumulative TEXT,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cashout_txs (
  tx TEXT PRIMARY KEY,
  chequebook TEXT NOT NULL,
  cumulative TEXT NOT NULL,
  paid TEXT NOT NULL,
  dev_tax TEXT NOT NULL,
  unpaid TEXT NOT NULL,
  gas_used TEXT NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;
`

type Row = {
  chequebook: string
  cheque: string
  cumulative: string
  cashed: string
  shortfall: string
  status: 'waiting' | 'sending' | 'sent' | 'failed' | 'cashed' | 'bounced'
  tx: string | null
  tx_cumulative: string | null
  attempts: number
  last_error: string | null
  updated_at: number
}

export type CashOutEvents = {
  /** A cash-out was mined: `paid` moved, `devTax` of it to the dev fund. */
  onCashed(chequebook: string, tx: string, paid: bigint, devTax: bigint): void
  /** What the chequebook failed to pay changed by `delta` (> 0: a bounce; < 0: recovered). */
  onShortfall(chequebook: string, delta: bigint): void
}

export type CashOutOptions = {
  path: string
  clients: ChainClients
  node: Address
  payout: Address
  gasMultiple: number
  unitsPerEth: bigint
  log: Logger
  now: () => number
  events: CashOutEvents
}

export class CashOuts {
  private readonly db: Database.Database
  private running: Promise<void> | null = null
  private again = false
  private closed = false

  constructor(private readonly o: CashOutOptions) {
    this.db = new Database(o.path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.exec(SCHEMA)
  }

  /** A credited cheque: remember it as the one to cash for its chequebook (the highest wins). */
  enqueue(cheque: SignedCheque): void {
    const chequebook = cheque.chequebook.toLowerCase()
    const row = this.row(chequebook)
    const cumulative = BigInt(cheque.cumulativePayout)
    if (row && BigInt(row.cumulative) >= cumulative) return
    this.db
      .prepare(
        `INSERT INTO cashouts (chequebook, cheque, cumulative, cashed, shortfall, status, attempts, updated_at)
         VALUES (?, ?, ?, '0', '0', 'waiting', 0, ?)
         ON CONFLICT (chequebook) DO UPDATE SET cheque = excluded.cheque, cumulative = excluded.cumulative,
           status = CASE WHEN status IN ('sending', 'sent') THEN status ELSE 'waiting' END,
           updated_at = excluded.updated_at`,
      )
      .run(chequebook, JSON.stringify(cheque), cumulative.toString(), this.o.now())
    this.kick()
  }

  /** Runs a pass (now, or right after the one running). */
  kick(): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      try {
        do {
          this.again = false
          await this.pass().catch((err) =>
            this.o.log.error({ err }, 'settlement: cash-out pass failed'),
          )
        } while (this.again && !this.closed)
      } finally {
        this.running = null
      }
    })()
    return this.running
  }

  /** Waits for the pass in progress. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  private row(chequebook: string): Row | undefined {
    return this.db.prepare('SELECT * FROM cashouts WHERE chequebook = ?').get(chequebook) as
      | Row
      | undefined
  }

  private update(chequebook: string, fields: Partial<Row>): void {
    if (!this.db.open) return
    const keys = Object.keys(fields)
    this.db
      .prepare(
        `UPDATE cashouts SET ${keys.map((k) => `${k} = @${k}`).join(', ')}, updated_at = @updated_at WHERE chequebook = @chequebook`,
      )
      .run({ ...fields, chequebook, updated_at: this.o.now() })
  }

  /** One look at every chequebook with something uncashed or in flight. */
  private async pass(): Promise<void> {
    if (!this.db.open) return
    const rows = this.db
      .prepare(
        `SELECT * FROM cashouts WHERE status IN ('waiting', 'failed', 'sending', 'sent')
           OR (status = 'bounced' AND CAST(cumulative AS NUMERIC) > CAST(cashed AS NUMERIC))
         ORDER BY updated_at LIMIT 1000`,
      )
      .all() as Row[]
    for (const row of rows) {
      if (this.closed) return
      try {
        await this.step(row)
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
        this.update(row.chequebook, {
          status: row.status === 'sent' ? 'sent' : 'failed',
          attempts: row.attempts + 1,
          last_error: message.slice(0, 300),
        })
        this.o.log.warn(
          {
            chequebook: row.chequebook,
            attempts: row.attempts + 1,
            err: message,
            unreachable: isUnreachable(error),
          },
          'settlement: cash-out failed; it is retried',
        )
      }
    }
  }

  private read<T>(chequebook: string, functionName: string, args: unknown[]): Promise<T> {
    return this.o.clients.publicClient.readContract({
      address: chequebook as Address,
      abi: Chequebook.abi,
      functionName,
      args,
    } as never) as Promise<T>
  }

  private async step(row: Row): Promise<void> {
    const { publicClient, walletClient } = this.o.clients
    const chequebook = row.chequebook
    if (row.status === 'sent' && row.tx) {
      const receipt = await publicClient
        .getTransactionReceipt({ hash: row.tx as Hex })
        .catch((e) => {
          if (isUnreachable(e)) throw e
          return null
        })
      if (receipt) return this.settled(row, receipt)
      const known = await publicClient.getTransaction({ hash: row.tx as Hex }).catch((e) => {
        if (isUnreachable(e)) throw e
        return null
      })
      if (known) return // still in the mempool
      this.update(chequebook, { status: 'waiting', tx: null, last_error: 'transaction dropped' })
      return
    }
    if (row.status === 'sending') {
      // the node stopped between sending and writing the hash: find it by its event
      const paidOut = await this.read<bigint>(chequebook, 'paidOut', [this.o.node])
      if (paidOut > BigInt(row.cashed)) {
        const logs = await publicClient.getContractEvents({
          address: chequebook as Address,
          abi: Chequebook.abi,
          eventName: 'ChequeCashed',
          args: { beneficiary: this.o.node },
          fromBlock: 0n,
        })
        const last = logs.at(-1)
        if (last?.transactionHash) {
          const receipt = await publicClient.getTransactionReceipt({ hash: last.transactionHash })
          return this.settled(
            { ...row, tx_cumulative: String(last.args.cumulativePayout) },
            receipt,
          )
        }
      }
      this.update(chequebook, { status: 'waiting' })
      return
    }
    const cheque = JSON.parse(row.cheque) as SignedCheque
    const cumulative = BigInt(cheque.cumulativePayout)
    const [paidOut, available] = await Promise.all([
      this.read<bigint>(chequebook, 'paidOut', [this.o.node]),
      this.read<bigint>(chequebook, 'liquidBalanceFor', [this.o.node]),
    ])
    if (paidOut >= cumulative) {
      this.update(chequebook, { status: 'cashed', cashed: paidOut.toString() })
      return
    }
    const uncashed = cumulative - paidOut
    const worth = uncashed < available ? uncashed : available
    // A chequebook that can no longer cover what it owes is cashed at once, whatever the gas:
    // what it still holds is taken before it goes elsewhere, and the bounce is on record.
    const bouncing = available < uncashed && row.status !== 'bounced'
    if (worth === 0n && !bouncing) return
    const call = {
      address: chequebook as Address,
      abi: Chequebook.abi,
      functionName: 'cashChequeBeneficiary',
      args: [this.o.payout, cumulative, cheque.signature as Hex],
      account: walletClient!.account,
    } as const
    const gas = await publicClient.estimateContractGas(call)
    if (!bouncing && this.o.unitsPerEth > 0n && this.o.gasMultiple > 0) {
      const gasPrice = await publicClient.getGasPrice()
      const cost = (gas * gasPrice * this.o.unitsPerEth) / 10n ** 18n
      const threshold = (cost * BigInt(Math.round(this.o.gasMultiple * 1000))) / 1000n
      if (worth <= threshold) {
        this.update(chequebook, { status: row.status === 'bounced' ? 'bounced' : 'waiting' })
        return
      }
    }
    this.update(chequebook, { status: 'sending', tx_cumulative: cumulative.toString() })
    const hash = await walletClient!.writeContract({ ...call, gas: (gas * 12n) / 10n, chain: null })
    this.update(chequebook, { status: 'sent', tx: hash })
    this.o.log.info(
      { chequebook, cumulative: cumulative.toString(), tx: hash },
      'settlement: cash-out sent',
    )
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 })
    await this.settled(
      { ...row, status: 'sent', tx: hash, tx_cumulative: cumulative.toString() },
      receipt,
    )
  }

  private async settled(row: Row, receipt: TransactionReceipt): Promise<void> {
    const chequebook = row.chequebook
    if (receipt.status !== 'success') {
      this.update(chequebook, {
        status: 'failed',
        tx: null,
        attempts: row.attempts + 1,
        last_error: `cash-out ${receipt.transactionHash} reverted`,
      })
      return
    }
    const logs = parseEventLogs({ abi: Chequebook.abi, logs: receipt.logs }).filter(
      (l) => getAddress(l.address) === getAddress(chequebook),
    )
    let paid = 0n
    let devTax = 0n
    let unpaid = 0n
    for (const l of logs) {
      if (l.eventName === 'ChequeCashed') {
        paid = l.args.paid
        devTax = l.args.devTax
      } else if (l.eventName === 'ChequeBounced') unpaid = l.args.unpaid
    }
    const paidOut = await this.read<bigint>(chequebook, 'paidOut', [this.o.node])
    const oldShortfall = BigInt(row.shortfall)
    const txCumulative = BigInt(row.tx_cumulative ?? row.cumulative)
    const shortfall = txCumulative > paidOut ? txCumulative - paidOut : 0n
    const cumulative = BigInt(row.cumulative)
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO cashout_txs (tx, chequebook, cumulative, paid, dev_tax, unpaid, gas_used, at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          receipt.transactionHash,
          chequebook,
          txCumulative.toString(),
          paid.toString(),
          devTax.toString(),
          unpaid.toString(),
          receipt.gasUsed.toString(),
          this.o.now(),
        )
      this.update(chequebook, {
        status: shortfall > 0n ? 'bounced' : cumulative > paidOut ? 'waiting' : 'cashed',
        cashed: paidOut.toString(),
        shortfall: shortfall.toString(),
        tx: null,
        attempts: 0,
        last_error: null,
      })
    })()
    this.o.log.info(
      {
        chequebook,
        tx: receipt.transactionHash,
        paid: paid.toString(),
        devTax: devTax.toString(),
        unpaid: unpaid.toString(),
      },
      unpaid > 0n ? 'settlement: cheque bounced' : 'settlement: cheque cashed',
    )
    if (paid > 0n) this.o.events.onCashed(chequebook, receipt.transactionHash, paid, devTax)
    if (shortfall !== oldShortfall) this.o.events.onShortfall(chequebook, shortfall - oldShortfall)
  }

  /** What is uncashed, cashed and bounced, with the transactions. */
  report() {
    const rows = this.db.prepare('SELECT * FROM cashouts ORDER BY updated_at DESC').all() as Row[]
    const txs = this.db
      .prepare('SELECT * FROM cashout_txs ORDER BY at DESC LIMIT 100')
      .all() as Array<Record<string, string | number>>
    let uncashed = 0n
    let bounced = 0n
    for (const r of rows) {
      const open = BigInt(r.cumulative) - BigInt(r.cashed) - BigInt(r.shortfall)
      if (open > 0n) uncashed += open
      bounced += BigInt(r.shortfall)
    }
    const sums = this.db.prepare('SELECT paid, dev_tax FROM cashout_txs').all() as Array<{
      paid: string
      dev_tax: string
    }>
    let cashed = 0n
    let devTax = 0n
    for (const s of sums) {
      cashed += BigInt(s.paid)
      devTax += BigInt(s.dev_tax)
    }
    return {
      uncashed: uncashed.toString(),
      cashed: cashed.toString(),
      cashedDevTax: devTax.toString(),
      bounced: bounced.toString(),
      chequebooks: rows.map((r) => ({
        chequebook: r.chequebook,
        cumulative: r.cumulative,
        cashed: r.cashed,
        bounced: r.shortfall,
        status: r.status,
        tx: r.tx,
        attempts: r.attempts,
        lastError: r.last_error,
      })),
      cashOuts: txs.map((t) => ({
        tx: t.tx,
        chequebook: t.chequebook,
        cumulative: t.cumulative,
        paid: t.paid,
        devTax: t.dev_tax,
        bounced: t.unpaid,
        gasUsed: t.gas_used,
        at: t.at,
      })),
    }
  }

  /** Stops; a cash-out waiting for its receipt is left `sent` and looked up after a restart. */
  async close(): Promise<void> {
    this.closed = true
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.idle().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 3000)
      }),
    ])
    clearTimeout(timer)
    if (this.db.open) this.db.close()
  }
}
