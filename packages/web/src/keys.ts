// Keys and signers. A role signs either with a key kept in this browser's localStorage (said
// plainly, offered for export) or, when the user chose it, with a NIP-07 browser signer
// (window.nostr), in which case no key is stored at all — only the choice. Everything the
// user does that is a Nostr event or NIP-44 goes through the signer (@hansa/client's
// NostrSigner: AUTH, NIP-98, orders, mail); what is not — an EIP-712 ledger cheque, SWAP, a
// guardian's signature over a manifest hash — needs a key here (see docs/web-app.md, Keys).
// Roles keep separate keys: the user's, a guardian's, a coordinator's (node or admin key).
import { type NostrSigner, nip07Signer } from '@hansa/client'
import { bytesToHex, generateSecretKey, hexToBytes, nostrPublicKey } from '@hansa/protocol'
import { decode, npubEncode, nsecEncode } from 'nostr-tools/nip19'

export type Role = 'user' | 'guardian' | 'coordinator'

export type Nip07 = {
  getPublicKey(): Promise<string>
  nip44?: {
    encrypt(pubkey: string, plaintext: string): Promise<string>
    decrypt(pubkey: string, ciphertext: string): Promise<string>
  }
  signEvent(template: {
    kind: number
    created_at: number
    tags: string[][]
    content: string
  }): Promise<{
    id: string
    pubkey: string
    sig: string
    kind: number
    created_at: number
    tags: string[][]
    content: string
  }>
}

export function nip07(): Nip07 | null {
  const n = (globalThis as { nostr?: Nip07 }).nostr
  return n && typeof n.getPublicKey === 'function' ? n : null
}

const slot = (role: Role) => `hansa.key.${role}`
const signerSlot = (role: Role) => `hansa.signer.${role}`

/** Whether `role` chose the browser signer (only the choice is stored, never a key). */
export const usesNip07 = (role: Role) => localStorage.getItem(signerSlot(role)) === 'nip07'

/** The browser signer for `role`, when chosen and present; null otherwise. */
export async function loadNip07Signer(role: Role): Promise<NostrSigner | null> {
  const n = nip07()
  if (!usesNip07(role) || n === null) return null
  return nip07Signer(n)
}

export async function chooseNip07(role: Role): Promise<NostrSigner> {
  const n = nip07()
  if (n === null)
    throw new Error('No browser signer (NIP-07) in this browser: install one, or keep a key here.')
  const signer = await nip07Signer(n)
  localStorage.setItem(signerSlot(role), 'nip07')
  return signer
}

export function leaveNip07(role: Role): void {
  localStorage.removeItem(signerSlot(role))
}

export function loadKey(role: Role): Uint8Array | null {
  const hex = localStorage.getItem(slot(role))
  if (hex === null || !/^[0-9a-f]{64}$/.test(hex)) return null
  return hexToBytes(hex)
}

export function createKey(role: Role): Uint8Array {
  const key = generateSecretKey()
  localStorage.setItem(slot(role), bytesToHex(key))
  return key
}

/** A hex or nsec secret; throws with what to do when it is neither. */
export function importKey(role: Role, text: string): Uint8Array {
  const t = text.trim()
  let key: Uint8Array
  if (t.startsWith('nsec1')) {
    const decoded = decode(t)
    if (decoded.type !== 'nsec')
      throw new Error('That is not an nsec key: paste an nsec1… or 64 hex characters.')
    key = decoded.data
  } else if (/^[0-9a-fA-F]{64}$/.test(t)) {
    key = hexToBytes(t.toLowerCase())
  } else {
    throw new Error(
      'Not a secret key: paste an nsec1… or 64 hex characters (a key file holds them).',
    )
  }
  nostrPublicKey(key) // throws on a value outside the curve's range
  localStorage.setItem(slot(role), bytesToHex(key))
  return key
}

export function forgetKey(role: Role): void {
  localStorage.removeItem(slot(role))
}

export const pubkeyOf = (key: Uint8Array) => nostrPublicKey(key)
export const npubOf = (pubkey: string) => npubEncode(pubkey)
export const nsecOf = (key: Uint8Array) => nsecEncode(key)
export const short = (hex: string, n = 8) => `${hex.slice(0, n)}…${hex.slice(-4)}`
