// inbox.send(client, { recipient, message }): a NIP-17 private message in a NIP-59 gift wrap
// (gift-wrap.ts, sealed by the user's signer), delivered to the recipient's inbox nodes — her
// kind 10050 list, asked of the federation's trusted nodes — all at once, so she finds it at
// whichever she reads from. A node that is down or refuses (no subscription for her, payment
// required) is marked down and reported; the send succeeds when at least one node stored the
// message. A node that asks for AUTH gets it; a metered one is paid through the SWAP payer.
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { wrapMessage } from '../gift-wrap.js'
import { AllNodesFailedError, NoInboxRelaysError } from '../errors.js'
import { healthyFirst } from '../failover.js'
import { findInboxRelays, publishTo } from '../inbox-io.js'
import { parsePubkey } from '../inbox-messages.js'
import { markDown, markUp } from '../reports.js'
import { listNodes } from './list-nodes.js'

export type InboxSendParams = {
  /** 64 hex or npub1…. */
  recipient: string
  message: string
  subject?: string
  /** Her inbox relays, when known; otherwise her kind 10050 list is looked up. */
  relays?: string[]
}

export type Delivery = { url: string; ok: boolean; message: string }

export type InboxSendResult = {
  wrapId: string
  recipient: string
  recipientRelays: string[]
  delivered: Delivery[]
  durationMs: number
}

export async function sendToInbox(
  client: HansaClient,
  params: InboxSendParams,
): Promise<InboxSendResult> {
  const started = client.env.clock()
  const signer = requireSigner(client, 'sending a message')
  const recipient = parsePubkey(params.recipient)
  let relays = params.relays
  if (relays === undefined) {
    if (client.runtime.reports.length === 0) await listNodes(client)
    const found = await findInboxRelays(client, recipient)
    if (found.relays.length === 0) throw new NoInboxRelaysError(recipient, found.asked)
    relays = found.relays
  }
  const wrap = await wrapMessage(
    signer,
    recipient,
    params.message,
    params.subject,
    client.env.now,
    client.env.random,
  )
  const delivered: Delivery[] = await Promise.all(
    healthyFirst(client, relays).map((url) =>
      publishTo(client, url, wrap, signer).then(
        (message) => {
          markUp(client, url)
          return { url, ok: true, message }
        },
        (error: Error) => {
          markDown(client, url)
          return { url, ok: false, message: error.message }
        },
      ),
    ),
  )
  if (!delivered.some((d) => d.ok)) {
    throw new AllNodesFailedError(
      `delivering to ${recipient.slice(0, 12)}…`,
      delivered.map((d) => ({ url: d.url, error: d.message })),
    )
  }
  return {
    wrapId: wrap.id,
    recipient,
    recipientRelays: relays,
    delivered,
    durationMs: Math.round(client.env.clock() - started),
  }
}
