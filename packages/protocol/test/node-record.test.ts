// A node's ENR entries and its key proof: what round-trips, and the reason for each refusal.
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import {
  NODE_RECORD_KEYS,
  type NodeRecord,
  nodeProofError,
  nodeProofTemplate,
  nodeRecordEntries,
  nostrPubkeyOfCompressedKey,
  readNodeRecord,
} from '@hansa/protocol'

const FED = 'ab'.repeat(32)
const read = (entries: Record<string, Uint8Array>) => readNodeRecord((k) => entries[k])
const bytes = (s: string) => new TextEncoder().encode(s)

describe('node record (ENR entries)', () => {
  it('round-trips any valid record, services sorted and unique', () => {
    const service = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)
    fc.assert(
      fc.property(
        fc.option(fc.constant(FED), { nil: null }),
        fc.array(service, { maxLength: 4 }),
        fc.integer({ min: 1, max: 65535 }),
        (federationId, services, port) => {
          const record: NodeRecord = { federationId, services, wsUrl: `ws://127.0.0.1:${port}` }
          const back = read(nodeRecordEntries(record))
          expect(back).toEqual({
            ok: true,
            record: { ...record, services: [...new Set(services)].sort() },
          })
        },
      ),
    )
  })

  it('keeps the federation id as 32 raw bytes and omits it for a standalone node', () => {
    const entries = nodeRecordEntries({
      federationId: FED,
      services: ['inbox'],
      wsUrl: 'wss://a.example',
    })
    expect(entries[NODE_RECORD_KEYS.federation]).toHaveLength(32)
    const standalone = nodeRecordEntries({
      federationId: null,
      services: [],
      wsUrl: 'wss://a.example',
    })
    expect(NODE_RECORD_KEYS.federation in standalone).toBe(false)
  })

  it('refuses to encode a bad record, naming the problem', () => {
    expect(() => nodeRecordEntries({ federationId: 'AB', services: [], wsUrl: 'ws://x' })).toThrow(
      /federation id/,
    )
    expect(() =>
      nodeRecordEntries({ federationId: null, services: ['Inbox'], wsUrl: 'ws://x' }),
    ).toThrow(/service name "Inbox"/)
    expect(() =>
      nodeRecordEntries({ federationId: null, services: [], wsUrl: 'http://x' }),
    ).toThrow(/WebSocket URL must be a ws:\/\/ or wss:\/\/ URL/)
  })

  it('reads what the network sends without throwing, with a reason', () => {
    expect(read({})).toEqual({ ok: false, reason: 'no hansa-ws entry: not a Hansa node' })
    expect(read({ [NODE_RECORD_KEYS.ws]: Uint8Array.of(0xff, 0xfe) })).toMatchObject({
      ok: false,
      reason: /not valid UTF-8/,
    })
    expect(
      read({
        [NODE_RECORD_KEYS.ws]: bytes('ws://a'),
        [NODE_RECORD_KEYS.federation]: new Uint8Array(31),
      }),
    ).toMatchObject({ ok: false, reason: 'hansa-fed must be 32 bytes, not 31' })
    expect(
      read({
        [NODE_RECORD_KEYS.ws]: bytes('ws://a'),
        [NODE_RECORD_KEYS.services]: bytes('inbox,,x'),
      }),
    ).toMatchObject({ ok: false, reason: /service name ""/ })
  })

  it('takes the Nostr pubkey from a compressed secp256k1 key', () => {
    const x = 'cd'.repeat(32)
    const key = Uint8Array.from(Buffer.from(`03${x}`, 'hex'))
    expect(nostrPubkeyOfCompressedKey(key)).toBe(x)
    expect(nostrPubkeyOfCompressedKey(key.subarray(1))).toBeNull()
    expect(nostrPubkeyOfCompressedKey(Uint8Array.from([4, ...key.subarray(1)]))).toBeNull()
  })
})

describe('node proof (NIP-42, roles reversed)', () => {
  const secretKey = generateSecretKey()
  const pubkey = getPublicKey(secretKey)
  const challenge = '11'.repeat(32)
  const relayUrl = 'ws://127.0.0.1:7447'
  const now = 1_800_000_000
  const proof = finalizeEvent(nodeProofTemplate(challenge, relayUrl, now), secretKey)
  const expected = { pubkey, challenge, relayUrl, now }

  it('accepts the answer to the challenge at the URL asked', () => {
    expect(nodeProofError(proof, expected)).toBeNull()
    expect(nodeProofError(proof, { ...expected, relayUrl: 'ws://127.0.0.1:7447/' })).toBeNull()
  })

  it('names what is wrong with any other', () => {
    expect(nodeProofError({}, expected)).toMatch(/^the proof is not a Nostr event/)
    expect(nodeProofError(proof, { ...expected, pubkey: 'ee'.repeat(32) })).toBe(
      `the proof is signed by ${pubkey.slice(0, 12)}…, not by the claimed key eeeeeeeeeeee…`,
    )
    expect(nodeProofError(proof, { ...expected, challenge: '22'.repeat(32) })).toBe(
      'the proof answers another challenge',
    )
    expect(nodeProofError(proof, { ...expected, relayUrl: 'ws://10.0.0.1:7447' })).toBe(
      'the proof names ws://127.0.0.1:7447, not ws://10.0.0.1:7447',
    )
    expect(nodeProofError(proof, { ...expected, now: now + 601 })).toBe(
      'the proof is dated more than 10 minutes from now',
    )
    const note = finalizeEvent(
      { ...nodeProofTemplate(challenge, relayUrl, now), kind: 1 },
      secretKey,
    )
    expect(nodeProofError(note, expected)).toBe('the proof must be kind 29242, not 1')
    // an AUTH event (kind 22242) is no proof: a proof must never be usable as a NIP-42 login
    const auth = finalizeEvent(
      { ...nodeProofTemplate(challenge, relayUrl, now), kind: 22242 },
      secretKey,
    )
    expect(nodeProofError(auth, expected)).toBe('the proof must be kind 29242, not 22242')
  })
})
