// The coordinator's screen: sign in to one of her nodes with its node key or an admin key
// (NIP-98, signed for the URL the node advertises), then its terms, income and dev tax over
// time, each SWAP peer's balance over time with peers out of bounds highlighted,
// subscriptions, payments and the cheques not cashed, and the node's health from /metrics.
import {
  type BillingHistory,
  type BillingReport,
  type SecretKeyOrSigner,
  getBilling,
  getBillingHistory,
  getFederation,
  getTerms,
  nip07Signer,
  httpUrlOf,
} from '@hansa/client'
import type { Terms } from '@hansa/protocol'
import { useState } from 'react'
import { servingNodeUrl } from '../hansa.js'
import { KeyPanel } from '../key-panel.js'
import { loadKey, nip07, short } from '../keys.js'
import { Busy, Chart, ErrorBox, Section, type Series, useAction } from '../ui.js'
import { priceText } from './directory.js'

type Loaded = {
  url: string
  terms: Terms
  report: BillingReport
  history: BillingHistory
  metrics: Record<string, number>
  /** CPU seconds since the node started, by thread (hansa_thread_cpu_seconds_total). */
  threadCpu: Record<string, number>
}

const COLORS = ['#1f5f8b', '#b3362b', '#21794a', '#8a6100', '#6a3d9a', '#e36414']

/** The Prometheus text format's plain samples (name{labels} value), summed per name. */
export function parseMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const v = Number(m[3])
    if (Number.isFinite(v)) out[m[1]!] = (out[m[1]!] ?? 0) + v
  }
  return out
}

/** hansa_thread_cpu_seconds_total's samples, user and kernel time added up, by thread. */
export function parseThreadCpu(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of text.matchAll(
    /^hansa_thread_cpu_seconds_total\{thread="([^"]+)"[^}]*\}\s+(\S+)$/gm,
  )) {
    const v = Number(m[2])
    if (Number.isFinite(v)) out[m[1]!] = (out[m[1]!] ?? 0) + v
  }
  return out
}

/** "12.3 s: event-loop 41 %, store-writer 30 %, …": each thread's share, largest first. */
function threadShares(cpu: Record<string, number>): string | null {
  const total = Object.values(cpu).reduce((a, b) => a + b, 0)
  if (total <= 0) return null
  const shares = Object.entries(cpu)
    .sort((a, b) => b[1] - a[1])
    .map(([thread, s]) => `${thread} ${Math.round((s / total) * 100)} %`)
  return `${total.toFixed(1)} s: ${shares.join(', ')}`
}

export function CoordinatorView() {
  const [key, setKey] = useState<Uint8Array | null>(() => loadKey('coordinator'))
  const [url, setUrl] = useState(servingNodeUrl())
  const [data, setData] = useState<Loaded | null>(null)
  const { busy, error, run } = useAction()
  const signer = nip07()
  const load = (viaSigner = false) =>
    run('Signing in to the node and reading its books…', async () => {
      // The signer's events are checked as its key's (nip07Signer), like any from outside.
      const auth: SecretKeyOrSigner | null = viaSigner && signer ? await nip07Signer(signer) : key
      if (auth === null)
        throw Object.assign(new Error('no coordinator key'), { code: 'HANSA_NO_KEY' })
      const info = await getFederation(url.trim(), { timeoutMs: 5000 })
      // NIP-98 names the URL the node advertises (its public URL), not the one typed here.
      const advertised = info.node.url
      const [{ terms }, report, history, metricsText] = await Promise.all([
        getTerms(advertised, info.node.pubkey),
        getBilling(advertised, auth),
        getBillingHistory(advertised, auth),
        fetch(`${httpUrlOf(advertised)}/metrics`).then((r) => r.text()),
      ])
      setData({
        url: advertised,
        terms,
        report,
        history,
        metrics: parseMetrics(metricsText),
        threadCpu: parseThreadCpu(metricsText),
      })
    })
  return (
    <>
      <KeyPanel
        keyRole="coordinator"
        title="Coordinator key (the node key or an admin key)"
        importLabel="paste the node key (node.key) or an admin key"
        onChange={setKey}
      />
      <Section title="Your node">
        <div className="row wrap">
          <input
            className="grow"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="coordinator-url"
          />
          {signer && (
            <button
              type="button"
              className="secondary"
              disabled={busy !== null}
              onClick={() => void load(true)}
              data-testid="coordinator-load-nip07"
            >
              Open with the browser signer (NIP-07)
            </button>
          )}
          <button
            type="button"
            disabled={busy !== null || key === null}
            onClick={() => void load()}
            data-testid="coordinator-load"
          >
            Open the books
          </button>
        </div>
        <Busy label={busy} />
        <ErrorBox error={error} />
      </Section>
      {data && <Books data={data} />}
    </>
  )
}

