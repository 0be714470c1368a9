// A role's key: shown as its npub, created or imported here, exported on request, and a
// plain warning that it lives in this browser — or, for the user, her NIP-07 browser signer,
// chosen instead of a key: then nothing secret is kept in the page (see keys.ts).
import type { NostrSigner } from '@hansa/client'
import { useEffect, useState } from 'react'
import {
  type Role,
  chooseNip07,
  leaveNip07,
  createKey,
  forgetKey,
  importKey,
  loadKey,
  nip07,
  npubOf,
  nsecOf,
  pubkeyOf,
} from './keys.js'
import { ErrorBox } from './ui.js'

export function KeyPanel(props: {
  keyRole: Role
  title: string
  onChange: (key: Uint8Array | null) => void
  importLabel?: string
  /** The user's role may sign with a NIP-07 signer instead of a key kept here. */
  signerChoice?: { signer: NostrSigner | null; onChange: (s: NostrSigner | null) => void }
}) {
  const [key, setKey] = useState<Uint8Array | null>(() => loadKey(props.keyRole))
  const [showSecret, setShowSecret] = useState(false)
  const [text, setText] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [signer, setSigner] = useState<string | null>(null)
  useEffect(() => {
    const n = nip07()
    if (n) n.getPublicKey().then(setSigner, () => setSigner(null))
  }, [])
  const set = (k: Uint8Array | null) => {
    setKey(k)
    setShowSecret(false)
    props.onChange(k)
  }
  const chosen = props.signerChoice?.signer ?? null
  if (chosen !== null) {
    return (
      <section className="panel key" data-testid={`key-${props.keyRole}`}>
        <h2>{props.title}</h2>
        <p>
          <code data-testid={`pubkey-${props.keyRole}`} title={chosen.pubkey}>
            {npubOf(chosen.pubkey)}
          </code>
        </p>
        <p className="ok" data-testid={`signer-${props.keyRole}`}>
          Signed by your browser signer (NIP-07): no key is kept in this page. It signs your
          requests, orders and mail, and encrypts and opens your mail (NIP-44).
        </p>
        <p className="muted">
          What is not a Nostr event it cannot sign: a ledger cheque (EIP-712) is paid with a
          one-time key made for that payment only, and the evm rail with your Ethereum wallet; nodes
          metered by cheques (SWAP) and per-coordinator trading keys need a key kept here.
        </p>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            leaveNip07(props.keyRole)
            props.signerChoice?.onChange(null)
          }}
        >
          Stop using the browser signer
        </button>
      </section>
    )
  }
  return (
    <section className="panel key" data-testid={`key-${props.keyRole}`}>
      <h2>{props.title}</h2>
      {signer && !props.signerChoice && (
        <p className="muted">
          Browser signer (NIP-07) found: {npubOf(signer).slice(0, 20)}…. It signs a coordinator’s
          requests; a guardian’s signature over a manifest hash (BIP-340) is not a Nostr event,
          which NIP-07 cannot sign, so guardians use a key kept here.
        </p>
      )}
      {signer && props.signerChoice && (
        <div className="row wrap">
          <span className="muted">
            Browser signer (NIP-07) found: {npubOf(signer).slice(0, 20)}…
          </span>
          <button
            type="button"
            data-testid={`use-nip07-${props.keyRole}`}
            onClick={() =>
              chooseNip07(props.keyRole).then(
                (s) => props.signerChoice?.onChange(s),
                (e) => setError(e),
              )
            }
          >
            Use the browser signer
          </button>
        </div>
      )}
      {key ? (
        <>
          <p>
            <code data-testid={`pubkey-${props.keyRole}`} title={pubkeyOf(key)}>
              {npubOf(pubkeyOf(key))}
            </code>
          </p>
          <p className="warning">
            This key is kept in this browser’s storage: anyone using this browser profile can use
            it, and clearing the site’s data loses it. Export it and keep a copy somewhere safe.
          </p>
          <div className="row">
            <button type="button" onClick={() => setShowSecret((s) => !s)}>
              {showSecret ? 'Hide secret' : 'Export key'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                if (confirm('Forget this key in this browser? Export it first if you need it.')) {
                  forgetKey(props.keyRole)
                  set(null)
                }
              }}
            >
              Forget
            </button>
          </div>
          {showSecret && (
            <p>
              <code className="secret" data-testid={`nsec-${props.keyRole}`}>
                {nsecOf(key)}
              </code>
            </p>
          )}
        </>
      ) : (
        <div className="row wrap">
          <button
            type="button"
            data-testid={`create-key-${props.keyRole}`}
            onClick={() => set(createKey(props.keyRole))}
          >
            Create a key
          </button>
          <input
            placeholder={props.importLabel ?? 'or paste nsec1… / 64 hex'}
            value={text}
            onChange={(e) => setText(e.target.value)}
            data-testid={`import-key-${props.keyRole}`}
          />
          <button
            type="button"
            className="secondary"
            data-testid={`import-key-button-${props.keyRole}`}
            onClick={() => {
              try {
                set(importKey(props.keyRole, text))
                setText('')
                setError(null)
              } catch (e) {
                setError(e)
              }
            }}
          >
            Import
          </button>
        </div>
      )}
      <ErrorBox error={error} />
    </section>
  )
}
