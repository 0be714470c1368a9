// The responder's side of a negentropy reconciliation, on top of nostr-tools' Negentropy.
//
// Why this file exists: nostr-tools' `Negentropy.reconcile` (2.25) is written for the
// initiator only. When the other side sends an IdList range (it does so for every range of
// fewer than 32 events — always, for a client that holds few or none), the reference
// protocol says the responder answers with its own ids for that range; nostr-tools instead
// treats it as the end of the range and answers nothing, so a client with an empty set would
// learn nothing from a Hansa node. This class is the library's reconcile with the responder's
// IdList branch of the Negentropy v1 specification put back; everything else (storage,
// fingerprints, bounds, range splitting, frame limits) is the library's own code, called on
// the instance. Tests reconcile empty, small and large sets against it with NegentropySync.
import type { Negentropy, NegentropyStorageVector } from './nip77.js'

const PROTOCOL_VERSION = 0x61
const MODE_SKIP = 0
const MODE_FINGERPRINT = 1
const MODE_ID_LIST = 2
const ID_SIZE = 32
const FINGERPRINT_SIZE = 16

type Item = { timestamp: number; id: Uint8Array }

/** The library's growable byte buffer (not exported; its constructor is taken off a value). */
interface Buffer_ {
  length: number
  extend(buf: Uint8Array | Buffer_): void
  shift(): number
  shiftN(n: number): Uint8Array
  unwrap(): Uint8Array
}
type BufferClass = new (init?: Uint8Array) => Buffer_

/** The members of nostr-tools' Negentropy and its storage that a responder step uses. */
type Internals = Negentropy & {
  storage: NegentropyStorageVector & {
    findLowerBound(begin: number, end: number, bound: Item): number
    fingerprint(begin: number, end: number): Uint8Array
    iterate(begin: number, end: number, cb: (item: Item, i: number) => boolean): void
  }
  lastTimestampIn: number
  lastTimestampOut: number
  _bound(timestamp: number, id?: Uint8Array): Item
  decodeBound(buf: Buffer_): Item
  encodeBound(bound: Item): Buffer_
  splitRange(lower: number, upper: number, upperBound: Item, out: Buffer_): void
  exceededFrameSizeLimit(n: number): boolean
}

const getBytes = (buf: Buffer_, n: number): Uint8Array => {
  if (buf.length < n) throw new Error('parse ends prematurely')
  return buf.shiftN(n)
}

const decodeVarInt = (buf: Buffer_): number => {
  let n = 0
  for (;;) {
    if (buf.length === 0) throw new Error('parse ends prematurely')
    const byte = buf.shift()
    n = n * 128 + (byte & 127)
    if ((byte & 128) === 0) return n
  }
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

export class NegentropyResponder {
  private readonly neg: Internals
  private readonly Buf: BufferClass

  constructor(neg: Negentropy) {
    this.neg = neg as Internals
    this.Buf = this.neg.encodeBound(this.neg._bound(0)).constructor as BufferClass
  }

  private varint(n: number): Buffer_ {
    const out: number[] = []
    do {
      out.push(n % 128)
      n = Math.floor(n / 128)
    } while (n > 0)
    out.reverse()
    for (let i = 0; i < out.length - 1; i++) out[i]! |= 128
    return new this.Buf(Uint8Array.from(out))
  }

  /** Answers one message (hex); the answer is the version byte alone when all ranges match. */
  reconcile(message: string): string {
    const neg = this.neg
    const { storage } = neg
    const query = new this.Buf(new Uint8Array(Buffer.from(message, 'hex')))
    neg.lastTimestampIn = 0
    neg.lastTimestampOut = 0
    const full = new this.Buf()
    full.extend(Uint8Array.of(PROTOCOL_VERSION))
    const version = getBytes(query, 1)[0]!
    if (version < 0x60 || version > 0x6f)
      throw new Error('invalid negentropy protocol version byte')
    if (version !== PROTOCOL_VERSION) {
      throw new Error(`unsupported negentropy protocol version requested: ${version - 0x60}`)
    }
    const size = storage.size()
    let prevBound = neg._bound(0)
    let prevIndex = 0
    let skip = false
    while (query.length !== 0) {
      let o = new this.Buf()
      const flushSkip = () => {
        if (!skip) return
        skip = false
        o.extend(neg.encodeBound(prevBound))
        o.extend(this.varint(MODE_SKIP))
      }
      const currBound = neg.decodeBound(query)
      const mode = decodeVarInt(query)
      const lower = prevIndex
      let upper = storage.findLowerBound(prevIndex, size, currBound)
      if (mode === MODE_SKIP) {
        skip = true
      } else if (mode === MODE_FINGERPRINT) {
        const theirs = getBytes(query, FINGERPRINT_SIZE)
        if (equalBytes(theirs, storage.fingerprint(lower, upper))) skip = true
        else {
          flushSkip()
          neg.splitRange(lower, upper, currBound, o)
        }
      } else if (mode === MODE_ID_LIST) {
        // The responder answers with every id it has in the range (the initiator works out
        // who lacks what); what the initiator listed is read past.
        const count = decodeVarInt(query)
        for (let i = 0; i < count; i++) getBytes(query, ID_SIZE)
        flushSkip()
        const ids = new this.Buf()
        let sent = 0
        let endBound = currBound
        storage.iterate(lower, upper, (item, index) => {
          if (neg.exceededFrameSizeLimit(full.length + ids.length)) {
            endBound = item
            upper = index // the rest of the range goes into the closing fingerprint
            return false
          }
          ids.extend(item.id)
          sent++
          return true
        })
        o.extend(neg.encodeBound(endBound))
        o.extend(this.varint(MODE_ID_LIST))
        o.extend(this.varint(sent))
        o.extend(ids)
        full.extend(o)
        o = new this.Buf()
      } else {
        throw new Error('unexpected mode')
      }
      if (neg.exceededFrameSizeLimit(full.length + o.length)) {
        // Over the frame limit: one fingerprint for everything left, to be split next round.
        const remaining = storage.fingerprint(upper, size)
        full.extend(neg.encodeBound(neg._bound(Number.MAX_VALUE)))
        full.extend(this.varint(MODE_FINGERPRINT))
        full.extend(remaining)
        break
      }
      full.extend(o)
      prevIndex = upper
      prevBound = currBound
    }
    return Buffer.from(full.unwrap()).toString('hex')
  }
}
