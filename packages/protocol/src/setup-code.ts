// Guardian setup codes: what each guardian shows the others at the setup ceremony (DESIGN.md
// "Setup ceremony"): the guardian's name, public key and node URL in one copy-pasteable
// string, bech32m with the prefix `hansasetup` (an invite code's is `hansa`), signed by the
// guardian's key so that a code proves its key is held by whoever made it and a pasted code
// cannot be altered (bech32m catches typos; the signature catches edits).
//
// Payload, format 1 (bytes, before bech32m's 5-bit regrouping):
//   [0]          format version, 0x01
//   [1..33)      the guardian's x-only public key
//   [33..97)     BIP-340 signature of sha256(canonical JSON of
//                {"format":1,"name":…,"pubkey":…,"type":"hansa-setup-code","url":…})
//   [97]         length of the name in UTF-8 bytes, 1..255, then the name
//   then a 2-byte big-endian length and the node URL (ws:// or wss://) in UTF-8.
// Nothing may follow the URL. The name follows the manifest's rule for a guardian's name.
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bech32m } from '@scure/base'
import { canonicalBytes } from './canonical-json.js'
import { HansaError } from './errors.js'
import { bytesToHex, isXOnlyPublicKey, lowerHexToBytes } from './hex.js'
import { MANIFEST_LIMITS } from './manifest-types.js'
import { nodeUrlProblem } from './manifest-validation.js'

export const SETUP_CODE_PREFIX = 'hansasetup'
export const SETUP_CODE_FORMAT = 1
export const SETUP_CODE_MAX_LENGTH = 1023

export type SetupCode = {
  /** The guardian's name, as it will appear in the manifest. */
  name: string
  /** The guardian's x-only public key (lowercase hex). */
  pubkey: string
  /** The ws:// or wss:// URL of the guardian's node. */
  url: string
}

/** A setup code that does not decode, or that cannot be made from what was given. */
export class SetupCodeInvalidError extends HansaError {
  override name = 'SetupCodeInvalidError'
  override readonly code = 'HANSA_SETUP_CODE_INVALID'
  readonly reason: string
  constructor(reason: string, cause?: unknown) {
    super('HANSA_SETUP_CODE_INVALID', `Invalid setup code: ${reason}`, { cause })
    this.reason = reason
  }
}

function refuse(reason: string, cause?: unknown): never {
  throw new SetupCodeInvalidError(reason, cause)
}

function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'the name must be a string'
  const length = [...name].length
  if (length < 1 || length > MANIFEST_LIMITS.guardianNameLength) {
    return `the name must be 1 to ${MANIFEST_LIMITS.guardianNameLength} characters long`
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'the name must not contain control characters'
  return null
}

function message(code: SetupCode): Uint8Array {
  return sha256(
    canonicalBytes({
      type: 'hansa-setup-code',
      format: SETUP_CODE_FORMAT,
      name: code.name,
      pubkey: code.pubkey,
      url: code.url,
    }),
  )
}

