// The node directory: a card per coordinator of the joined federation (RoboSats's coordinator
// dialog: alias, description, contact, badges, policies) with its nodes — terms, rails, dev
// tax, round trip, online or stale with the last time it answered, manifest and registry
// status — sortable and filterable, a trust toggle per coordinator, the user's own nodes, and
// subscribing to a node.
import {
  type HansaClient,
  type NodeReport,
  type RegistryReport,
  addCustomNode,
  coordinatorEnabled,
  monthlyCost,
  removeCustomNode,
  setCoordinator,
} from '@hansa/client'
import type { ManifestCoordinator, ServiceTerms, Terms } from '@hansa/protocol'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { railsFor } from '../pay-rails.js'
import { ChequebookPanel } from './chequebook.js'
import { readJson, writeJson } from '../store.js'
import { Busy, ErrorBox, type Sort, SortHeader, ago, compareBy, useAction } from '../ui.js'
import { short } from '../keys.js'

type SortKey = 'alias' | 'price' | 'rtt' | 'devtax' | 'online'

export function priceText(t: ServiceTerms | undefined): string {
  if (t === undefined || t.access === 'free') return 'free'
  if (t.access === 'subscription') {
    const days = Math.round(t.periodSeconds / 86400)
    return `${t.price} ${t.unit} per ${days === 1 ? 'day' : `${days} days`} (1–${t.maxPeriods} periods)`
  }
  return `metered: ${t.prices.query} ${t.unit}/query, ${t.prices.event}/event, ${t.prices.kilobyte}/KB (${t.swap})`
}

const devTaxText = (terms: Terms | null) =>
  terms === null
    ? '—'
    : `${(terms.devTax.rateBps / 100).toFixed(terms.devTax.rateBps % 100 ? 2 : 0)} %`

const isDown = (n: NodeReport) =>
  n.rttMs === null || /unreachable|cannot|timed out/i.test(n.reason ?? '')

/** Unix seconds each node URL last answered, remembered in this browser. */
type LastSeen = Record<string, number>

/** The on-chain registry as the last check read it (through the browser's wallet), or why not. */
type RegistryView = { report: RegistryReport | null; error: string | null }

/** A node's registry line: listed or not, and the registry's head against the manifest's. */
function registryText(n: NodeReport, registry: RegistryView): string {
  const { report } = registry
  if (report && n.pubkey) {
    const at = report.anchored ? ` at version ${report.anchored.version}` : ''
    const listed = report.listed[n.pubkey] ? 'listed' : 'not listed'
    return `${listed} · registry ${report.state}${at} (chain ${report.chainId})`
  }
  if (registry.error) return `not read: ${registry.error}`
  if (n.terms?.settlement.rails.includes('evm')) {
    return `on chain ${n.terms.settlement.chainId}: no Ethereum wallet in this browser to read it with`
  }
  return 'none on this rail (the signed manifest is the registry)'
}

