// The user's key. A NIP-07 browser signer (window.nostr) is used when present for what it can
// do — naming her pubkey and signing NIP-98 requests; paying (EIP-712 cheques) and NIP-17 mail
// (NIP-44 encryption by the SDK) need the secret itself, so the app also keeps a key in this
// browser's localStorage, says so plainly, and offers it for export. Roles keep separate keys:
// the user's, a guardian's, a coordinator's (node or admin key).
import { bytesToHex, generateSecretKey, hexToBytes, nostrPublicKey } from '@hansa/protocol'
import { decode, npubEncode, nsecEncode } from 'nostr-tools/nip19'

export type Role = 'user' | 'guardian' | 'coordinator'

export type Nip07 = {
  getPublicKey(): Promise<string>
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
