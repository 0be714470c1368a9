// NIP-17 private messages in NIP-59 gift wraps, sealed and opened through the user's signer
// (signer.ts), so a NIP-07 extension does her part — the seal's signature and both NIP-44
// layers addressed to her — and her key never has to be in the page. The wrap itself is
// signed by a throw-away key made here, as NIP-59 says; nostr-tools' createWrap does that.
import type { NostrEvent } from '@hansa/protocol'
import type { EventTemplate } from 'nostr-tools/core'
import { createWrap } from 'nostr-tools/nip59'
import { getEventHash, verifyEvent } from 'nostr-tools/pure'
import type { NostrSigner } from './signer.js'

const SEAL_KIND = 13
const GIFT_WRAP_KIND = 1059
const PRIVATE_MESSAGE_KIND = 14
const TWO_DAYS = 2 * 86_400

export type Rumor = EventTemplate & { id: string; pubkey: string }

/** Wraps a kind 14 message from the signer to `recipient` (64 hex). */
export async function wrapMessage(
  signer: NostrSigner,
  recipient: string,
  message: string,
  subject?: string,
  now: () => number = () => Math.floor(Date.now() / 1000),
  random: () => number = Math.random,
): Promise<NostrEvent> {
  const tags = [['p', recipient]]
  if (subject) tags.push(['subject', subject])
  const unsigned = {
    kind: PRIVATE_MESSAGE_KIND,
    created_at: now(),
    tags,
    content: message,
    pubkey: signer.pubkey,
  }
  const rumor: Rumor = { ...unsigned, id: getEventHash(unsigned) }
  // NIP-59: the seal's time is randomised up to two days back, so it tells nothing.
  const seal = await signer.signEvent({
    kind: SEAL_KIND,
    created_at: Math.round(now() - random() * TWO_DAYS),
    tags: [],
    content: await signer.encrypt(recipient, JSON.stringify(rumor)),
  })
  return createWrap(seal, recipient) as NostrEvent
}

/** Opens a wrap addressed to the signer; throws when it is not hers or does not check out. */
export async function unwrapMessage(signer: NostrSigner, wrap: NostrEvent): Promise<Rumor> {
  if (wrap.kind !== GIFT_WRAP_KIND) throw new Error(`not a gift wrap (kind ${wrap.kind})`)
  const seal = JSON.parse(await signer.decrypt(wrap.pubkey, wrap.content)) as NostrEvent
  if (seal.kind !== SEAL_KIND || !verifyEvent(seal)) throw new Error('the seal does not verify')
  const rumor = JSON.parse(await signer.decrypt(seal.pubkey, seal.content)) as Rumor
  if (rumor.pubkey !== seal.pubkey) throw new Error('the message is not from the seal’s signer')
  if (rumor.id !== getEventHash(rumor)) throw new Error('the message’s id does not match it')
  return rumor
}
