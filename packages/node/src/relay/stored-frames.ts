// A REQ's stored results as ready-made WebSocket frames: each stored event's JSON, wrapped as
// `["EVENT",<sub id>,<event>]` in a text frame, then EOSE — all in one buffer, cut into steps
// at frame boundaries so the relay can send them within its send-buffer bound. No message
// string is made per event and no frame is built by `ws`: one copy of each event's bytes,
// one socket write per step.
//
// The frames are built where the rows are read: on a SQLite reader thread, which hands the
// whole buffer over (a transfer, not a copy), so the event loop only writes it out; or on the
// event loop from the strings PostgreSQL's client gave. An EventFrames buffer carries its own
// step cuts, so the relay needs nothing else from the thread that built it:
//
//   count (u32 LE), the events' JSON bytes (u32 LE), steps (u32 LE), each step's end (u32 LE,
//   counted from the first frame), then the frames.
//
// Server-to-client frames are not masked (RFC 6455 §5.1): FIN + text opcode, the payload
// length in 7, 7+16 or 7+64 bits, then the payload.
// The events entry: this module also runs in the store's reader threads, which load no more.
import { eoseMessage } from '@hansa/protocol/events'

/** Where a stored event's id starts: serializeEvent puts `{"id":"<64 hex>"` first. */
const ID_AT = 7

/** The id of a stored event, read from its JSON. */
export const eventIdOf = (raw: string): string => raw.slice(ID_AT, ID_AT + 64)

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

/** A REQ's framed answer in one buffer with its own ArrayBuffer (layout above). */
export type EventFrames = Uint8Array

export type StoredFrames = {
  /** Consecutive runs of whole frames, each under the step size (or one frame if larger). */
  steps: Uint8Array[]
  /** Events framed (EOSE not counted), and their JSON bytes. */
  count: number
  bytes: number
  /** The events' ids, in order (read only when needed: the backlog check). */
  ids(): string[]
}

/**
 * Frames a REQ's stored events and its EOSE into one EventFrames buffer, cut into steps of
 * about `stepBytes`. An event whose UTF-8 length equals its length in UTF-16 units is ASCII
 * (any other character takes more bytes than units), and is copied as Latin-1: a plain copy,
 * where encoding it as UTF-8 cost framed answers half as much again (a microbenchmark of 75
 * events, 29-31 against 45-54 µs). The buffer is sized exactly before anything is written,
 * and not zeroed: each byte of it is written once.
 */
export function packEventFrames(
  subId: string,
  events: readonly string[],
  stepBytes: number,
): EventFrames {
  const prefix = Buffer.from(`["EVENT",${JSON.stringify(subId)},`)
  const eose = Buffer.from(eoseMessage(subId))
  const lengths = new Array<number>(events.length)
  const stepEnds: number[] = []
  let stepStart = 0
  let size = 0
  let bytes = 0
  const add = (payload: number) => {
    const frame = headerLength(payload) + payload
    if (size > stepStart && size + frame - stepStart > stepBytes) {
      stepEnds.push(size)
      stepStart = size
    }
    size += frame
  }
  for (let i = 0; i < events.length; i++) {
    const length = Buffer.byteLength(events[i]!)
    lengths[i] = length
    bytes += length
    add(prefix.length + length + 1)
  }
  add(eose.length)
  stepEnds.push(size)

  const head = 12 + 4 * stepEnds.length
  const out = Buffer.allocUnsafeSlow(head + size)
  out.writeUInt32LE(events.length, 0)
  out.writeUInt32LE(bytes, 4)
  out.writeUInt32LE(stepEnds.length, 8)
  for (let s = 0; s < stepEnds.length; s++) out.writeUInt32LE(stepEnds[s]!, 12 + 4 * s)
  let at = head
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!
    const length = lengths[i]!
    at = writeHeader(out, at, prefix.length + length + 1)
    at += prefix.copy(out, at)
    at += out.write(e, at, length === e.length ? 'latin1' : 'utf8')
    out[at++] = 0x5d // ]
  }
  at = writeHeader(out, at, eose.length)
  eose.copy(out, at)
  return new Uint8Array(out.buffer, 0, head + size)
}

/** Reads an EventFrames buffer: its steps as views into it, and what it holds. */
export function readEventFrames(packed: EventFrames, subId: string): StoredFrames {
  const b = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
  const count = b.readUInt32LE(0)
  const stepCount = b.readUInt32LE(8)
  const head = 12 + 4 * stepCount
  const steps: Uint8Array[] = []
  let from = head
  for (let s = 0; s < stepCount; s++) {
    const to = head + b.readUInt32LE(12 + 4 * s)
    steps.push(b.subarray(from, to))
    from = to
  }
  return {
    steps,
    count,
    bytes: b.readUInt32LE(4),
    ids: () => {
      // Each event's frame: its header, the `["EVENT",<sub id>,` prefix, then its JSON.
      const prefix = Buffer.byteLength(`["EVENT",${JSON.stringify(subId)},`)
      const ids: string[] = []
      let at = head
      for (let i = 0; i < count; i++) {
        const short = b[at + 1]!
        const payload =
          short < 126 ? short : short === 126 ? b.readUInt16BE(at + 2) : b.readUInt32BE(at + 6)
        const start = at + headerLength(payload)
        ids.push(b.toString('latin1', start + prefix + ID_AT, start + prefix + ID_AT + 64))
        at = start + payload
      }
      return ids
    },
  }
}

/** Frames a REQ's stored events, given as strings, and its EOSE (on the event loop). */
export function frameEventStrings(
  subId: string,
  events: readonly string[],
  stepBytes: number,
): StoredFrames {
  return readEventFrames(packEventFrames(subId, events, stepBytes), subId)
}