/** Makes a guardian's setup code, signed with the guardian's secret key (32 bytes). */
export function encodeSetupCode(
  fields: { name: string; url: string },
  secretKey: Uint8Array,
): string {
  const problem = nameProblem(fields.name)
  if (problem !== null) refuse(problem)
  const urlProblem = nodeUrlProblem(fields.url)
  if (urlProblem !== null) refuse(`the node URL ${urlProblem}`)
  let pubkey: Uint8Array
  try {
    pubkey = schnorr.getPublicKey(secretKey)
  } catch (error) {
    refuse('the secret key is not a valid secp256k1 secret key', error)
  }
  const code: SetupCode = { name: fields.name, pubkey: bytesToHex(pubkey), url: fields.url }
  const sig = schnorr.sign(message(code), secretKey)
  const name = new TextEncoder().encode(code.name)
  const url = new TextEncoder().encode(code.url)
  if (name.length > 255) refuse('the name is longer than 255 bytes in UTF-8')
  const payload = new Uint8Array(1 + 32 + 64 + 1 + name.length + 2 + url.length)
  payload[0] = SETUP_CODE_FORMAT
  payload.set(pubkey, 1)
  payload.set(sig, 33)
  payload[97] = name.length
  payload.set(name, 98)
  payload[98 + name.length] = url.length >> 8
  payload[99 + name.length] = url.length & 0xff
  payload.set(url, 100 + name.length)
  const words = bech32m.toWords(payload)
  if (SETUP_CODE_PREFIX.length + 7 + words.length > SETUP_CODE_MAX_LENGTH) {
    refuse(`it would be longer than ${SETUP_CODE_MAX_LENGTH} characters: use a shorter URL`)
  }
  return bech32m.encode(SETUP_CODE_PREFIX, words, SETUP_CODE_MAX_LENGTH)
}

/** Decodes a setup code and checks its signature. Throws SetupCodeInvalidError naming why. */
export function decodeSetupCode(text: string): SetupCode {
  if (typeof text !== 'string') refuse('a setup code is a string')
  const code = text.trim()
  if (code.length > SETUP_CODE_MAX_LENGTH) {
    refuse(`it is ${code.length} characters long; at most ${SETUP_CODE_MAX_LENGTH}`)
  }
  if (/\s/.test(code)) refuse('it contains spaces or line breaks; paste the code alone')
  const lower = code.toLowerCase()
  if (code !== lower && code !== code.toUpperCase()) {
    refuse('it mixes upper and lower case')
  }
  const separator = lower.lastIndexOf('1')
  const prefix = separator < 0 ? '' : lower.slice(0, separator)
  if (prefix !== SETUP_CODE_PREFIX) {
    const hint = prefix === 'hansa' ? ' (this is an invite code, not a setup code)' : ''
    refuse(`it must start with "${SETUP_CODE_PREFIX}1"${hint}`)
  }
  let payload: Uint8Array
  try {
    const { words } = bech32m.decode(lower as `${string}1${string}`, SETUP_CODE_MAX_LENGTH)
    payload = bech32m.fromWords(words)
  } catch (error) {
    refuse('the checksum does not match: a character is mistyped, missing or extra', error)
  }
  if (payload[0] !== SETUP_CODE_FORMAT) {
    refuse(`format ${payload[0]} is not supported (this software reads ${SETUP_CODE_FORMAT})`)
  }
  if (payload.length < 101) refuse('it is cut short')
  const pubkey = bytesToHex(payload.subarray(1, 33))
  const sig = payload.subarray(33, 97)
  const nameLength = payload[97]!
  const urlAt = 98 + nameLength
  if (payload.length < urlAt + 2) refuse('it is cut short inside the name')
  const urlLength = (payload[urlAt]! << 8) | payload[urlAt + 1]!
  if (payload.length !== urlAt + 2 + urlLength) refuse('its URL length does not match its data')
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let name: string
  let url: string
  try {
    name = decoder.decode(payload.subarray(98, urlAt))
    url = decoder.decode(payload.subarray(urlAt + 2))
  } catch (error) {
    refuse('its name or URL is not valid UTF-8', error)
  }
  const problem = nameProblem(name)
  if (problem !== null) refuse(problem)
  const urlProblem = nodeUrlProblem(url)
  if (urlProblem !== null) refuse(`the node URL ${urlProblem}`)
  if (!isXOnlyPublicKey(pubkey)) refuse('its public key is not a valid secp256k1 x-only key')
  const decoded: SetupCode = { name, pubkey, url }
  let valid = false
  try {
    valid = schnorr.verify(sig, message(decoded), lowerHexToBytes(pubkey))
  } catch {
    valid = false
  }
  if (!valid) refuse(`its signature does not match guardian ${name}'s key: it was altered`)
  return decoded
}
