// The framed query path (queryFrames: frames built on a reader thread) and the framed string
// path (query → frameEventStrings, PostgreSQL's) must answer exactly what the message path
// (query → relayEventMessage) answers: the same events, in the same order, byte for byte, in
// whole frames that respect the step size.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { type Filter, type NostrEvent, relayEventMessage, serializeEvent } from '@hansa/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameEventStrings, packEventFrames, readEventFrames } from '../src/relay/stored-frames.js'
import { SqliteStore } from '@hansa/node'
import { removeDir } from './helpers.js'

const hex = (n: number, len = 64) => n.toString(16).padStart(len, '0')
const PUBKEYS = [hex(0xa1), hex(0xb2), hex(0xc3)]

/** Events need no valid signature here: the store never checks one. */
function makeEvents(): NostrEvent[] {
  const events: NostrEvent[] = []
  for (let i = 0; i < 300; i++) {
    const kind = [1, 1059, 7][i % 3]!
    const tags: string[][] = [['p', PUBKEYS[i % 3]!]]
    if (i % 4 === 0) tags.push(['t', i % 8 === 0 ? 'nostr' : 'hansa'], ['p', PUBKEYS[(i + 1) % 3]!])
    events.push({
      id: hex(i + 1),
      pubkey: PUBKEYS[i % 3]!,
      created_at: 1_700_000_000 + (i % 50),
      kind,
      tags,
      // Some content past ASCII, and long enough for two-byte frame lengths and more.
      content: i % 5 === 0 ? `héllo wörld ✓ ${'x'.repeat(i * 7)}` : `note ${i} "quoted"\n`,
      sig: hex(i + 1, 128),
    })
  }
  return events
}

/** Reads server frames (unmasked text frames) back into their payloads. */
function readFrames(bytes: Uint8Array): string[] {
  const out: string[] = []
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let at = 0
  while (at < b.length) {
    expect(b[at]).toBe(0x81)
    let len = b[at + 1]!
    at += 2
    if (len === 126) {
      len = b.readUInt16BE(at)
      at += 2
    } else if (len === 127) {
      len = Number(b.readBigUInt64BE(at))
      at += 8
    }
    out.push(b.subarray(at, at + len).toString('utf8'))
    at += len
  }
  return out
}

/** Events as strings (ASCII or not), a subscription id and a step size, as the relay frames them. */
const framingCases = [
  fc.array(fc.oneof(fc.string({ unit: 'binary-ascii' }), fc.string({ unit: 'binary' })), {
    maxLength: 12,
  }),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: 1, max: 400 }),
] as const

