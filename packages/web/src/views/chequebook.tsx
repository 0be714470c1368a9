// The user's chequebook for a node that meters in SWAP's hard mode (cheques cashed on chain):
// deployed and funded from the browser's Ethereum wallet, remembered in the browser (the
// client's store), its balance and what the node has cashed shown, topped up. All through
// @hansa/client (client.chequebook, eip1193Chequebooks): the wallet pays the gas and the
// tokens; her key, the chequebook's issuer, signs the cheques as her mail is metered.
import {
  type ChequebookProgress,
  type ChequebookStatus,
  type HansaClient,
  eip1193Chequebooks,
} from '@hansa/client'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { injectedWallet } from '../pay-rails.js'
import { Busy, ErrorBox, useAction } from '../ui.js'

const STEPS: { step: ChequebookProgress['step']; label: string }[] = [
  { step: 'checking', label: 'check the wallet’s chain and funds' },
  { step: 'deploying', label: 'deploy the chequebook (your wallet confirms)' },
  { step: 'depositing', label: 'deposit the tokens (your wallet confirms)' },
  { step: 'done', label: 'ready' },
]

const wholeUnits = (text: string): bigint | null =>
  /^[0-9]{1,30}$/.test(text) ? BigInt(text) : null

export function ChequebookPanel(props: {
  client: HansaClient
  node: string
  unit: string
  /** Called once a chequebook is deployed or topped up (the dialog clears its old refusal). */
  onFunded?: () => void
}) {
  const { client, node, unit, onFunded } = props
  const wallet = useMemo(() => {
    const provider = injectedWallet()
    return provider ? eip1193Chequebooks(provider) : null
  }, [])
  const [status, setStatus] = useState<ChequebookStatus | null>(null)
  // Known without the wallet (the browser's store): which button to offer even while the
  // wallet cannot be read (another chain, locked).
  const [remembered, setRemembered] = useState<string | null | undefined>(undefined)
  const [issuer, setIssuer] = useState<string | null>(null)
  const [amount, setAmount] = useState('100000')
  const [progress, setProgress] = useState<ChequebookProgress | null>(null)
  // Which act the steps are of: a top-up has no deploy step.
  const [act, setAct] = useState<'deploy' | 'deposit'>('deploy')
  const { busy, error, run } = useAction()
  const nip07 = client.env.signer?.kind === 'nip07'

  const refresh = useCallback(async () => {
    if (wallet === null || nip07 || client.pubkey === null) return
    const known = await client.chequebook.remembered({ node })
    setRemembered(known.chequebook)
    setIssuer(known.issuer)
    const read = await client.chequebook.status({ node, wallet })
    setStatus(read)
    setRemembered(read.chequebook)
  }, [client, node, wallet, nip07])
  useEffect(() => {
    void run('Reading your chequebook through your wallet…', refresh)
  }, [run, refresh])

  if (client.pubkey === null)
    return <p className="muted">Create or import a key first: it signs your cheques.</p>
  if (nip07)
    return (
      <div className="error" data-testid="chequebook-nip07">
        This node is paid by cheques from a chequebook on chain. A cheque is EIP-712 typed data
        signed by your key, which your browser signer (NIP-07) does not hand out, and the node takes
        a cheque only when it is signed by the key that signs your requests. What to do: use a key
        kept in this browser for this node, or pick a node paid by subscription.
      </div>
    )
  if (wallet === null)
    return (
      <div className="error" data-testid="chequebook-no-wallet">
        This node is paid by cheques from a chequebook on chain, which your Ethereum wallet deploys
        and funds, but this browser has none (window.ethereum). What to do: install or unlock a
        wallet extension, allow this page, and reload.
      </div>
    )
  const units = wholeUnits(amount.trim())
  const onProgress = (p: ChequebookProgress) => setProgress(p)
  const s = status?.state ?? null
  // No chequebook yet, or one that bounced a cheque (nodes refuse it): offer to deploy one.
  const none = remembered === null || s?.bounced === true
  return (
    <div className="chequebook" data-testid="chequebook">
      <h3>Your chequebook</h3>
      <p className="muted">
        This node meters your mail and is paid by cheques cashed on chain from a chequebook of your
        own. Your Ethereum wallet deploys it and pays in the tokens; your key (
        <code>{issuer ?? '…'}</code>) is its issuer and signs each cheque as your use adds up,
        without asking the wallet again.
      </p>
      {status !== null && status.chequebook === null && (
        <p data-testid="chequebook-none">
          You have no chequebook for this node’s chain yet. Your wallet{' '}
          <code>{status.wallet.account}</code> holds {status.wallet.tokens.toString()} {unit}.
        </p>
      )}
      {status !== null && s !== null && (
        <table className="terms" data-testid="chequebook-state">
          <tbody>
            <tr>
              <th>chequebook</th>
              <td>
                <code data-testid="chequebook-address">{s.chequebook}</code>
                {s.bounced && <span className="badge bad">bounced: nodes refuse it</span>}
              </td>
            </tr>
            <tr>
              <th>balance</th>
              <td data-testid="chequebook-balance">
                {s.balance.toString()} {unit}
              </td>
            </tr>
            <tr>
              <th>this node</th>
              <td data-testid="chequebook-node">
                cashed {s.node?.paidOut.toString() ?? '0'} {unit}; its cheques can draw{' '}
                {s.node?.available.toString() ?? '0'} {unit}
              </td>
            </tr>
            <tr>
              <th>hard deposits</th>
              <td>
                {s.totalHardDeposit.toString()} {unit} (paid out in all: {s.totalPaidOut.toString()}{' '}
                {unit})
              </td>
            </tr>
            <tr>
              <th>wallet</th>
              <td>
                <code>{status.wallet.account}</code> holds {status.wallet.tokens.toString()} {unit}
              </td>
            </tr>
          </tbody>
        </table>
      )}
      <div className="row wrap">
        <label>
          {none ? 'Deposit' : 'Top up by'}{' '}
          <input
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            inputMode="numeric"
            size={12}
            data-testid="chequebook-amount"
          />{' '}
          {unit}
        </label>
        {none && (
          <button
            type="button"
            disabled={busy !== null || units === null || units === 0n}
            data-testid="chequebook-deploy"
            onClick={() =>
              run('Deploying and funding your chequebook…', async () => {
                setProgress(null)
                setAct('deploy')
                try {
                  setStatus(
                    await client.chequebook.deploy({ node, wallet, amount: units!, onProgress }),
                  )
                  onFunded?.()
                } finally {
                  // Deployed but not funded (the deposit rejected) is remembered: offer a top-up.
                  setRemembered((await client.chequebook.remembered({ node })).chequebook)
                }
              })
            }
          >
            Deploy and fund from my wallet
          </button>
        )}
        {typeof remembered === 'string' && (
          <button
            type="button"
            disabled={busy !== null || units === null || units === 0n}
            data-testid="chequebook-topup"
            onClick={() =>
              run('Topping up your chequebook…', async () => {
                setProgress(null)
                setAct('deposit')
                setStatus(
                  await client.chequebook.deposit({ node, wallet, amount: units!, onProgress }),
                )
                onFunded?.()
              })
            }
          >
            Top up from my wallet
          </button>
        )}
        <button
          type="button"
          className="secondary"
          disabled={busy !== null}
          onClick={() => run('Reading your chequebook through your wallet…', refresh)}
        >
          Refresh
        </button>
      </div>
      {progress !== null && (
        <ol className="steps" data-testid="chequebook-progress">
          {STEPS.filter((x) => act === 'deploy' || x.step !== 'deploying').map((x) => {
            const at = STEPS.findIndex((y) => y.step === progress.step)
            const mine = STEPS.findIndex((y) => y.step === x.step)
            return (
              <li key={x.step} className={mine < at || progress.step === 'done' ? 'ok' : ''}>
                {mine < at || progress.step === 'done' ? '✓ ' : mine === at ? '… ' : ''}
                {x.label}
              </li>
            )
          })}
        </ol>
      )}
      {progress !== null && (
        <p className="muted" data-testid="chequebook-step">
          {progress.message}
        </p>
      )}
      <Busy label={busy} />
      <ErrorBox error={error} />
    </div>
  )
}
