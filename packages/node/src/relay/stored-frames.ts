// A REQ's stored results as ready-made WebSocket frames: each stored event's JSON bytes,
// straight from the store (RawEvents), wrapped as `["EVENT",<sub id>,<event>]` in a text
// frame, then EOSE — all in one buffer, cut into steps at frame boundaries so the relay can
// send them within its send-buffer bound. No string is made per event and no frame is built
// by `ws`: one copy of the bytes, one socket write per step.
//
// Server-to-client frames are not masked (RFC 6455 §5.1): FIN + text opcode, the payload
// length in 7, 7+16 or 7+64 bits, then the payload.
import { eoseMessage } from '@hansa/protocol'
import { type RawEvents, rawEventsView } from '../store/event-store.js'

const headerLength = (payload: number): number => (payload < 126 ? 2 : payload < 65536 ? 4 : 10)

function writeHeader(out: Uint8Array, at: number, payload: number): number {
  out[at] = 0x81
  if (payload < 126) {
    out[at + 1] = payload
    return at + 2
  }
  if (payload < 65536) {
    out[at + 1] = 126
    out[at + 2] = payload >>> 8
    out[at + 3] = payload & 0xff
    return at + 4
  }
  out[at + 1] = 127
  // Payloads here are far below 2^32: the high four bytes stay 0.
  out.fill(0, at + 2, at + 6)
  out[at + 6] = (payload >>> 24) & 0xff
  out[at + 7] = (payload >>> 16) & 0xff
  out[at + 8] = (payload >>> 8) & 0xff
  out[at + 9] = payload & 0xff
  return at + 10
}

export type StoredFrames = {
  /** Consecutive runs of whole frames, each under the step size (or one frame if larger). */
  steps: Uint8Array[]
  /** Events framed (EOSE not counted), and their JSON bytes. */
  count: number
  bytes: number
  /** The events' ids, in order (read only when needed: the backlog check). */
  ids(): string[]
}

/** Frames a REQ's stored events and its EOSE, cut into steps of about `stepBytes`. */
export function frameStoredEvents(subId: string, raw: RawEvents, stepBytes: number): StoredFrames {
  const events = rawEventsView(raw)
  const prefix = Buffer.from(`["EVENT",${JSON.stringify(subId)},`)
  const eose = Buffer.from(eoseMessage(subId))
  let size = headerLength(eose.length) + eose.length
  for (let i = 0; i < events.count; i++) {
    const payload = prefix.length + (events.end(i) - events.start(i)) + 1
    size += headerLength(payload) + payload
  }
  const out = Buffer.allocUnsafe(size)
  const steps: Uint8Array[] = []
  let stepStart = 0
  let at = 0
  const frame = (payloadLength: number, fill: (at: number) => number) => {
    const frameLength = headerLength(payloadLength) + payloadLength
    if (at > stepStart && at + frameLength - stepStart > stepBytes) {
      steps.push(out.subarray(stepStart, at))
      stepStart = at
    }
    at = fill(writeHeader(out, at, payloadLength))
  }
  for (let i = 0; i < events.count; i++) {
    const start = events.start(i)
    const end = events.end(i)
    frame(prefix.length + (end - start) + 1, (p) => {
      p += prefix.copy(out, p)
      out.set(raw.subarray(start, end), p)
      p += end - start
      out[p] = 0x5d // ]
      return p + 1
    })
  }
  frame(eose.length, (p) => p + eose.copy(out, p))
  steps.push(out.subarray(stepStart, at))
  return {
    steps,
    count: events.count,
    bytes: events.bytes,
    ids: () => {
      const ids: string[] = []
      // Stored events begin `{"id":"<64 hex>"` (serializeEvent's order).
      for (let i = 0; i < events.count; i++) {
        const s = events.start(i) + 7
        ids.push(Buffer.from(raw.buffer, raw.byteOffset + s, 64).toString('latin1'))
      }
      return ids
    },
  }
}
