// The joint order book (RoboSats's federation view): every trusted coordinator's orders in
// one sortable, filterable table, live; each order's coordinator with its card (terms, fees,
// limits, whether it answers); a coordinator that stopped answering is marked with the time it
// last did, and its orders as stale. Make, take and cancel go to the order's own coordinator.
import type { CoordinatorStatus, HansaClient, JointBook, JointOrder } from '@hansa/client'
import { useEffect, useMemo, useState } from 'react'
import { short } from '../keys.js'
import { readJson, writeJson } from '../store.js'
import {
  Busy,
  ErrorBox,
  Section,
  type Sort,
  SortHeader,
  ago,
  compareBy,
  left,
  useAction,
} from '../ui.js'

/**
 * The book's last-seen times last only as long as one watch; the app remembers, per
 * coordinator, when it last answered in this browser, so a coordinator that is down when the
 * page opens still shows since when ("not answering since 3 h ago", not "never").
 */
function withRememberedLastSeen(view: JointBook): JointBook {
  const seen = readJson<Record<string, number>>('bookLastSeen', {})
  for (const c of view.coordinators) {
    if (c.state === 'live' && c.lastSeen !== null) seen[c.pubkey] = c.lastSeen
  }
  writeJson('bookLastSeen', seen)
  const lastSeen = (pubkey: string, value: number | null) => value ?? seen[pubkey] ?? null
  return {
    ...view,
    coordinators: view.coordinators.map((c) => ({
      ...c,
      lastSeen: lastSeen(c.pubkey, c.lastSeen),
    })),
    orders: view.orders.map((o) => ({
      ...o,
      lastSeen: lastSeen(o.coordinator.pubkey, o.lastSeen),
    })),
  }
}

type Key = 'side' | 'currency' | 'fiat' | 'sats' | 'premium' | 'coordinator' | 'expires'

