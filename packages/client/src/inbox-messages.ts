// Gift wraps to messages: NIP-59 unwrapping through the user's signer (gift-wrap.ts), one message per rumor even
// when the same wrap was kept by several nodes, oldest first. A wrap that is not for this key
// or does not decrypt is skipped, not an error: anyone may send anything to an inbox.
import type { NostrEvent } from '@hansa/protocol'
import { decode } from 'nostr-tools/nip19'
import { HansaError } from '@hansa/protocol'
import { unwrapMessage } from './gift-wrap.js'
import type { NostrSigner } from './signer.js'

export type InboxMessage = {
  /** The rumor's id (the same message delivered twice has one id). */
  id: string
  /** The gift wrap's id. */
  wrapId: string
  /** The sender's pubkey (from the seal, signed by the sender). */
  from: string
  content: string
  subject: string | null
  /** The rumor's created_at (the wrap's is randomised by NIP-59). */
  createdAt: number
  /** Nodes it was read from. */
  relays: string[]
}

export async function unwrapOne(
  wrap: NostrEvent,
  signer: NostrSigner,
  relay: string,
): Promise<InboxMessage | null> {
  try {
    const rumor = await unwrapMessage(signer, wrap)
    return {
      id: rumor.id,
      wrapId: wrap.id,
      from: rumor.pubkey,
      content: rumor.content,
      subject: rumor.tags.find((t) => t[0] === 'subject')?.[1] ?? null,
      createdAt: rumor.created_at,
      relays: [relay],
    }
  } catch {
    return null
  }
}

/** Adds messages to `into` (by rumor id), merging the relays of duplicates. */
export function mergeMessages(into: Map<string, InboxMessage>, messages: InboxMessage[]): void {
  for (const m of messages) {
    const known = into.get(m.id)
    if (known) known.relays = [...new Set([...known.relays, ...m.relays])]
    else into.set(m.id, m)
  }
}

export const sortedMessages = (messages: Map<string, InboxMessage>): InboxMessage[] =>
  [...messages.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))

/** A recipient as 64 hex or npub1…; throws a HansaError naming what is wrong. */
export function parsePubkey(value: string): string {
  const v = value.trim()
  if (/^[0-9a-f]{64}$/.test(v)) return v
  if (v.startsWith('npub1')) {
    try {
      const decoded = decode(v as `npub1${string}`)
      if (decoded.type === 'npub') return decoded.data
    } catch {
      // falls through to the error below
    }
  }
  throw new HansaError('HANSA_PUBKEY_INVALID', `${v.slice(0, 20)} is not a pubkey`, {
    details: 'Give 64 lowercase hex characters or an npub1… key.',
  })
}
