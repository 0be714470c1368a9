// inbox.publishRelays(client, { relays }): signs the user's kind 10050 inbox relay list (NIP-17:
// where to send her mail) and publishes it to those relays and to every other trusted inbox
// node, so a sender asking any node of the federation finds it.
import type { NostrEvent } from '@hansa/protocol'
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { AllNodesFailedError } from '../errors.js'
import { INBOX_RELAYS_KIND, publishTo } from '../inbox-io.js'
import { isEligible } from '../policy.js'

export type PublishInboxRelaysParams = {
  /** Default: the inbox relays in the store (those subscribe() chose). */
  relays?: string[]
}

export type PublishInboxRelaysResult = {
  event: NostrEvent
  published: Array<{ url: string; ok: boolean; message: string }>
}

export async function publishInboxRelays(
  client: HansaClient,
  params: PublishInboxRelaysParams = {},
): Promise<PublishInboxRelaysResult> {
  const signer = requireSigner(client, 'publishing the inbox relay list')
  const state = client.store.load()
  const relays = params.relays ?? state.inboxRelays
  // Later than the last list, even within the same second (see ClientState.inboxRelaysAt).
  const createdAt = Math.max(client.env.now(), state.inboxRelaysAt + 1)
  client.store.save({ ...client.store.load(), inboxRelaysAt: createdAt })
  const event = (await signer.signEvent({
    kind: INBOX_RELAYS_KIND,
    created_at: createdAt,
    tags: relays.map((url) => ['relay', url]),
    content: '',
  })) as NostrEvent
  const others = client.runtime.reports
    .filter((r) => isEligible(r, 'inbox') && !relays.includes(r.url))
    .map((r) => r.url)
  const targets = [...relays, ...others]
  const published = await Promise.all(
    targets.map((url) =>
      publishTo(client, url, event, signer).then(
        (message) => ({ url, ok: true, message }),
        (error: Error) => ({ url, ok: false, message: error.message }),
      ),
    ),
  )
  if (!published.some((p) => p.ok)) {
    throw new AllNodesFailedError(
      'publishing the inbox relay list',
      published.map((p) => ({ url: p.url, error: p.message })),
    )
  }
  return { event, published }
}
