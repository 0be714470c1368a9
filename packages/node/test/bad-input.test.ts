// Bad input gets a clear, machine-readable answer, and the connection stays usable.
// Raw frames, because no Nostr library will send most of these.
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { ManualClock } from '@hansa/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

const sk = generateSecretKey()
/** An author on the node's deny list. */
const deniedSk = generateSecretKey()
const nowS = () => Math.floor(Date.now() / 1000)
const note = (
  content = 'hi',
  extra: Partial<{ created_at: number; tags: string[][]; kind: number }> = {},
) => finalizeEvent({ kind: 1, content, tags: [], created_at: nowS(), ...extra }, sk)

describe('bad input is answered with its reason; the connection survives', () => {
  let node: TestNode
  let client: RawClient

  beforeAll(async () => {
    node = await startTestNode({
      'limits.maxContentBytes': 1000,
      'limits.maxMessageBytes': 4096,
      'limits.maxSubscriptions': 3,
      'limits.maxFilters': 2,
      'policy.deniedKinds': [666],
      'policy.deniedPubkeys': [getPublicKey(deniedSk)],
    })
    client = await RawClient.connect(node.url)
    await client.next((m) => m[0] === 'AUTH')
  })

  afterAll(async () => {
    client.close()
    await node.stop()
    removeDir(node.dataDir)
  })

  /** After each bad input, a good event still gets OK true on the same connection. */
  async function stillWorks() {
    const e = note(`alive ${Math.random()}`)
    client.send(['EVENT', e])
    expect(await client.ok(e.id)).toEqual(['OK', e.id, true, ''])
    expect(client.closed).toBe(false)
  }

  it.each([
    ['malformed JSON', '["EVENT", {', 'invalid: message is not valid JSON'],
    ['not an array', '{"hello":1}', 'invalid: message must be a JSON array starting with a verb'],
    ['unknown verb', '["PING"]', 'invalid: unknown verb "PING"'],
    ['EVENT without event', '["EVENT"]', 'invalid: EVENT takes exactly one event'],
    ['event not an object', '["EVENT", 42]', 'invalid: event must be a JSON object'],
  ])('%s → NOTICE', async (_name, frame, reason) => {
    client.send(frame)
    expect(await client.next((m) => m[0] === 'NOTICE')).toEqual(['NOTICE', reason])
    await stillWorks()
  })

  it('wrong id → OK false invalid', async () => {
    const e = { ...note('original'), content: 'tampered' }
    client.send(['EVENT', e])
    expect(await client.ok(e.id)).toEqual([
      'OK',
      e.id,
      false,
      'invalid: event id does not match its content',
    ])
    await stillWorks()
  })

  it('bad signature → OK false invalid', async () => {
    const e = note('signed')
    const sig = (e.sig[0] === '0' ? '1' : '0') + e.sig.slice(1)
    client.send(['EVENT', { ...e, sig }])
    expect(await client.ok(e.id)).toEqual([
      'OK',
      e.id,
      false,
      'invalid: signature verification failed',
    ])
    await stillWorks()
  })

  it('a field of the wrong shape → OK false naming the field', async () => {
    const e = note()
    client.send(['EVENT', { ...e, pubkey: e.pubkey.toUpperCase() }])
    expect(await client.ok(e.id)).toEqual([
      'OK',
      e.id,
      false,
      'invalid: pubkey must be 64 lowercase hex characters',
    ])
    client.send(['EVENT', { ...e, kind: 70000 }])
    expect((await client.ok(e.id))[3]).toBe('invalid: kind must be an integer from 0 to 65535')
    client.send(['EVENT', { ...e, tags: [['p', 5]] }])
    expect((await client.ok(e.id))[3]).toBe('invalid: tag items must be strings')
    await stillWorks()
  })

  it('created_at too far in the future → OK false invalid', async () => {
    const e = note('from the future', { created_at: nowS() + 3600 })
    client.send(['EVENT', e])
    expect(await client.ok(e.id)).toEqual([
      'OK',
      e.id,
      false,
      'invalid: created_at is more than 900 seconds in the future',
    ])
    await stillWorks()
  })

  it('oversized content → OK false invalid; oversized message → OK false invalid', async () => {
    const big = note('x'.repeat(1001))
    client.send(['EVENT', big])
    expect(await client.ok(big.id)).toEqual([
      'OK',
      big.id,
      false,
      'invalid: content is larger than 1000 bytes',
    ])
    const huge = note('y'.repeat(5000))
    client.send(['EVENT', huge])
    expect(await client.ok(huge.id)).toEqual([
      'OK',
      huge.id,
      false,
      'invalid: message is larger than 4096 bytes',
    ])
    await stillWorks()
  })

  it('denied kinds and authors → OK false blocked', async () => {
    const e = note('spam', { kind: 666 })
    client.send(['EVENT', e])
    expect(await client.ok(e.id)).toEqual([
      'OK',
      e.id,
      false,
      'blocked: kind 666 is not accepted here',
    ])
    const denied = finalizeEvent(
      { kind: 1, content: 'from a denied author', tags: [], created_at: nowS() },
      deniedSk,
    )
    client.send(['EVENT', denied])
    expect(await client.ok(denied.id)).toEqual([
      'OK',
      denied.id,
      false,
      'blocked: this author is not allowed to publish here',
    ])
    await stillWorks()
  })

  it('bad filters, too many filters, too many subscriptions → CLOSED with the reason', async () => {
    client.send(['REQ', 's1', { authors: ['nothex'] }])
    expect(await client.next((m) => m[0] === 'CLOSED' && m[1] === 's1')).toEqual([
      'CLOSED',
      's1',
      'invalid: authors must be a list of 64-character lowercase hex strings',
    ])
    client.send(['REQ', 's2', { colour: ['red'] }])
    expect((await client.next((m) => m[1] === 's2'))[2]).toBe(
      'invalid: unknown filter field "colour"',
    )
    client.send(['REQ', 's3', {}, {}, {}])
    expect((await client.next((m) => m[1] === 's3'))[2]).toBe('invalid: more than 2 filters')
    for (const id of ['a', 'b', 'c']) {
      client.send(['REQ', id, { kinds: [9999] }])
      expect((await client.next((m) => m[1] === id))[0]).toBe('EOSE')
    }
    client.send(['REQ', 'd', { kinds: [9999] }])
    expect(await client.next((m) => m[1] === 'd')).toEqual([
      'CLOSED',
      'd',
      'rate-limited: too many open subscriptions (at most 3); CLOSE one first',
    ])
    for (const id of ['a', 'b', 'c']) client.send(['CLOSE', id])
    client.send(['REQ', 'e', { kinds: [9999] }])
    expect((await client.next((m) => m[1] === 'e'))[0]).toBe('EOSE')
    client.send(['CLOSE', 'e'])
    await stillWorks()
  })

  it('AUTH with a wrong challenge → OK false', async () => {
    const auth = finalizeEvent(
      {
        kind: 22242,
        content: '',
        created_at: nowS(),
        tags: [
          ['relay', node.url],
          ['challenge', 'nope'],
        ],
      },
      sk,
    )
    client.send(['AUTH', auth])
    expect(await client.ok(auth.id)).toEqual([
      'OK',
      auth.id,
      false,
      'invalid: AUTH challenge does not match',
    ])
    await stillWorks()
  })
})