export function OrdersView(props: { client: HansaClient }) {
  const { client } = props
  const [book, setBook] = useState<JointBook | null>(null)
  const [watchError, setWatchError] = useState<unknown>(null)
  const [side, setSide] = useState('')
  const [currency, setCurrency] = useState('')
  const [method, setMethod] = useState('')
  const [coordinator, setCoordinator] = useState('')
  const [sort, setSort] = useState<Sort<Key>>({ key: 'expires', dir: 1 })
  const [card, setCard] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const { busy, error, run } = useAction()

  useEffect(() => {
    // Every status, not only pending: a node's update of an order (taken, cancelled) reaches
    // the book only if the subscription matches the new status; the table shows the pending ones.
    const watch = client.orders.watch({
      status: ['pending', 'in-progress', 'success', 'canceled'],
      onUpdate: (view) => setBook(withRememberedLastSeen(view)),
      onError: setWatchError,
    })
    return () => watch.stop()
  }, [client])

  const orders = useMemo(() => {
    const list = (book?.orders ?? []).filter(
      (o) =>
        o.order.status === 'pending' &&
        (side === '' || o.order.side === side) &&
        (currency === '' || o.order.currency === currency) &&
        (coordinator === '' || o.coordinator.alias === coordinator) &&
        (method === '' ||
          o.order.paymentMethods.some((m) => m.toLowerCase().includes(method.toLowerCase()))),
    )
    const value = (o: JointOrder): string | number | null =>
      sort.key === 'side'
        ? o.order.side
        : sort.key === 'currency'
          ? o.order.currency
          : sort.key === 'fiat'
            ? (o.order.fiatAmount[0] ?? null)
            : sort.key === 'sats'
              ? o.order.amount
              : sort.key === 'premium'
                ? o.order.premium
                : sort.key === 'coordinator'
                  ? o.coordinator.alias
                  : o.order.expiresAt
    return list.sort(compareBy(value, sort.dir))
  }, [book, side, currency, method, coordinator, sort])
  const currencies = [...new Set((book?.orders ?? []).map((o) => o.order.currency))].sort()
  const me = client.pubkey
  const pendingOf = (coordinator: string) =>
    (book?.orders ?? []).filter(
      (o) => o.coordinator.pubkey === coordinator && o.order.status === 'pending',
    ).length
  const makerOf = (o: JointOrder) => o.event.tags.find((t) => t[0] === 'p')?.[1] ?? null

  return (
    <>
      <Section title="Coordinators">
        <div className="row wrap" data-testid="book-coordinators">
          {(book?.coordinators ?? []).map((c) => (
            <button
              key={c.pubkey}
              type="button"
              className={`chip ${c.state}`}
              onClick={() => setCard(c.pubkey)}
              data-testid={`book-coordinator-${c.alias}`}
            >
              {c.alias}:{' '}
              {c.state === 'live'
                ? `${pendingOf(c.pubkey)} pending ${pendingOf(c.pubkey) === 1 ? 'order' : 'orders'}`
                : c.state === 'stale'
                  ? `not answering · last seen ${ago(c.lastSeen)}`
                  : c.state}
            </button>
          ))}
          {book === null && <Busy label="Asking every coordinator for its orders…" />}
        </div>
        <ErrorBox error={watchError} />
      </Section>
      {card && book && (
        <CoordinatorDialog
          status={book.coordinators.find((c) => c.pubkey === card)!}
          order={book.orders.find((o) => o.coordinator.pubkey === card) ?? null}
          onClose={() => setCard(null)}
        />
      )}
      <Section title="Joint order book">
        <div className="row wrap filters">
          <select value={side} onChange={(e) => setSide(e.target.value)} data-testid="filter-side">
            <option value="">buy and sell</option>
            <option value="buy">buy</option>
            <option value="sell">sell</option>
          </select>
          <select
            value={currency}
            onChange={(e) => setCurrency(e.target.value)}
            data-testid="filter-currency"
          >
            <option value="">every currency</option>
            {currencies.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <select value={coordinator} onChange={(e) => setCoordinator(e.target.value)}>
            <option value="">every coordinator</option>
            {(book?.coordinators ?? []).map((c) => (
              <option key={c.pubkey}>{c.alias}</option>
            ))}
          </select>
          <input
            placeholder="payment method"
            value={method}
            onChange={(e) => setMethod(e.target.value)}
          />
        </div>
        <div className="scroll">
          <table className="orders" data-testid="orders">
            <thead>
              <tr>
                <SortHeader label="Side" k="side" sort={sort} setSort={setSort} />
                <SortHeader label="Fiat" k="fiat" sort={sort} setSort={setSort} />
                <SortHeader label="Cur." k="currency" sort={sort} setSort={setSort} />
                <SortHeader label="Sats" k="sats" sort={sort} setSort={setSort} />
                <SortHeader label="Premium" k="premium" sort={sort} setSort={setSort} />
                <th>Methods</th>
                <SortHeader label="Coordinator" k="coordinator" sort={sort} setSort={setSort} />
                <SortHeader label="Expires" k="expires" sort={sort} setSort={setSort} />
                <th />
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr
                  key={o.address}
                  className={o.stale ? 'stale' : ''}
                  data-testid={`order-${o.id}`}
                >
                  <td>{o.order.side}</td>
                  <td>{o.order.fiatAmount.join('–')}</td>
                  <td>{o.order.currency}</td>
                  <td>{o.order.amount || 'market'}</td>
                  <td>{o.order.premium} %</td>
                  <td>{o.order.paymentMethods.join(', ')}</td>
                  <td>
                    <button
                      type="button"
                      className="link"
                      onClick={() => setCard(o.coordinator.pubkey)}
                    >
                      {o.coordinator.alias}
                    </button>
                    {o.stale && <span className="badge bad">stale · {ago(o.lastSeen)}</span>}
                  </td>
                  <td>{left(o.order.expiresAt)}</td>
                  <td>
                    {makerOf(o) === me ? (
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy !== null}
                        data-testid={`cancel-${o.id}`}
                        onClick={() =>
                          run('Cancelling at the order’s coordinator…', async () => {
                            await client.orders.cancel({ order: o })
                            setNotice(`Cancelled order ${short(o.id)}.`)
                          })
                        }
                      >
                        Cancel
                      </button>
                    ) : (
                      <button
                        type="button"
                        disabled={busy !== null || me === null || o.stale}
                        data-testid={`take-${o.id}`}
                        onClick={() =>
                          run(`Taking the order at ${o.coordinator.alias}…`, async () => {
                            const r = await client.orders.take({ order: o })
                            setNotice(
                              `You took order ${short(o.id)} at ${o.coordinator.alias}: ${r.trade?.sats ?? o.order.amount} sats for ${r.trade?.fiat ?? o.order.fiatAmount[0]} ${o.order.currency}. The coordinator sent you and the maker a message with each other’s contact (Inbox).`,
                            )
                          })
                        }
                      >
                        Take
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {book !== null && orders.length === 0 && (
                <tr>
                  <td colSpan={9} className="muted">
                    No pending orders match.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <MyOrders
          orders={(book?.orders ?? []).filter(
            (o) => makerOf(o) === me && o.order.status !== 'pending',
          )}
          busy={busy !== null}
          onComplete={(o) =>
            void run('Telling the coordinator the fiat arrived…', async () => {
              await client.orders.complete({ order: o })
              setNotice(`Trade ${short(o.id)} completed.`)
            })
          }
          onConfirm={(o) =>
            void run('Confirming the take…', async () => {
              await client.orders.confirm({ order: o })
              setNotice(`Take of ${short(o.id)} confirmed: the trade goes on.`)
            })
          }
        />
        {notice && (
          <p className="ok" data-testid="order-notice">
            {notice}
          </p>
        )}
        <Busy label={busy} />
        <ErrorBox error={error} />
      </Section>
      <MakeOrder client={client} coordinators={book?.coordinators ?? []} onMade={setNotice} />
    </>
  )
}

function CoordinatorDialog(props: {
  status: CoordinatorStatus
  order: JointOrder | null
  onClose: () => void
}) {
  const s = props.status
  const t = props.order?.terms ?? null
  const pct = (ppm: number) => `${(ppm / 10_000).toFixed(3)} %`
  return (
    <div
      className="dialog"
      role="dialog"
      aria-label={`Coordinator ${s.alias}`}
      data-testid="coordinator-dialog"
    >
      <div className="panel">
        <h2>{s.alias}</h2>
        <p>
          <code>{short(s.pubkey, 12)}</code>
        </p>
        <p className={s.state === 'live' ? 'ok' : 'warning'}>
          {s.state === 'live'
            ? `Answering; last seen ${ago(s.lastSeen)}.`
            : s.state === 'stale'
              ? `Coordinator offline: not answering since ${ago(s.lastSeen)}${s.error ? ` (${s.error})` : ''}. Its orders are shown as last seen.`
              : s.state}
        </p>
        {t ? (
          <dl className="facts">
            <dt>Maker fee</dt>
            <dd>{pct(t.makerFeePpm)}</dd>
            <dt>Taker fee</dt>
            <dd>{pct(t.takerFeePpm)}</dd>
            <dt>Bond</dt>
            <dd>{pct(t.bondPpm)}</dd>
            <dt>Limits</dt>
            <dd>
              {t.minSats.toLocaleString()}–{t.maxSats.toLocaleString()} sats
            </dd>
            <dt>Currencies</dt>
            <dd>{t.currencies.join(', ')}</dd>
            <dt>Order lifetime</dt>
            <dd>up to {Math.round(t.maxLifetimeSeconds / 3600)} h</dd>
            <dt>Network</dt>
            <dd>
              {t.network} · {t.layers.join(', ')}
            </dd>
          </dl>
        ) : (
          <p className="muted">
            Its terms are shown once it has an order in the book; the Nodes screen has every
            coordinator’s full card.
          </p>
        )}
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </div>
  )
}

function MakeOrder(props: {
  client: HansaClient
  coordinators: CoordinatorStatus[]
  onMade: (s: string) => void
}) {
  const live = props.coordinators.filter((c) => c.state !== 'disabled' && c.state !== 'no-book')
  const [coordinator, setCoordinator] = useState('')
  const [side, setSide] = useState<'buy' | 'sell'>('sell')
  const [currency, setCurrency] = useState('EUR')
  const [fiat, setFiat] = useState('100')
  const [sats, setSats] = useState('150000')
  const [methods, setMethods] = useState('SEPA')
  const { busy, error, run } = useAction()
  const chosen = coordinator || live[0]?.alias || ''
  return (
    <Section title="Make an order">
      <div className="grid-form">
        <label>
          Coordinator
          <select
            value={chosen}
            onChange={(e) => setCoordinator(e.target.value)}
            data-testid="make-coordinator"
          >
            {live.map((c) => (
              <option key={c.pubkey}>{c.alias}</option>
            ))}
          </select>
        </label>
        <label>
          I want to
          <select
            value={side}
            onChange={(e) => setSide(e.target.value as 'buy' | 'sell')}
            data-testid="make-side"
          >
            <option value="sell">sell bitcoin</option>
            <option value="buy">buy bitcoin</option>
          </select>
        </label>
        <label>
          Currency
          <input
            value={currency}
            onChange={(e) => setCurrency(e.target.value.toUpperCase())}
            data-testid="make-currency"
          />
        </label>
        <label>
          Fiat amount
          <input
            value={fiat}
            onChange={(e) => setFiat(e.target.value)}
            inputMode="decimal"
            data-testid="make-fiat"
          />
        </label>
        <label>
          Sats (0: market)
          <input
            value={sats}
            onChange={(e) => setSats(e.target.value)}
            inputMode="numeric"
            data-testid="make-sats"
          />
        </label>
        <label>
          Payment methods
          <input
            value={methods}
            onChange={(e) => setMethods(e.target.value)}
            data-testid="make-methods"
          />
        </label>
      </div>
      <button
        type="button"
        disabled={busy !== null || props.client.pubkey === null || chosen === ''}
        data-testid="make-order"
        onClick={() =>
          run(`Sending the order to ${chosen}…`, async () => {
            const fiatAmount = Number(fiat)
            if (!Number.isFinite(fiatAmount) || fiatAmount <= 0)
              throw new Error('The fiat amount must be a positive number.')
            const r = await props.client.orders.make({
              coordinator: chosen,
              side,
              currency,
              fiatAmount,
              sats: Number(sats) || 0,
              paymentMethods: methods
                .split(',')
                .map((m) => m.trim())
                .filter(Boolean),
            })
            props.onMade(`Order ${short(r.id)} is in ${r.coordinator.alias}’s book.`)
          })
        }
      >
        Make order
      </button>
      {props.client.pubkey === null && (
        <p className="muted">Create or import a key above to trade.</p>
      )}
      <Busy label={busy} />
      <ErrorBox error={error} />
    </Section>
  )
}

/** Her orders that were taken or closed: she confirms a take; the seller confirms the fiat arrived. */
function MyOrders(props: {
  orders: JointOrder[]
  onComplete: (o: JointOrder) => void
  onConfirm: (o: JointOrder) => void
  busy: boolean
}) {
  if (props.orders.length === 0) return null
  return (
    <div data-testid="my-orders">
      <h3>Your orders that left the book</h3>
      <ul>
        {props.orders.map((o) => (
          <li key={o.address}>
            {o.order.side} {o.order.fiatAmount.join('–')} {o.order.currency} at{' '}
            {o.coordinator.alias}: <strong>{o.order.status}</strong>
            {o.order.status === 'in-progress' &&
              ' — taken; the coordinator sent you the taker’s contact (Inbox)'}
            {o.order.status === 'in-progress' && (
              <>
                {' '}
                <button
                  type="button"
                  className="secondary"
                  disabled={props.busy}
                  onClick={() => props.onConfirm(o)}
                  data-testid={`confirm-${o.id}`}
                  title="Confirm the taker's amount and price; an unconfirmed take returns the order to the book after the coordinator's timeout"
                >
                  Confirm the take
                </button>
              </>
            )}
            {o.order.status === 'in-progress' && o.order.side === 'sell' && (
              <>
                {' '}
                <button
                  type="button"
                  className="secondary"
                  disabled={props.busy}
                  onClick={() => props.onComplete(o)}
                  data-testid={`complete-${o.id}`}
                >
                  The fiat arrived: complete
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  )
}
