// Attack: reading other people's gift wraps (NIP-59, kind 1059) from a node that does not run
// the inbox. Privacy must not hang on a configuration switch: a node that stores gift wraps at
// all serves each one only to the pubkey it is addressed to (its `p` tag), authenticated with
// NIP-42, by every path a stranger could try (by kind, by id, by an open filter, live, COUNT).
import * as nip17 from 'nostr-tools/nip17'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

const aliceSk = generateSecretKey()
const alice = getPublicKey(aliceSk)
const bobSk = generateSecretKey()
const eveSk = generateSecretKey()

async function connectAs(url: string, sk: Uint8Array): Promise<RawClient> {
  const client = await RawClient.connect(url)
  const [, challenge] = (await client.next((m) => m[0] === 'AUTH')) as [string, string]
  const auth = finalizeEvent(
    {
      kind: 22242,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['relay', url],
        ['challenge', challenge],
      ],
      content: '',
    },
    sk,
  )
  client.send(['AUTH', auth])
  const ok = await client.ok(auth.id)
  expect(ok[2]).toBe(true)
  return client
}

describe('attack: reading gift wraps on a node whose inbox is off', () => {
  let node: TestNode
  let wrap: ReturnType<typeof nip17.wrapEvent>

  beforeAll(async () => {
    node = await startTestNode({ 'inbox.enabled': false })
    const bob = await RawClient.connect(node.url)
    wrap = nip17.wrapEvent(
      bobSk,
      { publicKey: alice, relayUrl: node.url },
      'the key is under the mat',
    )
    bob.send(['EVENT', wrap])
    expect((await bob.ok(wrap.id))[2]).toBe(true)
    bob.close()
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('a stranger finds no gift wrap by kind, id, author or an open filter, and counts none', async () => {
    for (const client of [await RawClient.connect(node.url), await connectAs(node.url, eveSk)]) {
      const filters = [
        { kinds: [1059] },
        { ids: [wrap.id] },
        { authors: [wrap.pubkey] },
        { '#p': [alice] },
        {},
      ]
      for (const [i, filter] of filters.entries()) {
        client.send(['REQ', `s${i}`, filter])
        const { events, end } = await client.collect(`s${i}`)
        expect(end[0]).not.toBe('EVENT')
        expect(events.map((e) => e.id)).not.toContain(wrap.id)
      }
      client.send(['COUNT', 'c', { kinds: [1059] }, { ids: [wrap.id] }])
      const count = await client.next((m) => m[0] === 'COUNT' || m[0] === 'CLOSED')
      if (count[0] === 'COUNT') expect(count[2]).toEqual({ count: 0 })
      client.close()
    }
  })

  it('its recipient, authenticated, reads it', async () => {
    const client = await connectAs(node.url, aliceSk)
    client.send(['REQ', 'mail', { kinds: [1059], '#p': [alice] }])
    const { events } = await client.collect('mail')
    expect(events.map((e) => e.id)).toEqual([wrap.id])
    client.close()
  })

  it('a live subscription delivers a new gift wrap to its recipient only', async () => {
    const eve = await connectAs(node.url, eveSk)
    const stranger = await RawClient.connect(node.url)
    const recipient = await connectAs(node.url, aliceSk)
    for (const c of [eve, stranger, recipient]) {
      c.send(['REQ', 'live', { kinds: [1059, 1] }])
      await c.collect('live')
    }
    const bob = await RawClient.connect(node.url)
    const second = nip17.wrapEvent(bobSk, { publicKey: alice, relayUrl: node.url }, 'and again')
    bob.send(['EVENT', second])
    expect((await bob.ok(second.id))[2]).toBe(true)
    // A public note sent after the wrap: once a client has it, the wrap (fanned out first, on
    // the same connection order) would have arrived before it.
    const note = finalizeEvent(
      { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'hello' },
      bobSk,
    )
    bob.send(['EVENT', note])
    expect((await bob.ok(note.id))[2]).toBe(true)
    const got = await recipient.next((m) => m[0] === 'EVENT' && m[1] === 'live')
    expect((got[2] as { id: string }).id).toBe(second.id)
    for (const c of [eve, stranger]) {
      const first = await c.next((m) => m[0] === 'EVENT' && m[1] === 'live')
      expect((first[2] as { id: string }).id).toBe(note.id)
    }
    for (const c of [eve, stranger, recipient, bob]) c.close()
  })
})
