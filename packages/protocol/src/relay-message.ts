// The NIP-01 wire: client messages parsed into a discriminated union (each malformed input
// gets a reason), and builders for what a relay sends back. NIP-42 AUTH and NIP-45 COUNT included.
import type { NostrEvent } from './event.js'
import type { Filter } from './filter.js'

export type ClientMessage =
  | { type: 'EVENT'; event: unknown }
  | { type: 'REQ'; subId: string; filters: unknown[] }
  | { type: 'COUNT'; subId: string; filters: unknown[] }
  | { type: 'CLOSE'; subId: string }
  | { type: 'AUTH'; event: unknown }

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; reason: string; subId?: string; eventId?: string }

export const MAX_SUB_ID_LENGTH = 64

function subIdError(v: unknown): string | null {
  if (typeof v !== 'string' || v.length === 0) return 'subscription id must be a non-empty string'
  if (v.length > MAX_SUB_ID_LENGTH) {
    return `subscription id is longer than ${MAX_SUB_ID_LENGTH} characters`
  }
  return null
}

/** Parses one WebSocket text frame. Never throws. */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'message is not valid JSON' }
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string') {
    return { ok: false, reason: 'message must be a JSON array starting with a verb' }
  }
  const verb = value[0]
  switch (verb) {
    case 'EVENT':
    case 'AUTH': {
      if (value.length !== 2) return { ok: false, reason: `${verb} takes exactly one event` }
      return { ok: true, message: { type: verb, event: value[1] } }
    }
    case 'REQ':
    case 'COUNT': {
      const err = subIdError(value[1])
      if (err) return { ok: false, reason: err }
      if (value.length < 3) {
        return { ok: false, reason: `${verb} needs at least one filter`, subId: value[1] }
      }
      return { ok: true, message: { type: verb, subId: value[1], filters: value.slice(2) } }
    }
    case 'CLOSE': {
      const err = subIdError(value[1])
      if (err) return { ok: false, reason: err }
      return { ok: true, message: { type: 'CLOSE', subId: value[1] } }
    }
    default:
      return { ok: false, reason: `unknown verb "${verb.slice(0, 20)}"` }
  }
}

// Relay → client. `rawEvent` is an already-serialised event (the store keeps them so).
export const relayEventMessage = (subId: string, rawEvent: string): string =>
  `["EVENT",${JSON.stringify(subId)},${rawEvent}]`
export const okMessage = (eventId: string, accepted: boolean, message: string): string =>
  JSON.stringify(['OK', eventId, accepted, message])
export const eoseMessage = (subId: string): string => JSON.stringify(['EOSE', subId])
export const closedMessage = (subId: string, message: string): string =>
  JSON.stringify(['CLOSED', subId, message])
export const noticeMessage = (message: string): string => JSON.stringify(['NOTICE', message])
export const authChallengeMessage = (challenge: string): string =>
  JSON.stringify(['AUTH', challenge])
export const countMessage = (subId: string, count: number): string =>
  JSON.stringify(['COUNT', subId, { count }])

export type { Filter, NostrEvent }
