// Nostr events (NIP-01): the shape check every relay stage relies on, the id preimage,
// and the kind classes (regular, replaceable, ephemeral, addressable) that decide storage.
import { isLowerHex } from './hex.js'

export type NostrEvent = {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

export type KindClass = 'regular' | 'replaceable' | 'ephemeral' | 'addressable'

/** 64 lowercase hex characters: an event id, a pubkey. */
export const isHex64 = (value: unknown): value is string => isLowerHex(value, 32)
/** 128 lowercase hex characters: a BIP-340 signature. */
export const isHex128 = (value: unknown): value is string => isLowerHex(value, 64)

/** Checks the seven NIP-01 fields. Returns the reason (for an `invalid:` answer) or null. */
export function eventShapeError(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'event must be a JSON object'
  }
  const e = value as Record<string, unknown>
  if (!isHex64(e.id)) return 'id must be 64 lowercase hex characters'
  if (!isHex64(e.pubkey)) return 'pubkey must be 64 lowercase hex characters'
  if (!isHex128(e.sig)) {
    return 'sig must be 128 lowercase hex characters'
  }
  if (!Number.isSafeInteger(e.created_at) || (e.created_at as number) < 0) {
    return 'created_at must be a non-negative integer (unix seconds)'
  }
  if (!Number.isInteger(e.kind) || (e.kind as number) < 0 || (e.kind as number) > 65535) {
    return 'kind must be an integer from 0 to 65535'
  }
  if (typeof e.content !== 'string') return 'content must be a string'
  if (!Array.isArray(e.tags)) return 'tags must be an array of arrays of strings'
  for (const tag of e.tags) {
    if (!Array.isArray(tag) || tag.length === 0) return 'each tag must be a non-empty array'
    for (const item of tag) if (typeof item !== 'string') return 'tag items must be strings'
  }
  return null
}

/** The string whose sha256 is the event id (NIP-01). */
export function eventIdPreimage(e: Omit<NostrEvent, 'id' | 'sig'>): string {
  return JSON.stringify([0, e.pubkey, e.created_at, e.kind, e.tags, e.content])
}

/** The event reduced to its seven fields, serialised: what a relay stores and sends. */
export function serializeEvent(e: NostrEvent): string {
  return JSON.stringify({
    id: e.id,
    pubkey: e.pubkey,
    created_at: e.created_at,
    kind: e.kind,
    tags: e.tags,
    content: e.content,
    sig: e.sig,
  })
}

/**
 * The id preimage and the stored form together, with `tags` and `content` serialised once
 * for both (they are most of an event's bytes; the relay needs both forms of every event).
 * Equal to eventIdPreimage and serializeEvent for an event that passed eventShapeError: its
 * hex fields need no escaping and its numbers are integers, which JSON writes as String does.
 */
export function eventJsonForms(e: NostrEvent): { preimage: string; raw: string } {
  const tags = JSON.stringify(e.tags)
  const content = JSON.stringify(e.content)
  const middle = `"${e.pubkey}",${e.created_at},${e.kind},`
  return {
    preimage: `[0,${middle}${tags},${content}]`,
    raw: `{"id":"${e.id}","pubkey":"${e.pubkey}","created_at":${e.created_at},"kind":${e.kind},"tags":${tags},"content":${content},"sig":"${e.sig}"}`,
  }
}

export function kindClass(kind: number): KindClass {
  if (kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)) return 'replaceable'
  if (kind >= 20000 && kind < 30000) return 'ephemeral'
  if (kind >= 30000 && kind < 40000) return 'addressable'
  return 'regular'
}

/** First value of the first tag with this name, or undefined. */
export function tagValue(e: Pick<NostrEvent, 'tags'>, name: string): string | undefined {
  for (const tag of e.tags) if (tag[0] === name) return tag[1]
  return undefined
}

/** All values of tags with this name. */
export function tagValues(e: Pick<NostrEvent, 'tags'>, name: string): string[] {
  const values: string[] = []
  for (const tag of e.tags) if (tag[0] === name && tag[1] !== undefined) values.push(tag[1])
  return values
}

/** NIP-40: the expiration timestamp, or undefined when absent or unreadable. */
export function expirationOf(e: Pick<NostrEvent, 'tags'>): number | undefined {
  const value = tagValue(e, 'expiration')
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined
  return Number(value)
}

/** The `d` tag of an addressable event ('' when absent, as NIP-01 says). */
export function dTagOf(e: Pick<NostrEvent, 'tags'>): string {
  return tagValue(e, 'd') ?? ''
}
