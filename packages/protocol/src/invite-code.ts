// Invite codes: a federation id and one or more node URLs in one copy-pasteable string,
// bech32m with the prefix `hansa`, as Fedimint's `fed1…` codes are (DESIGN.md "The manifest").
//
// Payload, format 1 (bytes, before bech32m's 5-bit regrouping):
//   [0]          format version, 0x01
//   [1..33)      federation id, 32 bytes
//   [33]         number of URLs, 1..255
//   then per URL a 2-byte big-endian length (1..65535) and that many bytes of UTF-8.
// Nothing may follow the last URL. URLs follow the manifest's rule: ws:// or wss://.
//
// bech32's 90-character limit is for addresses; an invite code is longer, so, as Fedimint
// does, the limit is raised, here to 1023 characters, the length of the BCH code bech32m's
// checksum is built on. Any single mistyped character is still detected at every length.
// Decoding accepts an all-uppercase code (for QR codes), refuses mixed case and surrounding
// whitespace, and names what is wrong.
import { bech32m } from '@scure/base'
import { InviteCodeInvalidError } from './federation-errors.js'
import { isFederationId } from './federation-id.js'
import { bytesToHex, lowerHexToBytes } from './hex.js'
import { nodeUrlProblem } from './manifest-validation.js'

export type InviteCode = {
  /** The federation id (lowercase hex sha256 of the genesis manifest). */
  federationId: string
  /** Node URLs to fetch the manifest chain from, ws:// or wss://. */
  urls: string[]
}

export const INVITE_CODE_PREFIX = 'hansa'
export const INVITE_CODE_FORMAT = 1
export const INVITE_CODE_MAX_LENGTH = 1023

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'

function refuse(reason: string, cause?: unknown): never {
  throw new InviteCodeInvalidError(reason, cause)
}

function checkUrls(urls: readonly unknown[]): void {
  const seen = new Set<unknown>()
  urls.forEach((url, i) => {
    const problem = nodeUrlProblem(url)
    if (problem !== null) refuse(`URL ${i + 1} ${problem}`)
    if (seen.has(url)) refuse(`URL ${i + 1} repeats an earlier URL`)
    seen.add(url)
  })
}

/** Encodes an invite code. Throws InviteCodeInvalidError naming what cannot be encoded. */
export function encodeInviteCode(invite: InviteCode): string {
  if (!isFederationId(invite.federationId)) {
    refuse('the federation id must be 64 lowercase hex characters')
  }
  if (!Array.isArray(invite.urls) || invite.urls.length < 1 || invite.urls.length > 255) {
    refuse('an invite code carries from 1 to 255 node URLs')
  }
  checkUrls(invite.urls)
  const encoder = new TextEncoder()
  const parts: Uint8Array[] = [
    Uint8Array.of(INVITE_CODE_FORMAT),
    lowerHexToBytes(invite.federationId),
    Uint8Array.of(invite.urls.length),
  ]
  for (const url of invite.urls) {
    const bytes = encoder.encode(url)
    if (bytes.length > 0xffff) refuse('a URL is longer than 65535 bytes')
    parts.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes)
  }
  const payload = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    payload.set(part, offset)
    offset += part.length
  }
  const words = bech32m.toWords(payload)
  const length = INVITE_CODE_PREFIX.length + 7 + words.length
  if (length > INVITE_CODE_MAX_LENGTH) {
    refuse(
      `it would be ${length} characters long, more than ${INVITE_CODE_MAX_LENGTH}: carry fewer or shorter URLs`,
    )
  }
  return bech32m.encode(INVITE_CODE_PREFIX, words, INVITE_CODE_MAX_LENGTH)
}

/** Decodes an invite code. Throws InviteCodeInvalidError naming what is wrong. */
export function decodeInviteCode(code: string): InviteCode {
  if (typeof code !== 'string') refuse('an invite code is a string')
  if (code.length > INVITE_CODE_MAX_LENGTH) {
    refuse(`it is ${code.length} characters long; at most ${INVITE_CODE_MAX_LENGTH}`)
  }
  if (/\s/.test(code)) refuse('it contains spaces or line breaks; paste the code alone')
  const lower = code.toLowerCase()
  if (code !== lower && code !== code.toUpperCase()) {
    refuse('it mixes upper and lower case; a code is all lowercase (or all uppercase)')
  }
  const separator = lower.lastIndexOf('1')
  const prefix = separator < 0 ? '' : lower.slice(0, separator)
  if (prefix !== INVITE_CODE_PREFIX) {
    const seen = prefix === '' ? 'none' : `"${prefix.slice(0, 20)}"`
    refuse(`it must start with "${INVITE_CODE_PREFIX}1" (prefix found: ${seen})`)
  }
  const data = lower.slice(separator + 1)
  for (let i = 0; i < data.length; i++) {
    if (!CHARSET.includes(data[i]!)) {
      refuse(
        `character ${separator + 2 + i} ("${data[i]}") is not used by bech32m ` +
          '(which has no "1", "b", "i" or "o" after the separator)',
      )
    }
  }
  if (data.length < 7) refuse('it is too short to carry a federation id')
  let words: number[]
  try {
    words = bech32m.decode(lower as `${string}1${string}`, INVITE_CODE_MAX_LENGTH).words
  } catch (error) {
    refuse('the checksum does not match: a character is mistyped, missing or extra', error)
  }
  let payload: Uint8Array
  try {
    payload = bech32m.fromWords(words)
  } catch (error) {
    refuse('its data has invalid padding', error)
  }
  return parsePayload(payload)
}

function parsePayload(payload: Uint8Array): InviteCode {
  const format = payload[0]
  if (format !== INVITE_CODE_FORMAT) {
    refuse(
      format === undefined
        ? 'it carries no data'
        : `format ${format} is not supported (this software reads format ${INVITE_CODE_FORMAT})`,
    )
  }
  if (payload.length < 34) refuse('it is cut short inside the federation id')
  const federationId = bytesToHex(payload.subarray(1, 33))
  const count = payload[33]
  if (count === undefined) refuse('it is cut short before the number of URLs')
  if (count === 0) refuse('it carries no node URL')
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const urls: string[] = []
  let offset = 34
  for (let i = 1; i <= count; i++) {
    const high = payload[offset]
    const low = payload[offset + 1]
    if (high === undefined || low === undefined) refuse(`it is cut short before URL ${i}`)
    const length = (high << 8) | low
    if (length === 0) refuse(`URL ${i} is empty`)
    offset += 2
    if (offset + length > payload.length) refuse(`it is cut short inside URL ${i}`)
    try {
      urls.push(decoder.decode(payload.subarray(offset, offset + length)))
    } catch (error) {
      refuse(`URL ${i} is not valid UTF-8`, error)
    }
    offset += length
  }
  if (offset !== payload.length) {
    refuse(`it has ${payload.length - offset} unexpected bytes after the last URL`)
  }
  checkUrls(urls)
  return { federationId, urls }
}
