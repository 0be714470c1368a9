// The work of the verify stage, shared by the worker threads and the pool's inline mode:
// for each event, sha256 of its NIP-01 id preimage must equal its id, then its signature must
// verify against that id. Events travel as a flat list of strings (id, pubkey, sig, serialized,
// id, …) because that is what structured clone copies fastest, and results come back as
// one byte per event.
import { createHash } from 'node:crypto'
import type { SchnorrVerifier } from './verifier.js'

export type EventCheck = {
  id: string
  pubkey: string
  sig: string
  /** The NIP-01 id preimage: JSON.stringify([0, pubkey, created_at, kind, tags, content]). */
  serialized: string
}
export type CheckResult = 'ok' | 'bad-id' | 'bad-sig'

/** Result codes on the wire, indexed by code. */
export const CHECK_RESULTS: readonly CheckResult[] = ['ok', 'bad-id', 'bad-sig']
const OK = 0
const BAD_ID = 1
const BAD_SIG = 2

export const FIELDS_PER_CHECK = 4
const RECORD = 128 // sig(64) | msg(32) | pubkey(32), the layout of SchnorrVerifier.verifyBatch
const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

export function flattenCheck(e: EventCheck, into: string[]): void {
  into.push(e.id, e.pubkey, e.sig, e.serialized)
}

/** Checks `flat.length / 4` events; returns one result code per event (see CHECK_RESULTS). */
export function checkFlat(verifier: SchnorrVerifier, flat: readonly unknown[]): Uint8Array {
  if (verifier.checkEvents) return checkNative(verifier.checkEvents, flat)
  const count = Math.floor(flat.length / FIELDS_PER_CHECK)
  const codes = new Uint8Array(count)
  const records = Buffer.allocUnsafe(count * RECORD)
  const slotOf = new Int32Array(count) // event index -> record index, or -1
  let used = 0
  for (let i = 0; i < count; i++) {
    const base = i * FIELDS_PER_CHECK
    const id = flat[base]
    const pubkey = flat[base + 1]
    const sig = flat[base + 2]
    const serialized = flat[base + 3]
    slotOf[i] = -1
    if (typeof serialized !== 'string' || typeof id !== 'string') {
      codes[i] = BAD_ID
      continue
    }
    const digest = createHash('sha256').update(serialized, 'utf8').digest()
    if (id.length !== 64 || digest.toString('hex') !== id) {
      codes[i] = BAD_ID
      continue
    }
    if (
      typeof pubkey !== 'string' ||
      typeof sig !== 'string' ||
      !HEX64.test(pubkey) ||
      !HEX128.test(sig)
    ) {
      codes[i] = BAD_SIG
      continue
    }
    const at = used * RECORD
    records.write(sig, at, 'hex')
    digest.copy(records, at + 64)
    records.write(pubkey, at + 96, 'hex')
    slotOf[i] = used++
  }
  if (used === 0) return codes

  let valid: Uint8Array
  if (verifier.verifyBatch) {
    valid = verifier.verifyBatch(records.subarray(0, used * RECORD))
  } else {
    valid = new Uint8Array(used)
    for (let r = 0; r < used; r++) {
      const at = r * RECORD
      const ok = verifier.verify(
        records.subarray(at, at + 64),
        records.subarray(at + 64, at + 96),
        records.subarray(at + 96, at + 128),
      )
      valid[r] = ok ? 1 : 0
    }
  }
  for (let i = 0; i < count; i++) {
    const slot = slotOf[i] ?? -1
    if (slot >= 0) codes[i] = valid[slot] === 1 ? OK : BAD_SIG
  }
  return codes
}

/** Bytes of a checkEvents record before its preimage: id, pubkey, sig, length. */
const NATIVE_HEAD = 32 + 32 + 64 + 4
/** Grown as batches need, kept between them: a batch's records are written here. */
let scratch = Buffer.allocUnsafe(0)

/**
 * checkFlat through the backend's checkEvents: hashing and verifying happen in one native call
 * for the whole batch, so an event costs no hash object, digest buffer or hex string here.
 * Malformed fields are answered here exactly as checkFlat's own loop answers them.
 */
function checkNative(checkEvents: (records: Uint8Array) => Uint8Array, flat: readonly unknown[]) {
  const count = Math.floor(flat.length / FIELDS_PER_CHECK)
  const codes = new Uint8Array(count)
  const slotOf = new Int32Array(count)
  let room = 0
  for (let i = 0; i < count; i++) {
    const serialized = flat[i * FIELDS_PER_CHECK + 3]
    if (typeof serialized === 'string') room += NATIVE_HEAD + serialized.length * 3
  }
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, scratch.length * 2))
  const records = scratch
  let at = 0
  let used = 0
  for (let i = 0; i < count; i++) {
    const base = i * FIELDS_PER_CHECK
    const id = flat[base]
    const pubkey = flat[base + 1]
    const sig = flat[base + 2]
    const serialized = flat[base + 3]
    slotOf[i] = -1
    if (typeof serialized !== 'string' || typeof id !== 'string' || !HEX64.test(id)) {
      codes[i] = BAD_ID
      continue
    }
    if (
      typeof pubkey !== 'string' ||
      typeof sig !== 'string' ||
      !HEX64.test(pubkey) ||
      !HEX128.test(sig)
    ) {
      // checkFlat answers a wrong id before a malformed key or signature.
      codes[i] =
        createHash('sha256').update(serialized, 'utf8').digest('hex') === id ? BAD_SIG : BAD_ID
      continue
    }
    records.write(id, at, 'hex')
    records.write(pubkey, at + 32, 'hex')
    records.write(sig, at + 64, 'hex')
    const length = records.write(serialized, at + NATIVE_HEAD, 'utf8')
    records.writeUInt32LE(length, at + 128)
    at += NATIVE_HEAD + length
    slotOf[i] = used++
  }
  if (used === 0) return codes
  const results = checkEvents(records.subarray(0, at))
  for (let i = 0; i < count; i++) {
    const slot = slotOf[i] ?? -1
    if (slot >= 0) codes[i] = results[slot] ?? BAD_SIG
  }
  return codes
}
