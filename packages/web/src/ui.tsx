// Small pieces every screen uses: a progress line for long actions, an error that says what
// to do, a sortable table header, and a time-series chart (uPlot: small, maintained, canvas).
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

/** What to do about an error, from its stable code or the node's reason prefix. */
export function advice(error: unknown): string {
  const e = error as { code?: string; message?: string }
  const code = e?.code ?? ''
  const message = e?.message ?? String(error)
  if (code === 'HANSA_NODE_UNREACHABLE' || /cannot connect|cannot reach|unreachable/i.test(message))
    return 'The node does not answer. Check that it runs and that this device can reach it, or pick another node.'
  if (code === 'HANSA_JOIN_FAILED' || /invite/i.test(message))
    return 'Check the invite code (it starts with hansa1) and ask for a fresh one if a node moved.'
  if (code === 'HANSA_NOT_JOINED')
    return 'Join a federation first: paste an invite code on the Join screen.'
  if (code === 'HANSA_NO_KEY') return 'Create or import a key first (Key section at the top).'
  // Paying: a subscription's failure arrives inside the node's attempt, so the text is read too.
  if (code === 'HANSA_EVM_NO_WALLET' || /no Ethereum wallet|wallet gave no account/.test(message))
    return 'Install or unlock an Ethereum wallet extension, allow this page, reload, and pay again.'
  if (code === 'HANSA_EVM_WRONG_CHAIN' || /the wallet is on chain/.test(message))
    return 'Switch your wallet to the chain named above, then try again.'
  if (code === 'HANSA_EVM_REJECTED' || /rejected the transaction in your wallet/.test(message))
    return 'You rejected it in your wallet, so that step sent nothing. Press the button again and confirm in the wallet to go on.'
  if (code === 'HANSA_CHEQUE_UNCOVERED' || /the cheque would leave \d+ uncashed/.test(message))
    return 'Your chequebook holds too little for this node: open the Nodes screen, Subscribe… on that node, and top it up from your wallet.'
  if (code === 'HANSA_CHEQUE_BOUNCED' || /bounced a cheque/.test(message))
    return 'Your chequebook bounced a cheque, so nodes refuse it: open the Nodes screen, Subscribe… on that node, and deploy a new one from your wallet.'
  if (code === 'HANSA_CHEQUEBOOK_MISSING' || /takes cheques only from a chequebook/.test(message))
    return 'This node is paid by cheques from a chequebook on chain: open the Nodes screen, Subscribe… on it, and deploy one from your Ethereum wallet.'
  if (code === 'HANSA_EVM_FUNDS' || /not enough tokens|no ether for/.test(message))
    return 'Add tokens (and a little ether for gas) to the paying account, or pay from another account.'
  if (code === 'HANSA_SIGNER_NEEDS_SECRET' || /needs the key itself/.test(message))
    return 'Your browser signer cannot sign this (it is not a Nostr event): pay on the evm rail with your wallet, or use a key kept in this browser for it.'
  if (code === 'HANSA_SIGNER_REFUSED' || code === 'HANSA_SIGNER_UNSUPPORTED')
    return 'Check your browser signer extension: unlock it, allow this page, or update it (NIP-44 for mail).'
  if (/payment-required|HANSA_PAYMENT/i.test(`${code} ${message}`))
    return 'This node needs a payment: subscribe on the Nodes screen, then try again.'
  if (/restricted:/.test(message))
    return 'The node refused it; the reason is above. The recipient may need a subscription on that node.'
  if (code === 'HANSA_HTTP_AUTH')
    return 'The node did not accept the signed request: check this device’s clock and that you use the right key.'
  if (
    code === 'HANSA_NOT_GUARDIAN' ||
    code === 'HANSA_BILLING_FORBIDDEN' ||
    /forbidden|not allowed/i.test(message)
  )
    return 'Your key is not allowed to do this: import the right key (a guardian’s, the node’s or an admin key).'
  if (/ORDER_NOT_PENDING/.test(code))
    return 'Someone else took or cancelled it first: refresh the book and pick another order.'
  if (/ORDER_TERMS|ORDER_INVALID/.test(code))
    return 'Adjust the order to the coordinator’s limits (shown on its card) and send it again.'
  if (code === 'HANSA_NO_NODE' || code === 'HANSA_ALL_NODES_FAILED')
    return 'No trusted node could do it: check the Nodes screen (trust toggles, nodes that are down) and retry.'
  return 'Try again; if it keeps failing, check the Nodes screen for nodes that are down.'
}

export function ErrorBox({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null
  const message = (error as Error)?.message ?? String(error)
  return (
    <div className="error" role="alert">
      <strong>{message}</strong>
      <div>What to do: {advice(error)}</div>
    </div>
  )
}

export function Busy({ label }: { label: string | null }) {
  if (label === null) return null
  return (
    <output className="busy">
      <span className="spinner" aria-hidden="true" /> {label}
    </output>
  )
}

/** Runs one long action at a time with a progress label and an error that stays until the next try. */
export function useAction() {
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const run = useCallback(
    async <T,>(label: string, fn: () => Promise<T>): Promise<T | undefined> => {
      setBusy(label)
      setError(null)
      try {
        return await fn()
      } catch (e) {
        setError(e)
        return undefined
      } finally {
        setBusy(null)
      }
    },
    [],
  )
  return { busy, error, run, setError }
}

export type Sort<K extends string> = { key: K; dir: 1 | -1 }

export function SortHeader<K extends string>(props: {
  label: string
  k: K
  sort: Sort<K>
  setSort: (s: Sort<K>) => void
}) {
  const active = props.sort.key === props.k
  return (
    <th>
      <button
        type="button"
        className="sort"
        onClick={() =>
          props.setSort({ key: props.k, dir: active ? (-props.sort.dir as 1 | -1) : 1 })
        }
      >
        {props.label}
        {active ? (props.sort.dir === 1 ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  )
}

export function compareBy<T>(value: (x: T) => string | number | null, dir: 1 | -1) {
  return (a: T, b: T) => {
    const x = value(a)
    const y = value(b)
    if (x === y) return 0
    if (x === null) return 1
    if (y === null) return -1
    return (x < y ? -1 : 1) * dir
  }
}

export type Series = { label: string; values: (number | null)[]; color: string }

/** A line chart over unix-second timestamps. */
export function Chart(props: {
  title: string
  times: number[]
  series: Series[]
  height?: number
}) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (el === null) return
    const width = Math.max(260, Math.min(el.clientWidth || 600, 900))
    const plot = new uPlot(
      {
        title: props.title,
        width,
        height: props.height ?? 200,
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
        axes: [{}, { size: 70 }],
      },
      [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    )
    return () => plot.destroy()
  }, [props.title, props.times, props.series, props.height])
  return <div className="chart" ref={ref} />
}

export function Section(props: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className="panel" id={props.id}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  )
}

export const ago = (unixSeconds: number | null, now = Date.now() / 1000) => {
  if (unixSeconds === null) return 'never'
  const s = Math.max(0, Math.round(now - unixSeconds))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

/** Time left until a unix-second moment ("3 h"), or "ended". */
export const left = (unixSeconds: number, now = Date.now() / 1000) => {
  const s = Math.round(unixSeconds - now)
  if (s <= 0) return 'ended'
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.round(s / 60)} min`
  if (s < 86400) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} d`
}
