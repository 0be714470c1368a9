// Join: an invite code (pasted, or in the link as #nodes?invite=hansa1…), or the federation
// of the node that served this page. The SDK verifies the manifest chain against the code's
// federation id before anything is shown.
import { type HansaClient, getFederation } from '@hansa/client'
import { encodeInviteCode } from '@hansa/protocol'
import { useState } from 'react'
import { servingNodeUrl } from '../hansa.js'
import { Busy, ErrorBox, Section, useAction } from '../ui.js'

function inviteInLink(): string {
  const m = /[?&#]invite=(hansa1[0-9a-z]+)/.exec(location.hash + location.search)
  return m?.[1] ?? ''
}

export function JoinView(props: { client: HansaClient; onJoined: () => void }) {
  const [code, setCode] = useState(inviteInLink)
  const { busy, error, run } = useAction()
  const join = (inviteCode: string) =>
    run('Fetching and verifying the federation’s signed manifest…', async () => {
      await props.client.join({ inviteCode: inviteCode.trim() })
      props.onJoined()
    })
  return (
    <Section title="Join a federation">
      <p>
        Paste the invite code a guardian or coordinator gave you. The app checks every version of
        the federation’s manifest against it before showing any node.
      </p>
      <div className="row wrap">
        <input
          className="grow"
          placeholder="hansa1…"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          data-testid="invite-code"
        />
        <button
          type="button"
          disabled={busy !== null || code.trim() === ''}
          onClick={() => join(code)}
          data-testid="join"
        >
          Join
        </button>
      </div>
      <p className="muted">or</p>
      <button
        type="button"
        className="secondary"
        disabled={busy !== null}
        data-testid="join-this-node"
        onClick={() =>
          run('Asking this node which federation it follows…', async () => {
            const url = servingNodeUrl()
            const info = await getFederation(url, { timeoutMs: 5000 })
            if (info.federationId === null) {
              throw new Error(`${url} follows no federation yet (it is standalone)`)
            }
            await props.client.join({
              inviteCode: encodeInviteCode({ federationId: info.federationId, urls: [url] }),
            })
            props.onJoined()
          })
        }
      >
        Join the federation of this node ({location.host})
      </button>
      <Busy label={busy} />
      <ErrorBox error={error} />
    </Section>
  )
}
