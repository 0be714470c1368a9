// The inbox: NIP-17 mail read from the user's inbox nodes, new mail arriving live through
// the SDK's watch (which fails over to her next node when one is lost, and says so), and
// sending to an npub or hex key (delivered to every node of the recipient's kind 10050 list).
import type { HansaClient, InboxMessage, WatchStatus } from '@hansa/client'
import { useEffect, useState } from 'react'
import { npubOf, short } from '../keys.js'
import { Busy, ErrorBox, Section, useAction } from '../ui.js'

export function InboxView(props: { client: HansaClient }) {
  const { client } = props
  const relays = client.store.load().inboxRelays
  const [messages, setMessages] = useState<InboxMessage[]>([])
  const [status, setStatus] = useState<WatchStatus | null>(null)
  const [to, setTo] = useState('')
  const [body, setBody] = useState('')
  const [sent, setSent] = useState<string | null>(null)
  const { busy, error, run } = useAction()
  const relaysKey = relays.join(' ')
  useEffect(() => {
    if (client.pubkey === null || relaysKey === '') return
    const add = (m: InboxMessage) =>
      setMessages((list) =>
        list.some((x) => x.id === m.id)
          ? list
          : [m, ...list].sort((a, b) => b.createdAt - a.createdAt),
      )
    const watch = client.inbox.watch({ onMessage: add, onStatus: setStatus })
    return () => watch.stop()
  }, [client, relaysKey])

  if (client.pubkey === null)
    return (
      <Section title="Inbox">
        <p>Create or import a key above to read and send mail.</p>
      </Section>
    )
  return (
    <>
      <Section title="Inbox">
        {relays.length === 0 ? (
          <div className="error">
            No node holds your mail yet. What to do: open the Nodes screen and pick an inbox node
            (“Subscribe…” or “Use as my inbox”).
          </div>
        ) : (
          <p className="muted" data-testid="inbox-status">
            Your mail nodes: {relays.join(', ')}.{' '}
            {status === null
              ? 'Connecting…'
              : status.kind === 'serving'
                ? `Live on ${status.url}${status.afterLossMs !== null ? ` (took over ${Math.round(status.afterLossMs)} ms after the last one was lost)` : ''}.`
                : status.kind === 'lost'
                  ? `Lost ${status.url}: ${status.reason}; moving to the next node…`
                  : `${status.url} failed: ${status.reason}`}
          </p>
        )}
        {status?.kind === 'failed' && status.code === 'HANSA_CHEQUEBOOK_MISSING' && (
          <div className="error" data-testid="inbox-chequebook-missing">
            {status.url} is paid by cheques from a chequebook on chain, and you have none yet: your
            mail there goes unpaid until the node stops serving you. What to do: open the Nodes
            screen, press Subscribe… on {status.url}, and deploy and fund a chequebook from your
            Ethereum wallet.
          </div>
        )}
        <ul className="messages" data-testid="messages">
          {messages.map((m) => (
            <li key={m.id}>
              <div className="muted">
                from <code title={m.from}>{npubOf(m.from).slice(0, 20)}…</code> ·{' '}
                {new Date(m.createdAt * 1000).toLocaleString()}
                {m.subject ? ` · ${m.subject}` : ''}
              </div>
              <div className="message-body">{m.content}</div>
            </li>
          ))}
          {messages.length === 0 && relays.length > 0 && (
            <li className="muted">No mail yet. New mail appears here as it arrives.</li>
          )}
        </ul>
        <button
          type="button"
          className="secondary"
          disabled={busy !== null || relays.length === 0}
          onClick={() =>
            run('Reading your stored mail…', async () => {
              const r = await client.inbox.read()
              setMessages((list) => {
                const byId = new Map(list.map((m) => [m.id, m]))
                for (const m of r.messages) byId.set(m.id, m)
                return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt)
              })
            })
          }
        >
          Read stored mail
        </button>
      </Section>
      <Section title="Send">
        <div className="col">
          <input
            placeholder="recipient: npub1… or hex key"
            value={to}
            onChange={(e) => setTo(e.target.value)}
            data-testid="mail-to"
          />
          <textarea
            placeholder="message"
            rows={3}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            data-testid="mail-body"
          />
          <button
            type="button"
            disabled={busy !== null || to.trim() === '' || body.trim() === ''}
            data-testid="mail-send"
            onClick={() =>
              run('Finding the recipient’s mail nodes and delivering…', async () => {
                setSent(null)
                const r = await client.inbox.send({ recipient: to.trim(), message: body })
                const ok = r.delivered.filter((d) => d.ok)
                const failed = r.delivered.filter((d) => !d.ok)
                if (ok.length === 0) {
                  throw new Error(
                    `no node took the message: ${failed.map((d) => `${d.url}: ${d.message}`).join('; ')}`,
                  )
                }
                setSent(
                  `Delivered to ${ok.map((d) => d.url).join(', ')}${failed.length ? `; refused by ${failed.map((d) => `${d.url} (${d.message})`).join(', ')}` : ''}.`,
                )
                setBody('')
              })
            }
          >
            Send
          </button>
        </div>
        {sent && (
          <p className="ok" data-testid="mail-sent">
            {sent}
          </p>
        )}
        <Busy label={busy} />
        <ErrorBox error={error} />
        <p className="muted">
          Your address: <code>{client.pubkey ? npubOf(client.pubkey) : ''}</code> (
          {client.pubkey ? short(client.pubkey) : ''})
        </p>
      </Section>
    </>
  )
}