describe('stored events as raw JSON frames', () => {
  let dir: string
  let store: SqliteStore
  const events = makeEvents()
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hansa-frames-'))
    store = new SqliteStore({
      path: join(dir, 'events.sqlite'),
      synchronous: 'normal',
      readerThreads: 1,
    })
    await store.writeBatch(events.map((e) => ({ event: e, raw: serializeEvent(e), receivedAt: 1 })))
  })
  afterAll(async () => {
    await store.close()
    removeDir(dir)
  })

  it('packs frames into a buffer of their own, which says how many events and bytes it holds', () => {
    fc.assert(
      fc.property(...framingCases, (events, subId, step) => {
        const packed = packEventFrames(subId, events, step)
        // Its own ArrayBuffer, all of it: a reader thread transfers it (never a pool slice).
        expect(packed.byteOffset).toBe(0)
        expect(packed.buffer.byteLength).toBe(packed.byteLength)
        const frames = readEventFrames(packed, subId)
        expect(frames.count).toBe(events.length)
        expect(frames.bytes).toBe(events.reduce((n, e) => n + Buffer.byteLength(e), 0))
        // The steps are the frames, back to back, to the buffer's end.
        const tail = frames.steps.reduce((n, s) => n + s.length, 0)
        expect(frames.steps.at(-1)!.byteOffset + frames.steps.at(-1)!.length).toBe(
          packed.byteLength,
        )
        expect(Buffer.concat(frames.steps)).toEqual(
          Buffer.from(packed.subarray(packed.byteLength - tail)),
        )
      }),
      { numRuns: 200 },
    )
  })

  it('reads the ids of stored events back from their frames, at every frame length', () => {
    // Content lengths that give 7-bit, 16-bit and 64-bit frame lengths.
    const sized = events
      .slice(0, 5)
      .map((e, i) => serializeEvent({ ...e, content: 'x'.repeat([0, 10, 200, 70_000, 40][i]!) }))
    const frames = readEventFrames(packEventFrames('a "sub"', sized, 1_000), 'a "sub"')
    expect(frames.ids()).toEqual(sized.map((e) => e.slice(7, 71)))
  })

  it('frames any strings, ASCII or not, as relayEventMessage and EOSE, in whole-frame steps', () => {
    fc.assert(
      fc.property(...framingCases, (events, subId, step) => {
        const frames = frameEventStrings(subId, events, step)
        expect(frames.count).toBe(events.length)
        expect(frames.bytes).toBe(events.reduce((n, e) => n + Buffer.byteLength(e), 0))
        expect(frames.steps.flatMap((s) => readFrames(s))).toEqual([
          ...events.map((e) => relayEventMessage(subId, e)),
          JSON.stringify(['EOSE', subId]),
        ])
        for (const s of frames.steps) {
          if (readFrames(s).length > 1) expect(s.length).toBeLessThanOrEqual(step)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('answers what query answers, framed as relayEventMessage and EOSE, in whole-frame steps', async () => {
    const access = { privateKinds: [1059], now: 1_800_000_000, limit: 500 }
    const filters: fc.Arbitrary<Filter> = fc.record(
      {
        authors: fc.subarray(PUBKEYS, { minLength: 1 }),
        kinds: fc.subarray([1, 7, 1059], { minLength: 1 }),
        '#p': fc.subarray(PUBKEYS, { minLength: 1 }),
        '#t': fc.subarray(['nostr', 'hansa'], { minLength: 1 }),
        since: fc.integer({ min: 1_700_000_000, max: 1_700_000_050 }),
        limit: fc.integer({ min: 0, max: 120 }),
      },
      { requiredKeys: [] },
    )
    const readers = fc.subarray(PUBKEYS)
    await fc.assert(
      fc.asyncProperty(
        filters,
        readers,
        fc.integer({ min: 200, max: 20_000 }),
        async (filter, readerPubkeys, step) => {
          const options = { ...access, readerPubkeys, maxBytes: 60_000 }
          const expected = await store.query(filter, options)
          const packed = await store.queryFrames(filter, {
            ...options,
            subId: 'sub "1"',
            stepBytes: step,
          })
          const frames = readEventFrames(packed, 'sub "1"')
          expect(frames.count).toBe(expected.events.length)
          expect(frames.bytes).toBe(expected.bytes)
          expect(frames.ids()).toEqual(expected.events.map((e) => e.slice(7, 71)))
          const payloads = frames.steps.flatMap((s) => readFrames(s))
          expect(payloads).toEqual([
            ...expected.events.map((e) => relayEventMessage('sub "1"', e)),
            JSON.stringify(['EOSE', 'sub "1"']),
          ])
          for (const s of frames.steps) {
            if (readFrames(s).length > 1) expect(s.length).toBeLessThanOrEqual(step)
          }
          // Framed on the event loop from query's strings: the same bytes, cut at the same places.
          const fromStrings = frameEventStrings('sub "1"', expected.events, step)
          expect(fromStrings.steps.map((s) => Buffer.from(s))).toEqual(
            frames.steps.map((s) => Buffer.from(s)),
          )
          expect(fromStrings.ids()).toEqual(frames.ids())
          expect(fromStrings.bytes).toBe(frames.bytes)
        },
      ),
      { numRuns: 60 },
    )
  })
})
