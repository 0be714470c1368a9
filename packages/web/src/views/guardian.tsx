// The guardian's screen (Fedimint's guardian UI, with every check before anyone signs):
// a guardian key created or imported here; the setup ceremony — her setup code, collecting
// the others', the draft checked against the live nodes with every problem named, the
// manifest hash as the verification code each guardian compares, signing, and the invite code
// at the end; proposals with their changes, signing them; proposing a change; and the
// federation's history of versions with what each changed.
import {
  type FederationDraftCheck,
  type FederationInfo,
  type Proposal,
  checkFederationDraft,
  getChain,
  getFederation,
  getProposals,
  postGuardianSignature,
} from '@hansa/client'
import {
  type Manifest,
  type ManifestEdit,
  type SignedManifest,
  decodeSetupCode,
  diffManifests,
  encodeInviteCode,
  encodeSetupCode,
  manifestHash,
  nextManifestDraft,
} from '@hansa/protocol'
import { useState } from 'react'
import { servingNodeUrl } from '../hansa.js'
import { KeyPanel } from '../key-panel.js'
import { loadKey, pubkeyOf, short } from '../keys.js'
import { Busy, ErrorBox, Section, useAction } from '../ui.js'

/** The manifest hash in groups of four, as people read codes aloud to compare them. */
export const verificationCode = (hash: string) => hash.slice(0, 32).match(/.{4}/g)!.join(' ')

const nodeUrls = (m: Manifest | null | undefined) =>
  (m?.coordinators ?? []).flatMap((c) => c.nodes.map((n) => n.urls[0]!))

function manifestLines(m: Manifest): string[] {
  return [
    `${m.name}, version ${m.version}, valid until ${new Date(m.expiresAt * 1000).toLocaleDateString()}`,
    `guardians (${m.threshold} of ${m.guardians.length} must sign): ${m.guardians.map((g) => g.name).join(', ')}`,
    ...m.coordinators.map(
      (c) =>
        `coordinator ${c.alias} (${short(c.pubkey)}): ${c.nodes.map((n) => `${n.urls[0]} [${n.services.join(', ')}]`).join('; ') || 'no node'}`,
    ),
    `services: ${Object.keys(m.services).join(', ')}`,
    `dev fund: ${short(m.devFund.recipient)} at ${m.devFund.suggestedRate * 100} %`,
  ]
}