export function DirectoryView(props: {
  client: HansaClient
  version: number
  onLeave: () => void
}) {
  const { client } = props
  const state = client.store.load()
  const manifest = state.federation?.head?.signed.manifest ?? null
  const [nodes, setNodes] = useState<NodeReport[] | null>(null)
  const [registry, setRegistry] = useState<RegistryView>({ report: null, error: null })
  const [lastSeen, setLastSeen] = useState<LastSeen>(() => readJson('lastSeen', {}))
  const [sort, setSort] = useState<Sort<SortKey>>({ key: 'alias', dir: 1 })
  const [service, setService] = useState('all')
  const [text, setText] = useState('')
  const [onlineOnly, setOnlineOnly] = useState(false)
  const [trust, setTrust] = useState(() => client.trustList())
  const [paying, setPaying] = useState<NodeReport | null>(null)
  const { busy, error, run } = useAction()

  const load = useCallback(
    () =>
      run('Checking every node: signed terms, key proof, membership…', async () => {
        const result = await client.listNodes({ refresh: true })
        const seen = { ...readJson<LastSeen>('lastSeen', {}) }
        for (const n of result.nodes) if (!isDown(n)) seen[n.url] = n.checkedAt
        writeJson('lastSeen', seen)
        setLastSeen(seen)
        setNodes(result.nodes)
        setRegistry({ report: result.registry, error: result.registryError })
        const w = window as unknown as { __hansaTimings?: Record<string, number> }
        w.__hansaTimings ??= {}
        w.__hansaTimings.directoryMs ??= Math.round(performance.now())
      }),
    [client, run],
  )
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new version asks for a fresh check
  useEffect(() => {
    void load()
  }, [load, props.version])

  const editTrust = (edit: Parameters<HansaClient['updateTrust']>[0]) => {
    setTrust(client.updateTrust(edit))
    setNodes([...client.runtime.reports])
  }

  const cards = useMemo(() => {
    const list = (nodes ?? []).filter(
      (n) =>
        (service === 'all' || n.services.includes(service)) &&
        (!onlineOnly || !isDown(n)) &&
        (text === '' ||
          `${n.url} ${n.coordinator?.alias ?? ''} ${n.pubkey ?? ''}`
            .toLowerCase()
            .includes(text.toLowerCase())),
    )
    const groups = new Map<
      string,
      {
        entry: ManifestCoordinator | null
        alias: string
        pubkey: string | null
        nodes: NodeReport[]
      }
    >()
    for (const c of manifest?.coordinators ?? []) {
      groups.set(c.pubkey, { entry: c, alias: c.alias, pubkey: c.pubkey, nodes: [] })
    }
    for (const n of list) {
      // A node that does not answer names no coordinator itself: the manifest still does.
      const listedBy = manifest?.coordinators.find((c) =>
        c.nodes.some((x) => x.pubkey === n.pubkey || x.urls.includes(n.url)),
      )
      const key =
        n.coordinator?.pubkey ?? listedBy?.pubkey ?? (n.status === 'custom' ? 'own' : 'other')
      const g = groups.get(key) ?? {
        entry: null,
        alias: key === 'own' ? 'Your own nodes' : 'Not in the federation',
        pubkey: null,
        nodes: [],
      }
      g.nodes.push(n)
      groups.set(key, g)
    }
    const svc = service === 'all' ? 'inbox' : service
    const price = (g: { nodes: NodeReport[] }) => {
      const costs = g.nodes.map((n) => Number(monthlyCost(n.terms?.services[svc]).amount))
      return costs.length ? Math.min(...costs) : null
    }
    const rtt = (g: { nodes: NodeReport[] }) => {
      const r = g.nodes.map((n) => n.rttMs).filter((x): x is number => x !== null)
      return r.length ? Math.min(...r) : null
    }
    const devtax = (g: { nodes: NodeReport[] }) =>
      g.nodes.find((n) => n.terms)?.terms?.devTax.rateBps ?? null
    const value = (g: { alias: string; nodes: NodeReport[] }) =>
      sort.key === 'alias'
        ? g.alias.toLowerCase()
        : sort.key === 'price'
          ? price(g)
          : sort.key === 'rtt'
            ? rtt(g)
            : sort.key === 'devtax'
              ? devtax(g)
              : g.nodes.filter((n) => !isDown(n)).length
    return [...groups.values()]
      .filter((g) => g.nodes.length > 0 || (service === 'all' && text === '' && !onlineOnly))
      .sort(compareBy(value, sort.dir))
  }, [nodes, manifest, service, text, onlineOnly, sort])

  return (
    <>
      <section className="panel">
        <h2>
          Nodes of {state.federation?.name ?? 'the federation'}{' '}
          <small className="muted">manifest version {manifest?.version ?? '?'}</small>
        </h2>
        <div className="row wrap filters">
          <label>
            Service{' '}
            <select
              value={service}
              onChange={(e) => setService(e.target.value)}
              data-testid="filter-service"
            >
              <option value="all">all</option>
              <option value="inbox">inbox</option>
              <option value="orderbook">order book</option>
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              checked={onlineOnly}
              onChange={(e) => setOnlineOnly(e.target.checked)}
            />{' '}
            online only
          </label>
          <input
            placeholder="filter by name, URL, key"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button
            type="button"
            className="secondary"
            onClick={() => void load()}
            disabled={busy !== null}
          >
            Check again
          </button>
        </div>
        <table className="sortbar">
          <thead>
            <tr>
              <SortHeader label="Name" k="alias" sort={sort} setSort={setSort} />
              <SortHeader label="Price" k="price" sort={sort} setSort={setSort} />
              <SortHeader label="Round trip" k="rtt" sort={sort} setSort={setSort} />
              <SortHeader label="Dev tax" k="devtax" sort={sort} setSort={setSort} />
              <SortHeader label="Online" k="online" sort={sort} setSort={setSort} />
            </tr>
          </thead>
        </table>
        <Busy label={busy} />
        <ErrorBox error={error} />
      </section>
      <div className="cards" data-testid="directory">
        {cards.map((g) => (
          <CoordinatorCard
            key={g.pubkey ?? g.alias}
            alias={g.alias}
            pubkey={g.pubkey}
            entry={g.entry}
            nodes={g.nodes}
            manifestVersion={manifest?.version ?? null}
            enabled={g.pubkey === null ? true : coordinatorEnabled(trust, g.pubkey)}
            onToggle={
              g.pubkey === null
                ? undefined
                : (on) =>
                    editTrust((l) => setCoordinator(l, g.pubkey!, on ? 'enabled' : 'disabled'))
            }
            lastSeen={lastSeen}
            registry={registry}
            onSubscribe={setPaying}
            onRemoveOwn={(url) => editTrust((l) => removeCustomNode(l, url))}
            inboxRelays={client.store.load().inboxRelays}
          />
        ))}
      </div>
      <OwnNodes
        onAdd={(url, pubkey) => {
          editTrust((l) => addCustomNode(l, { url, ...(pubkey ? { pubkey } : {}) }))
          void load()
        }}
      />
      {paying && <PayDialog client={client} node={paying} onClose={() => setPaying(null)} />}
      <p className="muted">
        <button
          type="button"
          className="link"
          onClick={() => {
            if (confirm('Leave this federation in this browser? Your key stays.')) {
              client.store.save({ ...client.store.load(), federation: null })
              props.onLeave()
            }
          }}
        >
          Leave this federation
        </button>
      </p>
    </>
  )
}

