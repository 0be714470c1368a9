// The user's signer: what signs her Nostr events (NIP-42 AUTH, NIP-98 requests, orders, her
// inbox relay list, a message's seal) and opens and seals her mail (NIP-44). Two backends
// behind one interface: a secret key held by this process (`localSigner`), or a NIP-07
// browser extension that holds it elsewhere (`nip07Signer`, over `window.nostr`).
//
// What is not a Nostr event cannot go through NIP-07: an EIP-712 cheque (the ledger rail and
// SWAP) and a guardian's BIP-340 signature over a manifest hash need the key itself, which
// only a local signer carries (`secretKey`); `requireSecret` names the act that needs it.
import type { EventTemplate, VerifiedEvent } from 'nostr-tools/core'
import * as nip44 from 'nostr-tools/nip44'
import { finalizeEvent, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import { SignerError } from './errors.js'

export type NostrSigner = {
  /** Her pubkey (64 hex). */
  readonly pubkey: string
  /** 'local': the key is here; 'nip07': a browser extension holds it. */
  readonly kind: 'local' | 'nip07'
  /** The secret, for a local signer only. */
  readonly secretKey?: Uint8Array
  signEvent(template: EventTemplate): Promise<VerifiedEvent>
  /** NIP-44 v2 between her key and `peer`. */
  encrypt(peer: string, plaintext: string): Promise<string>
  decrypt(peer: string, ciphertext: string): Promise<string>
}

/** A signer over a secret key held by this process. */
export function localSigner(secretKey: Uint8Array): NostrSigner {
  const conversation = new Map<string, Uint8Array>()
  const keyFor = (peer: string) => {
    let k = conversation.get(peer)
    if (k === undefined) {
      k = nip44.getConversationKey(secretKey, peer)
      conversation.set(peer, k)
    }
    return k
  }
  return {
    pubkey: getPublicKey(secretKey),
    kind: 'local',
    secretKey,
    signEvent: async (template) => finalizeEvent(template, secretKey),
    encrypt: async (peer, plaintext) => nip44.encrypt(plaintext, keyFor(peer)),
    decrypt: async (peer, ciphertext) => nip44.decrypt(ciphertext, keyFor(peer)),
  }
}

/** What NIP-07 (`window.nostr`) offers: the pubkey, signEvent, and NIP-44. */
export type Nip07Provider = {
  getPublicKey(): Promise<string>
  signEvent(template: EventTemplate): Promise<unknown>
  nip44?: {
    encrypt(pubkey: string, plaintext: string): Promise<string>
    decrypt(pubkey: string, ciphertext: string): Promise<string>
  }
}

/**
 * A NIP-07 extension's answer is checked like any event from outside: it must verify, be hers,
 * and be the event asked for (kind, time, tags and content).
 */
function checkedEvent(event: unknown, pubkey: string, asked: EventTemplate): VerifiedEvent {
  const e = event as VerifiedEvent
  if (
    typeof e !== 'object' ||
    e === null ||
    e.pubkey !== pubkey ||
    e.kind !== asked.kind ||
    e.created_at !== asked.created_at ||
    e.content !== asked.content ||
    JSON.stringify(e.tags) !== JSON.stringify(asked.tags) ||
    !verifyEvent(e)
  ) {
    throw new SignerError(
      'HANSA_SIGNER_REFUSED',
      'the browser signer returned an event that does not verify as your key, or not the one asked for',
      'Check the extension (NIP-07) holds the key you signed in with, or use a key kept in this browser.',
    )
  }
  return e
}

/** A signer over a NIP-07 browser extension; asks it for the pubkey once. */
export async function nip07Signer(provider: Nip07Provider): Promise<NostrSigner> {
  const pubkey = await provider.getPublicKey()
  if (!/^[0-9a-f]{64}$/.test(pubkey)) {
    throw new SignerError(
      'HANSA_SIGNER_REFUSED',
      'the browser signer gave no pubkey',
      'Unlock the extension (NIP-07) and allow this page, then try again.',
    )
  }
  const nip44Of = () => {
    if (provider.nip44 === undefined) {
      throw new SignerError(
        'HANSA_SIGNER_UNSUPPORTED',
        'the browser signer has no NIP-44 encryption (window.nostr.nip44)',
        'Mail (NIP-17) needs NIP-44: update the extension, or use a key kept in this browser.',
      )
    }
    return provider.nip44
  }
  return {
    pubkey,
    kind: 'nip07',
    signEvent: async (template) =>
      checkedEvent(await provider.signEvent(template), pubkey, template),
    encrypt: async (peer, plaintext) => nip44Of().encrypt(peer, plaintext),
    decrypt: async (peer, ciphertext) => nip44Of().decrypt(peer, ciphertext),
  }
}

/**
 * The secret key behind `signer`, for an act that is not a Nostr event (an EIP-712 cheque, a
 * manifest signature); a SignerError naming the act when a NIP-07 extension holds the key.
 */
export function requireSecret(signer: NostrSigner, what: string): Uint8Array {
  if (signer.secretKey !== undefined) return signer.secretKey
  throw new SignerError(
    'HANSA_SIGNER_NEEDS_SECRET',
    `${what} needs the key itself, which the browser signer (NIP-07) does not hand out`,
    'It is signed as EIP-712 or over a hash, not as a Nostr event: pay on the evm rail with a wallet, or use a key kept in this browser for this act.',
  )
}