function Books({ data }: { data: Loaded }) {
  const { report, history, terms, metrics, threadCpu } = data
  const unit = report.unit
  const times = history.points.map((p) => p.at)
  const num = (k: string) =>
    history.points.map((p) => (p.values[k] === undefined ? null : Number(p.values[k])))
  const money: Series[] = [
    { label: `received (${unit})`, values: num('received'), color: COLORS[0]! },
    { label: `income (${unit})`, values: num('income'), color: COLORS[2]! },
    { label: `dev tax (${unit})`, values: num('devTax'), color: COLORS[3]! },
    { label: `dev tax due (${unit})`, values: num('devTaxDue'), color: COLORS[1]! },
  ]
  const peers = [
    ...new Set(
      history.points.flatMap((p) => Object.keys(p.values).filter((k) => k.startsWith('balance:'))),
    ),
  ].slice(0, 6)
  const out = new Set((report.swap?.outOfBounds ?? []).map((o) => o.peer))
  // Red is kept for peers out of bounds; a peer's balance before it first appears is 0.
  const calm = COLORS.filter((c) => c !== '#b3362b')
  const balances: Series[] = peers.map((k, i) => ({
    label: `${out.has(k.slice(8)) ? '⚠ ' : ''}${short(k.slice(8), 6)}`,
    values: num(k).map((v, at) =>
      v === null && at < history.points.findIndex((p) => p.values[k] !== undefined) ? 0 : v,
    ),
    color: out.has(k.slice(8)) ? '#b3362b' : calm[i % calm.length]!,
  }))
  const avg = (name: string) =>
    metrics[`${name}_count`]
      ? ((metrics[`${name}_sum`] ?? 0) / metrics[`${name}_count`]!) * 1000
      : null
  return (
    <>
      <Section title={`Books of ${short(report.node)} · ${data.url}`}>
        <dl className="facts" data-testid="coordinator-totals">
          <dt>Received</dt>
          <dd data-testid="received">
            {report.totals.received} {unit} in {report.totals.payments} payment(s)
          </dd>
          <dt>Income</dt>
          <dd data-testid="income">
            {report.totals.income} {unit}
          </dd>
          <dt>Dev tax</dt>
          <dd>
            {report.totals.devTax} {unit} booked ({report.devTax.rate}), {report.totals.devTaxPaid}{' '}
            paid, {report.totals.devTaxDue} due
          </dd>
          <dt>Rail</dt>
          <dd>{report.rail}</dd>
          <dt>Terms</dt>
          <dd>
            {Object.entries(terms.services).map(([s, t]) => (
              <div key={s}>
                {s}: {priceText(t)}
              </div>
            ))}
          </dd>
        </dl>
        {times.length > 0 ? (
          <Chart title="Income and dev tax over time" times={times} series={money} />
        ) : (
          <p className="muted">
            No samples yet: the node samples its books every {history.sampleSeconds} s.
          </p>
        )}
        <Chart
          title="Active subscriptions and cheques"
          times={times}
          series={[
            { label: 'subscriptions', values: num('subscriptionsActive'), color: COLORS[0]! },
            { label: 'cheques', values: num('cheques'), color: COLORS[4]! },
          ]}
          height={160}
        />
      </Section>
      <Section title="SWAP peers">
        {report.swap === null ? (
          <p className="muted">
            No service on this node is metered, so no peer keeps a balance here.
          </p>
        ) : (
          <>
            <p className="muted">
              Mode {report.swap.mode}; payment threshold {report.swap.paymentThreshold} {unit},
              disconnect threshold {report.swap.disconnectThreshold} {unit}. Peers out of bounds are
              red.
            </p>
            {balances.length > 0 && (
              <Chart title="Balance per peer over time" times={times} series={balances} />
            )}
            <div className="scroll">
              <table data-testid="swap-peers">
                <thead>
                  <tr>
                    <th>Peer</th>
                    <th>Balance</th>
                    <th>Charged</th>
                    <th>Paid</th>
                    <th>Requests</th>
                    <th>Bounds</th>
                  </tr>
                </thead>
                <tbody>
                  {report.swap.peers.map((p) => (
                    <tr key={p.peer} className={p.bounds !== 'within' ? 'out-of-bounds' : ''}>
                      <td>
                        <code>{short(p.peer)}</code>
                      </td>
                      <td>{p.balance}</td>
                      <td>{p.charged}</td>
                      <td>{p.paid}</td>
                      <td>{p.requests}</td>
                      <td>{p.bounds === 'within' ? 'within' : `out of bounds (${p.bounds})`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Section>
      <Section title="Subscriptions, payments, cheques">
        <p>
          Active:{' '}
          {Object.entries(report.subscriptions.active)
            .map(([s, n]) => `${s} ${n}`)
            .join(', ') || 'none'}{' '}
          · cheques received: {report.cheques}
          {report.rail === 'ledger'
            ? `, none cashed (the ledger rail keeps cheques on trust: ${report.cheques} uncashed)`
            : ''}
        </p>
        <div className="scroll">
          <table data-testid="payments">
            <thead>
              <tr>
                <th>When</th>
                <th>Peer</th>
                <th>Purpose</th>
                <th>Amount</th>
                <th>Income</th>
                <th>Dev tax</th>
              </tr>
            </thead>
            <tbody>
              {report.recentPayments.map((p) => (
                <tr key={p.id}>
                  <td>{new Date(p.at * 1000).toLocaleString()}</td>
                  <td>
                    <code>{short(p.peer)}</code>
                  </td>
                  <td>
                    {p.purpose}
                    {p.service ? ` · ${p.service}` : ''}
                  </td>
                  <td>{p.amount}</td>
                  <td>{p.income}</td>
                  <td>{p.devTax}</td>
                </tr>
              ))}
              {report.recentPayments.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No payments yet.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>Subscription</th>
                <th>Service</th>
                <th>Owner</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {report.subscriptions.list.map((s) => (
                <tr key={s.id}>
                  <td>
                    <code>{short(s.id)}</code>
                  </td>
                  <td>{s.service}</td>
                  <td>
                    <code>{short(s.owner)}</code>
                  </td>
                  <td>{s.expires}</td>
                  <td>{s.active ? 'active' : 'expired'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title="Health">
        <dl className="facts" data-testid="health">
          <dt>Connections</dt>
          <dd>{metrics.hansa_connections ?? '—'}</dd>
          <dt>Stored events</dt>
          <dd>
            {metrics.hansa_stored_events ?? '—'} (
            {Math.round((metrics.hansa_stored_bytes ?? 0) / 1024)} KB)
          </dd>
          <dt>Events received</dt>
          <dd>{metrics.hansa_events_received_total ?? '—'}</dd>
          <dt>Event to OK, mean</dt>
          <dd>{avg('hansa_event_ok_duration_seconds')?.toFixed(2) ?? '—'} ms</dd>
          <dt>Query, mean</dt>
          <dd>{avg('hansa_query_duration_seconds')?.toFixed(2) ?? '—'} ms</dd>
          <dt>Orders</dt>
          <dd>{metrics.hansa_orderbook_orders ?? '—'}</dd>
          <dt>Peers out of bounds</dt>
          <dd>{metrics.hansa_swap_out_of_bounds_peers ?? 0}</dd>
          <dt>CPU since start, by thread</dt>
          <dd data-testid="thread-cpu">{threadShares(threadCpu) ?? '—'}</dd>
        </dl>
        <Chart
          title="Open connections"
          times={times}
          series={[{ label: 'connections', values: num('connections'), color: COLORS[0]! }]}
          height={140}
        />
      </Section>
    </>
  )
}