describe('rate limits', () => {
  // The node reads time from a clock the test holds: the buckets refill only when it moves.
  it('refuses events past the per-connection rate with rate-limited:, then recovers', async () => {
    const clock = new ManualClock()
    const node = await startTestNode({ 'limits.eventsPerSecond': 5 }, undefined, undefined, {
      clock,
    })
    try {
      const client = await RawClient.connect(node.url)
      const events = Array.from({ length: 20 }, (_, i) => note(`burst ${i}`))
      for (const e of events) client.send(['EVENT', e])
      const answers = await Promise.all(events.map((e) => client.ok(e.id)))
      const accepted = answers.filter((a) => a[2] === true).length
      expect(accepted).toBe(10) // the burst is twice the rate
      expect(answers.find((a) => a[2] === false)?.[3]).toBe(
        'rate-limited: slow down: too many events from this connection',
      )
      const still = note('no time has passed')
      client.send(['EVENT', still])
      expect((await client.ok(still.id))[2]).toBe(false)
      clock.advance(1100) // 5.5 tokens come back
      const later = note('after a pause')
      client.send(['EVENT', later])
      expect((await client.ok(later.id))[2]).toBe(true)
      client.close()
    } finally {
      await node.stop()
      removeDir(node.dataDir)
    }
  })

  it('applies the per-IP rate across connections', async () => {
    const node = await startTestNode(
      { 'limits.eventsPerSecond': 100, 'limits.eventsPerSecondPerIp': 4 },
      undefined,
      undefined,
      { clock: new ManualClock() },
    )
    try {
      const a = await RawClient.connect(node.url)
      const b = await RawClient.connect(node.url)
      const events = Array.from({ length: 12 }, (_, i) => note(`ip ${i}`))
      for (const [i, e] of events.entries()) (i % 2 ? a : b).send(['EVENT', e])
      const answers = await Promise.all(events.map((e, i) => (i % 2 ? a : b).ok(e.id)))
      expect(answers.filter((x) => x[2] === true)).toHaveLength(8)
      expect(answers.filter((x) => x[2] === false)[0]?.[3]).toBe(
        'rate-limited: slow down: too many events from your address',
      )
      a.close()
      b.close()
    } finally {
      await node.stop()
      removeDir(node.dataDir)
    }
  })

  it('an allow-list keeps other authors out with restricted:', async () => {
    const node = await startTestNode({
      'policy.allowedPubkeys': [getPublicKey(generateSecretKey())],
    })
    try {
      const client = await RawClient.connect(node.url)
      const e = note('not on the list')
      client.send(['EVENT', e])
      expect((await client.ok(e.id))[3]).toBe('restricted: only listed authors may publish here')
      client.close()
    } finally {
      await node.stop()
      removeDir(node.dataDir)
    }
  })
})
