// Talking to inbox nodes: one publish or one query per connection, authenticated when the
// node asks (or up front on a metered node, which charges the authenticated key), with the
// SWAP payer booking and paying what a metered node charges. Also: where a user's mail goes —
// her kind 10050 inbox relay list, read from the federation's trusted nodes.
import type { Filter, NostrEvent } from '@hansa/protocol'
import type { HansaClient } from './client.js'
import { payerFor } from './failover.js'
import type { NostrSigner } from './signer.js'
import { rankNodes } from './policy.js'
import {
  type RelayEnv,
  authenticate,
  connectRelay,
  needsAuth,
  publishEvent,
  queryEvents,
} from './relay-connection.js'
import { downSet } from './reports.js'

export const GIFT_WRAP_KIND = 1059
export const INBOX_RELAYS_KIND = 10050

export const relayEnv = (client: HansaClient): RelayEnv => ({
  WebSocket: client.env.WebSocket,
  connectTimeoutMs: client.env.connectMs,
  requestTimeoutMs: client.env.requestMs,
})

/** Publishes `event` to the node at `url`; resolves with its OK message, throws its refusal. */
export async function publishTo(
  client: HansaClient,
  url: string,
  event: NostrEvent,
  signer: NostrSigner | undefined,
): Promise<string> {
  const env = relayEnv(client)
  const conn = await connectRelay(url, env)
  try {
    const payer =
      signer !== undefined && event.kind === GIFT_WRAP_KIND
        ? await payerFor(client, url, 'inbox', signer)
        : null
    let authed = false
    if (payer !== null && signer !== undefined) {
      await authenticate(conn, signer, env)
      authed = true
    }
    let message: string
    try {
      message = await publishEvent(conn, event)
    } catch (error) {
      if (authed || signer === undefined || !needsAuth((error as Error).message)) throw error
      await authenticate(conn, signer, env)
      message = await publishEvent(conn, event)
    }
    if (payer !== null && !message.startsWith('duplicate:')) {
      payer.recordEvent(event)
      await payer.settle()
    }
    return message
  } finally {
    conn.close()
  }
}

/** The stored events matching `filters` at `url`, as `signer`'s key when given (NIP-42). */
export async function queryFrom(
  client: HansaClient,
  url: string,
  filters: Filter[],
  signer: NostrSigner | undefined,
  metered = false,
): Promise<NostrEvent[]> {
  const env = relayEnv(client)
  const conn = await connectRelay(url, env)
  try {
    if (signer !== undefined) await authenticate(conn, signer, env)
    const payer =
      metered && signer !== undefined ? await payerFor(client, url, 'inbox', signer) : null
    const { events } = await queryEvents(conn, filters, env)
    if (payer !== null) {
      payer.recordQuery(events)
      await payer.settle()
    }
    return events
  } finally {
    conn.close()
  }
}

/** The relays of a kind 10050 event, in its order. */
export const relaysOf = (event: NostrEvent): string[] =>
  event.tags.filter((t) => t[0] === 'relay' && typeof t[1] === 'string').map((t) => t[1]!)

/**
 * A user's newest kind 10050 list, asked of the trusted inbox nodes a few at a time (random
 * order, those that failed lately last) until one has it.
 */
export async function findInboxRelays(
  client: HansaClient,
  pubkey: string,
  batch = 3,
): Promise<{ relays: string[]; event: NostrEvent | null; asked: string[] }> {
  const nodes = rankNodes(client.runtime.reports, {
    service: 'inbox',
    policy: 'random',
    random: client.env.random,
    preferCustom: false,
    down: downSet(client),
  }).map((n) => n.url)
  const asked: string[] = []
  let newest: NostrEvent | null = null
  for (let i = 0; i < nodes.length && newest === null; i += batch) {
    const urls = nodes.slice(i, i + batch)
    asked.push(...urls)
    const found = await Promise.all(
      urls.map((url) =>
        queryFrom(
          client,
          url,
          [{ kinds: [INBOX_RELAYS_KIND], authors: [pubkey], limit: 1 }],
          undefined,
        ).catch(() => [] as NostrEvent[]),
      ),
    )
    // NIP-01's rule for replaceable events: the newest, and of equals the lowest id.
    for (const e of found.flat()) {
      if (e.pubkey !== pubkey) continue
      if (
        newest === null ||
        e.created_at > newest.created_at ||
        (e.created_at === newest.created_at && e.id < newest.id)
      ) {
        newest = e
      }
    }
  }
  return { relays: newest ? relaysOf(newest) : [], event: newest, asked }
}
