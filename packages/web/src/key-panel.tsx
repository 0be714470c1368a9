// A role's key: shown as its npub, created or imported here, exported on request, and a
// plain warning that it lives in this browser. A NIP-07 signer, when the browser has one, is
// named; the SDK still needs the secret to pay and to read mail (see keys.ts).
import { useEffect, useState } from 'react'
import {
  type Role,
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
  return (
    <section className="panel key" data-testid={`key-${props.keyRole}`}>
      <h2>{props.title}</h2>
      {signer && (
        <p className="muted">
          Browser signer (NIP-07) found: {npubOf(signer).slice(0, 20)}…. It signs a coordinator’s
          requests; paying, mail and guardian signatures need the secret itself, so they use a key
          kept here.
        </p>
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