export function GuardianView() {
  const [key, setKey] = useState<Uint8Array | null>(() => loadKey('guardian'))
  const [url, setUrl] = useState(servingNodeUrl())
  const [info, setInfo] = useState<FederationInfo | null>(null)
  const [proposals, setProposals] = useState<Proposal[]>([])
  const [chain, setChain] = useState<SignedManifest[]>([])
  const [result, setResult] = useState<string | null>(null)
  const { busy, error, run } = useAction()
  const me = key ? pubkeyOf(key) : null
  const load = () =>
    run('Reading the federation, its proposals and its history…', async () => {
      const [f, p] = await Promise.all([getFederation(url.trim()), getProposals(url.trim())])
      setInfo(f)
      setProposals(p)
      setChain(f.federationId ? ((await getChain(url.trim(), 1)) as SignedManifest[]) : [])
    })
  const sign = (p: Proposal) =>
    run(`Signing version ${p.version} and sending the signature to the nodes…`, async () => {
      if (key === null) throw Object.assign(new Error('no guardian key'), { code: 'HANSA_NO_KEY' })
      const head = info?.head?.manifest ?? null
      // NIP-98 names the URL the node advertises (its public URL), not the one typed here.
      const own = info?.node.url ?? url.trim()
      const targets = [own, ...(head === null ? nodeUrls(p.manifest) : nodeUrls(head))]
      const r = await postGuardianSignature(targets, p.manifest, key)
      const failed = r.posted.filter((x) => !x.ok)
      if (r.posted.every((x) => !x.ok))
        throw new Error(
          `no node took the signature: ${failed.map((x) => `${x.url}: ${x.error}`).join('; ')}`,
        )
      setResult(
        r.adopted
          ? `Signed: version ${p.version} is adopted.${head === null ? ` Invite code: ${encodeInviteCode({ federationId: r.hash, urls: nodeUrls(p.manifest) })}` : ''}`
          : `Signed; waiting for more guardians.${failed.length ? ` Not delivered to ${failed.map((x) => x.url).join(', ')}.` : ''}`,
      )
      await load()
    })
  const head = info?.head?.manifest ?? null
  return (
    <>
      <KeyPanel
        keyRole="guardian"
        title="Guardian key"
        importLabel="paste your guardian key (guardian.key)"
        onChange={setKey}
      />
      <Section title="Your node">
        <div className="row wrap">
          <input
            className="grow"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            data-testid="guardian-url"
          />
          <button
            type="button"
            disabled={busy !== null}
            onClick={() => void load()}
            data-testid="guardian-load"
          >
            Load
          </button>
        </div>
        <Busy label={busy} />
        <ErrorBox error={error} />
        {result && (
          <p className="ok" data-testid="guardian-result">
            {result}
          </p>
        )}
      </Section>
      {key && <SetupCode secretKey={key} url={info?.node.url ?? url.trim()} />}
      {info && head && (
        <Section title={`${head.name} · version ${head.version}`}>
          <ul data-testid="federation-head">
            {manifestLines(head).map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
          {me && !head.guardians.some((g) => g.pubkey === me) && (
            <p className="warning">
              Your key is not a guardian of this version: you can read, not sign or propose.
            </p>
          )}
        </Section>
      )}
      {info && (
        <Section title="Pending proposals">
          {proposals.length === 0 && <p className="muted">None.</p>}
          {proposals.map((p) => {
            const signed = me !== null && p.signatures.some((s) => s.pubkey === me)
            return (
              <div key={p.hash} className="node" data-testid={`proposal-${p.version}`}>
                <p>
                  <strong>{head === null ? 'Genesis draft' : `Version ${p.version}`}</strong> ·
                  verification code{' '}
                  <span className="verification" data-testid="verification-code">
                    {verificationCode(p.hash)}
                  </span>
                </p>
                <p className="muted">
                  Compare this code with the other guardians before you sign: the same code means
                  the same manifest.
                </p>
                <ul>
                  {(head === null ? manifestLines(p.manifest) : p.changes).map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
                <p className="muted">
                  Signatures: {p.signers.own.length} of {p.thresholds.own} (
                  {p.signers.own.map((g) => g.name).join(', ') || 'none'})
                  {p.signers.previous !== null &&
                    `; of the current guardians ${p.signers.previous.length} of ${p.thresholds.previous}`}
                </p>
                <button
                  type="button"
                  disabled={busy !== null || key === null || signed}
                  onClick={() => void sign(p)}
                  data-testid={`sign-${p.version}`}
                >
                  {signed ? 'You signed' : 'Sign'}
                </button>
              </div>
            )
          })}
        </Section>
      )}
      {info && head && key && (
        <Propose
          key={info.hash ?? ''}
          head={head}
          nodeUrl={info.node.url}
          secretKey={key}
          onDone={(s) => {
            setResult(s)
            void load()
          }}
        />
      )}
      {info && info.federationId === null && key && (
        <Ceremony
          secretKey={key}
          onDone={(s) => {
            setResult(s)
            void load()
          }}
        />
      )}
      {chain.length > 0 && (
        <Section title="History of versions">
          <ol data-testid="history">
            {chain.map((s, i) => (
              <li key={manifestHash(s.manifest)}>
                version {s.manifest.version}, issued{' '}
                {new Date(s.manifest.issuedAt * 1000).toLocaleString()}, signed by{' '}
                {s.signatures
                  .map(
                    (x) =>
                      s.manifest.guardians.find((g) => g.pubkey === x.pubkey)?.name ??
                      short(x.pubkey),
                  )
                  .join(', ')}
                <ul>
                  {(i === 0
                    ? ['genesis']
                    : diffManifests(chain[i - 1]!.manifest, s.manifest).map((c) => c.summary)
                  ).map((c) => (
                    <li key={c} className="muted">
                      {c}
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ol>
        </Section>
      )}
    </>
  )
}

function SetupCode(props: { secretKey: Uint8Array; url: string }) {
  const [name, setName] = useState('')
  const [code, setCode] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  return (
    <Section title="Your setup code">
      <p className="muted">
        For a new federation: give your name and your node’s URL; send the code to the guardian who
        drafts.
      </p>
      <div className="row wrap">
        <input
          placeholder="your name (as in the manifest)"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <button
          type="button"
          className="secondary"
          onClick={() => {
            try {
              setCode(encodeSetupCode({ name: name.trim(), url: props.url }, props.secretKey))
              setError(null)
            } catch (e) {
              setError(e)
            }
          }}
        >
          Show my setup code
        </button>
      </div>
      {code && (
        <p className="code-box" data-testid="setup-code">
          {code}
        </p>
      )}
      <ErrorBox error={error} />
    </Section>
  )
}

function Propose(props: {
  head: Manifest
  nodeUrl: string
  secretKey: Uint8Array
  onDone: (s: string) => void
}) {
  const { head } = props
  const [threshold, setThreshold] = useState(String(head.threshold))
  const [name, setName] = useState(head.name)
  const [remove, setRemove] = useState('')
  const [alias, setAlias] = useState('')
  const [pubkey, setPubkey] = useState('')
  const [preview, setPreview] = useState<Manifest | null>(null)
  const { busy, error, run, setError } = useAction()
  const edits = (): ManifestEdit[] => {
    const list: ManifestEdit[] = []
    if (name.trim() !== head.name) list.push({ op: 'set-name', name: name.trim() })
    if (Number(threshold) !== head.threshold)
      list.push({ op: 'set-threshold', threshold: Number(threshold) })
    if (remove) list.push({ op: 'remove-coordinator', pubkey: remove })
    if (alias.trim() && pubkey.trim()) {
      list.push({
        op: 'add-coordinator',
        coordinator: {
          pubkey: pubkey.trim(),
          alias: alias.trim(),
          description: '',
          contact: {},
          nodes: [],
        },
      })
    }
    return list
  }
  const draft = () => {
    const now = Math.floor(Date.now() / 1000)
    return nextManifestDraft(head, edits(), { issuedAt: now, expiresAt: now + 365 * 86_400 })
  }
  return (
    <Section title={`Propose version ${head.version + 1}`}>
      <div className="grid-form">
        <label>
          Name
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="propose-name"
          />
        </label>
        <label>
          Threshold (of {head.guardians.length})
          <input
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
            inputMode="numeric"
            data-testid="propose-threshold"
          />
        </label>
        <label>
          Remove coordinator
          <select value={remove} onChange={(e) => setRemove(e.target.value)}>
            <option value="">—</option>
            {head.coordinators.map((c) => (
              <option key={c.pubkey} value={c.pubkey}>
                {c.alias}
              </option>
            ))}
          </select>
        </label>
        <label>
          Add coordinator: alias
          <input value={alias} onChange={(e) => setAlias(e.target.value)} />
        </label>
        <label>
          its pubkey (hex)
          <input value={pubkey} onChange={(e) => setPubkey(e.target.value)} />
        </label>
      </div>
      <div className="row wrap">
        <button
          type="button"
          className="secondary"
          onClick={() => {
            try {
              setPreview(draft())
              setError(null)
            } catch (e) {
              setError(e)
            }
          }}
          data-testid="propose-preview"
        >
          Show the changes
        </button>
        <button
          type="button"
          disabled={busy !== null}
          data-testid="propose"
          onClick={() =>
            run('Signing the proposal and sending it to the federation’s nodes…', async () => {
              const manifest = draft()
              const r = await postGuardianSignature(
                [props.nodeUrl, ...nodeUrls(head)],
                manifest,
                props.secretKey,
              )
              if (!r.posted[0]?.ok)
                throw new Error(`${props.nodeUrl} refused the proposal: ${r.posted[0]?.error}`)
              props.onDone(
                r.adopted
                  ? `Version ${manifest.version} adopted.`
                  : `Proposed version ${manifest.version} (verification code ${verificationCode(r.hash)}); the other guardians sign it now.`,
              )
            })
          }
        >
          Propose and sign
        </button>
      </div>
      <p className="muted">
        With no change, the proposal only renews the federation’s validity for a year.
      </p>
      {preview && (
        <ul data-testid="propose-diff">
          {diffManifests(head, preview).map((c) => (
            <li key={c.summary}>{c.summary}</li>
          ))}
          {diffManifests(head, preview).length === 0 && (
            <li>validity renewed to {new Date(preview.expiresAt * 1000).toLocaleDateString()}</li>
          )}
        </ul>
      )}
      <Busy label={busy} />
      <ErrorBox error={error} />
    </Section>
  )
}

const pairs = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const at = l.indexOf('=')
      return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()]
    })

function Ceremony(props: { secretKey: Uint8Array; onDone: (s: string) => void }) {
  const [name, setName] = useState('')
  const [threshold, setThreshold] = useState('2')
  const [expect, setExpect] = useState('3')
  const [codes, setCodes] = useState('')
  const [coordinators, setCoordinators] = useState('')
  const [nodes, setNodes] = useState('')
  const [tokens, setTokens] = useState('')
  const [check, setCheck] = useState<FederationDraftCheck | null>(null)
  const { busy, error, run } = useAction()
  // The moment of the check is part of the manifest (issuedAt): posting re-checks the live
  // nodes with the same moment, so the verification code compared is the one signed.
  const params = (now: number) => ({
    name: name.trim(),
    threshold: Number(threshold),
    expectGuardians: Number(expect),
    guardians: codes.split(/\s+/).filter(Boolean),
    drafter: pubkeyOf(props.secretKey),
    coordinators: pairs(coordinators).map(([alias, pubkey]) => ({
      alias: alias!,
      pubkey: pubkey!,
    })),
    nodes: pairs(nodes).map(([coordinator, url]) => ({ coordinator: coordinator!, url: url! })),
    now,
  })
  return (
    <Section title="Found a federation (setup ceremony)">
      <p className="muted">
        This node follows no federation yet. Collect every guardian’s setup code, name the
        coordinators and their nodes, and check the draft: every problem is named before anyone
        signs, and you can fix and check again as often as needed.
      </p>
      <div className="grid-form">
        <label>
          Federation name
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="ceremony-name"
          />
        </label>
        <label>
          Threshold
          <input
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
            inputMode="numeric"
          />
        </label>
        <label>
          Guardians expected
          <input value={expect} onChange={(e) => setExpect(e.target.value)} inputMode="numeric" />
        </label>
      </div>
      <div className="col">
        <textarea
          rows={3}
          placeholder="setup codes (hansasetup1…), one per line"
          value={codes}
          onChange={(e) => setCodes(e.target.value)}
          data-testid="ceremony-codes"
        />
        <textarea
          rows={2}
          placeholder="coordinators: alias=pubkey, one per line"
          value={coordinators}
          onChange={(e) => setCoordinators(e.target.value)}
          data-testid="ceremony-coordinators"
        />
        <textarea
          rows={2}
          placeholder="nodes: coordinator alias=ws://host:port, one per line"
          value={nodes}
          onChange={(e) => setNodes(e.target.value)}
          data-testid="ceremony-nodes"
        />
        <textarea
          rows={2}
          placeholder="setup tokens: ws://host:port=token, one per line (each standalone node prints its own at start)"
          value={tokens}
          onChange={(e) => setTokens(e.target.value)}
          data-testid="ceremony-tokens"
        />
      </div>
      <div className="row wrap">
        <button
          type="button"
          className="secondary"
          disabled={busy !== null}
          data-testid="ceremony-check"
          onClick={() =>
            run('Checking the draft against every node…', async () =>
              setCheck(await checkFederationDraft(params(Math.floor(Date.now() / 1000)))),
            )
          }
        >
          Check the draft
        </button>
        <button
          type="button"
          disabled={busy !== null || !check?.ok}
          data-testid="ceremony-post"
          onClick={() =>
            run('Signing the draft and posting it to every node…', async () => {
              const checkedAt = check?.manifest?.issuedAt ?? Math.floor(Date.now() / 1000)
              const fresh = await checkFederationDraft(params(checkedAt))
              if (!fresh.ok || !fresh.manifest) {
                setCheck(fresh)
                throw new Error('the draft has problems: fix those listed and check again')
              }
              if (fresh.hash !== check?.hash) {
                setCheck(fresh)
                throw new Error(
                  'the draft changed since it was checked (a new verification code is shown): compare the new code, then sign',
                )
              }
              const guardianUrls = codes
                .split(/\s+/)
                .filter(Boolean)
                .map((c) => decodeSetupCode(c).url)
              const urls = [...new Set([...guardianUrls, ...nodeUrls(fresh.manifest)])]
              const setupTokens = Object.fromEntries(
                tokens
                  .split(/\s+/)
                  .filter((line) => line.lastIndexOf('=') > 0)
                  .map((line) => {
                    const at = line.lastIndexOf('=')
                    return [line.slice(0, at).replace(/\/+$/, ''), line.slice(at + 1)]
                  }),
              )
              const r = await postGuardianSignature(urls, fresh.manifest, props.secretKey, {
                setupTokens,
              })
              if (!r.posted.some((x) => x.ok))
                throw new Error(
                  `no node took the draft: ${r.posted.map((x) => `${x.url}: ${x.error}`).join('; ')}`,
                )
              props.onDone(
                r.adopted
                  ? `Sealed. Invite code: ${encodeInviteCode({ federationId: r.hash, urls: nodeUrls(fresh.manifest) })}`
                  : `Draft posted and signed by you (verification code ${verificationCode(r.hash)}). Each guardian now loads it on their node, compares the code and signs.`,
              )
            })
          }
        >
          Sign and post the draft
        </button>
      </div>
      {check && (
        <div data-testid="ceremony-result">
          {check.problems.length > 0 && (
            <div className="error">
              <strong>{check.problems.length} problem(s) — nothing was posted:</strong>
              <ul>
                {check.problems.map((p) => (
                  <li key={p.message}>
                    [{p.rule}] {p.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {check.warnings.map((w) => (
            <p key={w} className="warning">
              {w}
            </p>
          ))}
          {check.ok && check.manifest && check.hash && (
            <>
              <p>
                Verification code:{' '}
                <span className="verification">{verificationCode(check.hash)}</span>
              </p>
              <ul>
                {manifestLines(check.manifest).map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      <Busy label={busy} />
      <ErrorBox error={error} />
    </Section>
  )
}
