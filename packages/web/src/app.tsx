// The shell: the user's key or browser signer, the joined federation, and the tabs. The user's
// HansaClient is made once per key or signer; the coordinator's and guardian's screens keep
// keys of their own.
import type { HansaClient, NostrSigner } from '@hansa/client'
import { useEffect, useMemo, useState } from 'react'
import { browserClient } from './hansa.js'
import { KeyPanel } from './key-panel.js'
import { leaveNip07, loadKey, loadNip07Signer, usesNip07 } from './keys.js'
import { CoordinatorView } from './views/coordinator.js'
import { DirectoryView } from './views/directory.js'
import { GuardianView } from './views/guardian.js'
import { InboxView } from './views/inbox.js'
import { JoinView } from './views/join.js'
import { OrdersView } from './views/orders.js'

const TABS = [
  ['nodes', 'Nodes'],
  ['inbox', 'Inbox'],
  ['orders', 'Order book'],
  ['coordinator', 'Coordinator'],
  ['guardian', 'Guardian'],
] as const
type Tab = (typeof TABS)[number][0] | 'join'

function tabOfHash(): Tab {
  const h = location.hash.replace(/^#\/?/, '').split(/[?=&]/)[0] ?? ''
  return (TABS.some(([t]) => t === h) ? h : 'nodes') as Tab
}

export function App() {
  const [tab, setTab] = useState<Tab>(tabOfHash())
  const [userKey, setUserKey] = useState<Uint8Array | null>(() => loadKey('user'))
  const [signer, setSigner] = useState<NostrSigner | null>(null)
  // The browser signer answers asynchronously: wait for it before acting as anyone.
  const [signerPending, setSignerPending] = useState(() => usesNip07('user'))
  const [signerMissing, setSignerMissing] = useState(false)
  useEffect(() => {
    if (!signerPending) return
    const done = (s: NostrSigner | null) => {
      setSigner(s)
      setSignerMissing(s === null)
      setSignerPending(false)
    }
    loadNip07Signer('user').then(done, () => done(null))
  }, [signerPending])
  const [version, setVersion] = useState(0) // bumps when the joined federation changes
  const client: HansaClient = useMemo(
    () =>
      browserClient(
        signer ? { kind: 'nip07', signer } : userKey ? { kind: 'local', secretKey: userKey } : null,
        'user',
      ),
    [userKey, signer],
  )
  useEffect(() => {
    const on = () => setTab(tabOfHash())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  // biome-ignore lint/correctness/useExhaustiveDependencies: version marks a change of the stored state
  const joined = useMemo(() => client.store.load().federation, [client, version])
  const needsJoin = joined === null && (tab === 'nodes' || tab === 'inbox' || tab === 'orders')
  return (
    <div className="app">
      <header>
        <h1>
          Hansa{' '}
          <small>
            {tab === 'coordinator'
              ? 'coordinator'
              : tab === 'guardian'
                ? 'guardian'
                : joined
                  ? (joined.name ?? 'federation')
                  : 'not joined'}
          </small>
        </h1>
        <nav>
          {TABS.map(([t, label]) => (
            <a key={t} href={`#${t}`} className={tab === t ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main>
        {(tab === 'nodes' || tab === 'inbox' || tab === 'orders') && (
          <KeyPanel
            keyRole="user"
            title="Your key"
            onChange={setUserKey}
            signerChoice={{ signer, onChange: setSigner }}
          />
        )}
        {signerMissing && signer === null && (
          <div className="error" role="alert">
            You chose your browser signer (NIP-07), but it did not answer in this browser. What to
            do: enable or unlock the extension and reload, or{' '}
            <button
              type="button"
              className="link"
              onClick={() => {
                leaveNip07('user')
                setSignerMissing(false)
              }}
            >
              stop using it
            </button>
            .
          </div>
        )}
        {signerPending ? (
          <p className="muted">Asking your browser signer (NIP-07) for your key…</p>
        ) : needsJoin || (tab === 'nodes' && joined === null) ? (
          <JoinView client={client} onJoined={() => setVersion((v) => v + 1)} />
        ) : tab === 'nodes' ? (
          <DirectoryView
            client={client}
            version={version}
            onLeave={() => setVersion((v) => v + 1)}
          />
        ) : tab === 'inbox' ? (
          <InboxView client={client} />
        ) : tab === 'orders' ? (
          <OrdersView client={client} />
        ) : tab === 'coordinator' ? (
          <CoordinatorView />
        ) : (
          <GuardianView />
        )}
      </main>
    </div>
  )
}