function CoordinatorCard(props: {
  alias: string
  pubkey: string | null
  entry: ManifestCoordinator | null
  nodes: NodeReport[]
  manifestVersion: number | null
  enabled: boolean
  onToggle: ((on: boolean) => void) | undefined
  lastSeen: LastSeen
  registry: RegistryView
  onSubscribe: (n: NodeReport) => void
  onRemoveOwn: (url: string) => void
  inboxRelays: string[]
}) {
  const { entry } = props
  const online = props.nodes.filter((n) => !isDown(n)).length
  const terms = props.nodes.find((n) => n.terms)?.terms ?? null
  return (
    <article
      className={`card ${props.enabled ? '' : 'disabled'}`}
      data-testid={`coordinator-${props.alias}`}
    >
      <header>
        <div
          className="avatar"
          aria-hidden="true"
          style={{ background: colorOf(props.pubkey ?? props.alias) }}
        >
          {props.alias.slice(0, 1).toUpperCase()}
        </div>
        <div className="grow">
          <h3>{props.alias}</h3>
          {props.pubkey && <code className="muted">{short(props.pubkey)}</code>}
        </div>
        <span className={`badge ${online > 0 ? 'ok' : props.nodes.length ? 'bad' : ''}`}>
          {props.nodes.length === 0
            ? 'no nodes'
            : online > 0
              ? `${online}/${props.nodes.length} online`
              : 'offline'}
        </span>
        {props.onToggle && (
          <label className="toggle">
            <input
              type="checkbox"
              checked={props.enabled}
              onChange={(e) => props.onToggle!(e.target.checked)}
              data-testid={`trust-${props.alias}`}
            />{' '}
            trusted
          </label>
        )}
      </header>
      {entry?.description && <p>{entry.description}</p>}
      <dl className="facts">
        <dt>Dev tax</dt>
        <dd>
          {devTaxText(terms)}
          {terms?.devTax.recipient ? ` to ${short(terms.devTax.recipient)}` : ''}
        </dd>
        {entry && Object.keys(entry.contact).length > 0 && (
          <>
            <dt>Contact</dt>
            <dd>
              {Object.entries(entry.contact)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')}
            </dd>
          </>
        )}
        {entry?.badges && entry.badges.length > 0 && (
          <>
            <dt>Badges</dt>
            <dd>
              {entry.badges.map((b) => (
                <span key={b} className="badge">
                  {b}
                </span>
              ))}
            </dd>
          </>
        )}
        {entry?.policies &&
          Object.entries(entry.policies).map(([k, v]) => (
            <span key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </span>
          ))}
        <dt>Manifest</dt>
        <dd>{entry ? `member in version ${props.manifestVersion}` : 'not a member'}</dd>
      </dl>
      {props.nodes.map((n) => (
        <NodeRow
          key={n.url}
          node={n}
          lastSeen={props.lastSeen[n.url] ?? null}
          registry={props.registry}
          onSubscribe={() => props.onSubscribe(n)}
          mine={props.inboxRelays.includes(n.url)}
          onRemove={n.sources.includes('custom') ? () => props.onRemoveOwn(n.url) : undefined}
        />
      ))}
    </article>
  )
}

function NodeRow(props: {
  mine: boolean
  node: NodeReport
  lastSeen: number | null
  registry: RegistryView
  onSubscribe: () => void
  onRemove: (() => void) | undefined
}) {
  const n = props.node
  const down = isDown(n)
  const paid = Object.entries(n.terms?.services ?? {}).filter(([, t]) => t.access !== 'free')
  const rails = n.terms?.settlement.rails ?? []
  return (
    <div className={`node ${down ? 'down' : ''}`} data-testid={`node-${n.url}`}>
      <div className="row wrap">
        <code className="grow">{n.url}</code>
        {props.mine && <span className="badge ok">holds your mail</span>}
        <span
          className={`badge ${n.status === 'trusted' || n.status === 'custom' ? 'ok' : n.status === 'disabled' ? '' : 'bad'}`}
        >
          {n.status}
        </span>
        <span
          className={`badge ${down ? 'bad' : 'ok'}`}
          title={down ? `last answered ${ago(props.lastSeen)}` : ''}
        >
          {down ? `stale · last seen ${ago(props.lastSeen)}` : `online · ${n.rttMs} ms`}
        </span>
      </div>
      {n.reason && <p className="muted">{n.reason}</p>}
      <table className="terms">
        <tbody>
          {(n.services.length ? n.services : Object.keys(n.terms?.services ?? {})).map((s) => (
            <tr key={s}>
              <th>{s}</th>
              <td data-testid={`terms-${s}`}>{priceText(n.terms?.services[s])}</td>
            </tr>
          ))}
          <tr>
            <th>rails</th>
            <td>{rails.join(', ') || '—'}</td>
          </tr>
          <tr>
            <th>registry</th>
            <td data-testid={`registry-${n.url}`}>{registryText(n, props.registry)}</td>
          </tr>
          <tr>
            <th>sources</th>
            <td>
              {n.sources.join(', ')}
              {n.pubkey ? ` · key ${short(n.pubkey)}` : ''}
            </td>
          </tr>
        </tbody>
      </table>
      <div className="row">
        {paid.length > 0 && !down && (
          <button type="button" onClick={props.onSubscribe} data-testid={`subscribe-${n.url}`}>
            Subscribe…
          </button>
        )}
        {paid.length === 0 && !down && n.services.includes('inbox') && (
          <button
            type="button"
            className="secondary"
            onClick={props.onSubscribe}
            data-testid={`subscribe-${n.url}`}
          >
            Use as my inbox
          </button>
        )}
        {props.onRemove && (
          <button type="button" className="secondary" onClick={props.onRemove}>
            Remove my node
          </button>
        )}
      </div>
    </div>
  )
}

function PayDialog(props: { client: HansaClient; node: NodeReport; onClose: () => void }) {
  const n = props.node
  const services = Object.keys(n.terms?.services ?? {}).filter(
    (s) => n.services.includes(s) || s === 'inbox',
  )
  const [service, setService] = useState(
    services.includes('inbox') ? 'inbox' : (services[0] ?? 'inbox'),
  )
  const t = n.terms?.services[service]
  const [periods, setPeriods] = useState(1)
  const { usable, unsupported } = railsFor(n.terms?.settlement.rails ?? [])
  const [railName, setRailName] = useState(usable[0]?.name ?? '')
  const rail = usable.find((r) => r.name === railName)
  const [done, setDone] = useState<string | null>(null)
  const { busy, error, run, setError } = useAction()
  const total = t?.access === 'subscription' ? BigInt(t.price) * BigInt(periods) : 0n
  return (
    <div className="dialog" role="dialog" aria-label="Subscribe" data-testid="pay-dialog">
      <div className="panel">
        <h2>
          Subscribe to {n.coordinator?.alias ?? 'node'} · {n.url}
        </h2>
        <label>
          Service{' '}
          <select value={service} onChange={(e) => setService(e.target.value)}>
            {services.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <p>{priceText(t)}</p>
        {t?.access === 'subscription' && (
          <label>
            Periods{' '}
            <input
              type="number"
              min={1}
              max={t.maxPeriods}
              value={periods}
              onChange={(e) =>
                setPeriods(Math.max(1, Math.min(t.maxPeriods, Number(e.target.value) || 1)))
              }
              data-testid="periods"
            />{' '}
            ={' '}
            <strong data-testid="total">
              {total.toString()} {t.unit}
            </strong>
            , of which the dev tax is {devTaxText(n.terms)}
          </label>
        )}
        {t?.access === 'metered' && (
          <p>Nothing is paid now: cheques are sent as your use adds up.</p>
        )}
        {t?.access === 'metered' && t.swap === 'hard' && (
          <ChequebookPanel
            client={props.client}
            node={n.url}
            unit={t.unit}
            onFunded={() => setError(null)}
          />
        )}
        {t?.access !== 'metered' && (
          <p>
            Pay with{' '}
            <select
              value={railName}
              onChange={(e) => setRailName(e.target.value)}
              data-testid="rail"
            >
              {usable.map((r) => (
                <option key={r.name} value={r.name}>
                  {r.label}
                </option>
              ))}
            </select>
          </p>
        )}
        {rail && t?.access !== 'metered' && (
          <p className="muted" data-testid="rail-explain">
            {rail.explain(props.client)}
          </p>
        )}
        {unsupported.length > 0 && (
          <p className="muted">
            This node also takes {unsupported.join(', ')}, which this app cannot pay with yet.
          </p>
        )}
        {usable.length === 0 && t?.access !== 'free' && (
          <div className="error">
            This app has no payer for the rails this node takes ({unsupported.join(', ')}). Pick
            another node.
          </div>
        )}
        {done && (
          <p className="ok" data-testid="pay-done">
            {done}
          </p>
        )}
        <Busy label={busy} />
        <ErrorBox error={error} />
        <div className="row">
          <button
            type="button"
            disabled={
              busy !== null || (rail === undefined && t?.access !== 'free') || done !== null
            }
            data-testid="pay"
            onClick={() =>
              run('Asking for a quote, signing the payment, sending it…', async () => {
                // Metered and free access pay nothing now: the SDK's payer pays as use adds up.
                const r = (t?.access === 'subscription' ? rail : undefined) ?? {
                  pay: (c: HansaClient, p: { node: string; service: string; periods: number }) =>
                    c.subscribe(p),
                }
                const result = await r.pay(props.client, { node: n.url, service, periods })
                const sub = result.subscriptions[0]
                if (!sub)
                  throw new Error(
                    `${n.url} did not take the payment: ${result.attempts.map((a) => a.error).join('; ')}`,
                  )
                setDone(
                  sub.access === 'subscription'
                    ? `Paid. Active until ${new Date((sub.expiresAt ?? 0) * 1000).toLocaleString()}. ${service === 'inbox' ? 'This node now holds your mail.' : ''}`
                    : `Done: ${sub.access} access. ${service === 'inbox' ? 'This node now holds your mail.' : ''}`,
                )
              })
            }
          >
            {t?.access === 'subscription' ? `Pay ${total} ${t.unit}` : 'Use it'}
          </button>
          <button
            type="button"
            className="secondary"
            onClick={props.onClose}
            data-testid="pay-close"
          >
            Close
          </button>
        </div>
      </div>
    </div>
  )
}

function OwnNodes(props: { onAdd: (url: string, pubkey: string) => void }) {
  const [url, setUrl] = useState('')
  const [pubkey, setPubkey] = useState('')
  const [error, setError] = useState<unknown>(null)
  return (
    <section className="panel">
      <h2>Your own nodes</h2>
      <p className="muted">
        A node you run or trust yourself, in or outside the federation. It must still sign its terms
        and prove its key; pin the key if you know it.
      </p>
      <div className="row wrap">
        <input
          placeholder="ws://your-node:7447"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <input
          placeholder="its pubkey (hex, optional)"
          value={pubkey}
          onChange={(e) => setPubkey(e.target.value)}
        />
        <button
          type="button"
          className="secondary"
          onClick={() => {
            try {
              props.onAdd(url.trim(), pubkey.trim())
              setUrl('')
              setPubkey('')
              setError(null)
            } catch (e) {
              setError(e)
            }
          }}
        >
          Add
        </button>
      </div>
      <ErrorBox error={error} />
    </section>
  )
}

function colorOf(s: string): string {
  let h = 0
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 360
  return `hsl(${h} 55% 45%)`
}
