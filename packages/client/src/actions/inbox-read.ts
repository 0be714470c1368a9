// inbox.read(client): the user's mail, after NIP-42 AUTH, from her inbox nodes (those
// subscribe() chose, else her published kind 10050 list): the first that answers serves it,
// failing over to the next when one is down or refuses; `all` reads every one and merges.
// Messages are unwrapped (NIP-59) and deduplicated by rumor id, oldest first.
import type { HansaClient } from '../client.js'
import { requireSigner } from '../client.js'
import { AllNodesFailedError, NoInboxRelaysError } from '../errors.js'
import { type Attempt, healthyFirst, tryInOrder } from '../failover.js'
import { GIFT_WRAP_KIND, findInboxRelays, queryFrom } from '../inbox-io.js'
import { type InboxMessage, mergeMessages, sortedMessages, unwrapOne } from '../inbox-messages.js'
import { markDown, markUp } from '../reports.js'
import { listNodes } from './list-nodes.js'

export type InboxReadParams = {
  /** Default: the inbox relays in the store, else the user's kind 10050 list. */
  relays?: string[]
  /** Read every relay and merge (default: the first that answers). */
  all?: boolean
}

export type InboxReadResult = {
  messages: InboxMessage[]
  /** The nodes that answered. */
  servedBy: string[]
  attempts: Attempt[]
  durationMs: number
}

/** The user's inbox relays: given, stored, or her published list. */
export async function ownInboxRelays(client: HansaClient, given?: string[]): Promise<string[]> {
  if (given !== undefined && given.length > 0) return given
  const stored = client.store.load().inboxRelays
  if (stored.length > 0) return stored
  if (client.runtime.reports.length === 0) await listNodes(client)
  const found = await findInboxRelays(client, client.pubkey!)
  if (found.relays.length === 0) throw new NoInboxRelaysError(client.pubkey!, found.asked)
  return found.relays
}

export async function readInbox(
  client: HansaClient,
  params: InboxReadParams = {},
): Promise<InboxReadResult> {
  const started = client.env.clock()
  const signer = requireSigner(client, 'reading the inbox')
  const me = client.pubkey!
  const relays = healthyFirst(client, await ownInboxRelays(client, params.relays))
  const filter = { kinds: [GIFT_WRAP_KIND], '#p': [me] }
  const read = (url: string) => queryFrom(client, url, [filter], signer, true)
  const messages = new Map<string, InboxMessage>()
  const unwrapAll = async (url: string, wraps: Awaited<ReturnType<typeof read>>) =>
    mergeMessages(
      messages,
      (await Promise.all(wraps.map((w) => unwrapOne(w, signer, url)))).filter(
        (m): m is InboxMessage => m !== null,
      ),
    )
  let servedBy: string[]
  let attempts: Attempt[]
  if (params.all) {
    const results = await Promise.all(
      relays.map((url) =>
        read(url).then(
          (wraps) => ({ url, wraps, error: null }),
          (error: Error) => ({ url, wraps: [], error: error.message }),
        ),
      ),
    )
    servedBy = []
    attempts = []
    for (const r of results) {
      if (r.error === null) {
        markUp(client, r.url)
        servedBy.push(r.url)
        await unwrapAll(r.url, r.wraps)
      } else {
        markDown(client, r.url)
        attempts.push({ url: r.url, error: r.error })
      }
    }
    if (servedBy.length === 0) throw new AllNodesFailedError('reading the inbox', attempts)
  } else {
    const result = await tryInOrder(client, 'reading the inbox', relays, read)
    await unwrapAll(result.url, result.value)
    servedBy = [result.url]
    attempts = result.attempts
  }
  return {
    messages: sortedMessages(messages),
    servedBy,
    attempts,
    durationMs: Math.round(client.env.clock() - started),
  }
}
