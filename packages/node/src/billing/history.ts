// The books over time, for the coordinator's plots (the web app's Coordinator screen): a small
// time series the node samples itself — totals received, income, dev tax booked and due,
// payments, active subscriptions, cheques, out-of-bounds peers, open connections, and each
// SWAP peer's balance — every `sampleSeconds`, kept `retentionDays` (billing.history.* options,
// history-options.ts), in `history.sqlite` in
// the data folder (its own file: the books in billing.sqlite stay the only record of money;
// this one can be deleted at any time and only the plots lose their past).
//
// Bounded: one row per series per sample; at most MAX_PEERS peer balances per sample (the
// largest by magnitude, out-of-bounds peers first); old rows pruned at every sample.
import { join } from 'node:path'
import Database from 'better-sqlite3'

export type HistorySnapshot = {
  totals: Record<string, string | number>
  /** peer → balance (decimal string, base units) */
  balances: Record<string, string>
  outOfBounds: string[]
}

export type HistoryPoint = { at: number; values: Record<string, string> }

export const MAX_PEERS = 50
const MAX_POINTS = 2000

export class BillingHistory {
  private readonly db: Database.Database
  private readonly insert: Database.Statement
  private timer: NodeJS.Timeout | null = null

  constructor(
    dataDir: string,
    private readonly options: {
      /** undefined: nothing read yet (billing in PostgreSQL, before its first report). */
      snapshot: () => HistorySnapshot | undefined
      now: () => number
      sampleSeconds?: number
      retentionDays?: number
    },
  ) {
    this.db = new Database(join(dataDir, 'history.sqlite'))
    this.db.pragma('journal_mode = WAL')
    this.db.exec(`CREATE TABLE IF NOT EXISTS samples (
      at INTEGER NOT NULL, series TEXT NOT NULL, value TEXT NOT NULL,
      PRIMARY KEY (series, at)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS samples_at ON samples (at);`)
    this.insert = this.db.prepare(
      'INSERT OR REPLACE INTO samples (at, series, value) VALUES (?, ?, ?)',
    )
  }

  /** Seconds between two samples (billing.history.sampleSeconds). */
  get sampleSeconds(): number {
    return this.options.sampleSeconds ?? 15
  }

  start(): void {
    this.sample()
    const ms = this.sampleSeconds * 1000
    this.timer = setInterval(() => this.sample(), ms)
    this.timer.unref()
  }

  /** Records one sample now (also called by tests and before answering, so the last point is current). */
  sample(): void {
    const at = this.options.now()
    const s = this.options.snapshot()
    if (s === undefined) return
    const rows: [string, string][] = Object.entries(s.totals).map(([k, v]) => [k, String(v)])
    const abs = (x: string) => (x.startsWith('-') ? BigInt(x.slice(1)) : BigInt(x))
    const peers = Object.entries(s.balances)
      .sort(([pa, a], [pb, b]) => {
        const oa = s.outOfBounds.includes(pa) ? 1 : 0
        const ob = s.outOfBounds.includes(pb) ? 1 : 0
        if (oa !== ob) return ob - oa
        const d = abs(b) - abs(a)
        return d > 0n ? 1 : d < 0n ? -1 : 0
      })
      .slice(0, MAX_PEERS)
    for (const [peer, balance] of peers) rows.push([`balance:${peer}`, balance])
    const cutoff = at - (this.options.retentionDays ?? 30) * 86_400
    this.db.transaction(() => {
      for (const [series, value] of rows) this.insert.run(at, series, value)
      this.db.prepare('DELETE FROM samples WHERE at < ?').run(cutoff)
    })()
  }

  /** Points since `since` (unix seconds), oldest first, thinned to at most MAX_POINTS. */
  points(since = 0): HistoryPoint[] {
    const rows = this.db
      .prepare('SELECT at, series, value FROM samples WHERE at >= ? ORDER BY at')
      .all(since) as { at: number; series: string; value: string }[]
    const byAt = new Map<number, Record<string, string>>()
    for (const r of rows) {
      const values = byAt.get(r.at) ?? {}
      values[r.series] = r.value
      byAt.set(r.at, values)
    }
    const all = [...byAt.entries()].map(([at, values]) => ({ at, values }))
    if (all.length <= MAX_POINTS) return all
    const step = all.length / MAX_POINTS
    return Array.from({ length: MAX_POINTS }, (_, i) => all[Math.floor(i * step)]!).concat(
      all[all.length - 1]!,
    )
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.db.close()
  }
}

/** What is sampled, from the books' report and the relay's open connections. */
export function billingSnapshot(
  report: {
    totals: Record<string, string | number>
    subscriptions: { active: Record<string, number> }
    cheques: number
    swap: { peers: { peer: string; balance: string }[]; outOfBounds: { peer: string }[] } | null
  },
  connections: number,
): HistorySnapshot {
  const active = Object.values(report.subscriptions.active).reduce((a, b) => a + b, 0)
  return {
    totals: {
      received: report.totals.received ?? '0',
      income: report.totals.income ?? '0',
      devTax: report.totals.devTax ?? '0',
      devTaxDue: report.totals.devTaxDue ?? '0',
      payments: report.totals.payments ?? 0,
      subscriptionsActive: active,
      cheques: report.cheques,
      outOfBounds: report.swap?.outOfBounds.length ?? 0,
      connections,
    },
    balances: Object.fromEntries((report.swap?.peers ?? []).map((p) => [p.peer, p.balance])),
    outOfBounds: (report.swap?.outOfBounds ?? []).map((p) => p.peer),
  }
}
