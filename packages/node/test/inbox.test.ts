// The offline inbox: Bob sends Alice a NIP-17 message while she is offline; she comes back,
// authenticates (NIP-42) and reads it. Nobody else can read it, by any filter.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

const aliceSk = generateSecretKey()
const alice = getPublicKey(aliceSk)
const bobSk = generateSecretKey()
const eveSk = generateSecretKey()

const authAs = (sk: Uint8Array) => async (template: Parameters<typeof finalizeEvent>[0]) =>
  finalizeEvent(template, sk)

function collect(relay: Relay, filters: Parameters<Relay['subscribe']>[0]) {
  return new Promise<{ events: Event[]; closed?: string }>((resolve) => {
    const events: Event[] = []
    const sub = relay.subscribe(filters, {
      onevent: (e) => events.push(e),
      oneose: () => {
        resolve({ events })
        sub.close()
      },
      onclose: (reason) => resolve({ events, closed: reason }),
    })
  })
}

async function connectAuthed(url: string, sk: Uint8Array): Promise<Relay> {
  const relay = new Relay(url)
  relay.onauth = authAs(sk)
  await relay.connect()
  // The node sends its challenge on connect; nostr-tools answers it through onauth.
  await new Promise((r) => setTimeout(r, 200))
  return relay
}

describe('inbox: NIP-17 gift wraps kept for an offline recipient', () => {
  let node: TestNode
  let wrap: Event

  beforeAll(async () => {
    node = await startTestNode()
    const bob = await Relay.connect(node.url)
    wrap = nip17.wrapEvent(bobSk, { publicKey: alice, relayUrl: node.url }, 'meet at noon?')
    expect(wrap.kind).toBe(1059)
    expect(await bob.publish(wrap)).toBe('')
    bob.close()
  })

  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('asks an unauthenticated reader to authenticate', async () => {
    const anon = await Relay.connect(node.url)
    const res = await collect(anon, [{ kinds: [1059], '#p': [alice] }])
    expect(res.closed).toMatch(
      /^auth-required: gift wraps \(kind 1059\) are served only to their recipient/,
    )
    expect(res.events).toEqual([])
    anon.close()
  })

  it('refuses another authenticated user and hides the mail from every other filter', async () => {
    const eve = await connectAuthed(node.url, eveSk)
    const asked = await collect(eve, [{ kinds: [1059], '#p': [alice] }])
    expect(asked.closed).toMatch(/^restricted: gift wraps are served only to their recipient/)
    for (const filter of [{ kinds: [1059] }, { '#p': [alice] }, { ids: [wrap.id] }, {}]) {
      const res = await collect(eve, [filter])
      expect(res.closed).toBeUndefined()
      expect(res.events.map((e) => e.id)).not.toContain(wrap.id)
    }
    expect(await eve.count([{ ids: [wrap.id] }], {})).toBe(0)
    eve.close()
  })

  it('hands the mail to the recipient after NIP-42 AUTH, and she can open it', async () => {
    const aliceRelay = await connectAuthed(node.url, aliceSk)
    const res = await collect(aliceRelay, [{ kinds: [1059], '#p': [alice] }])
    expect(res.closed).toBeUndefined()
    expect(res.events.map((e) => e.id)).toEqual([wrap.id])
    const rumor = nip17.unwrapEvent(res.events[0]!, aliceSk)
    expect(rumor.content).toBe('meet at noon?')
    expect(rumor.pubkey).toBe(getPublicKey(bobSk))
    expect(await aliceRelay.count([{ ids: [wrap.id] }], {})).toBe(1)
    aliceRelay.close()
  })

  it('delivers live mail only to the recipient', async () => {
    const aliceRelay = await connectAuthed(node.url, aliceSk)
    const eve = await connectAuthed(node.url, eveSk)
    const toAlice: Event[] = []
    const toEve: Event[] = []
    aliceRelay.subscribe([{ kinds: [1059], '#p': [alice] }], { onevent: (e) => toAlice.push(e) })
    eve.subscribe([{}], { onevent: (e) => toEve.push(e) })
    await new Promise((r) => setTimeout(r, 200))
    const bob = await Relay.connect(node.url)
    const live = nip17.wrapEvent(bobSk, { publicKey: alice }, 'are you there?')
    await bob.publish(live)
    await expect.poll(() => toAlice.map((e) => e.id)).toContain(live.id)
    expect(toAlice.map((e) => e.id)).toEqual([wrap.id, live.id]) // stored mail, then live
    // A public note published after the mail reaches Eve's catch-all subscription after the
    // mail would have: once she has it, the mail's fan-out is over.
    const marker = finalizeEvent(
      { kind: 1, tags: [], content: 'after the mail', created_at: Math.floor(Date.now() / 1000) },
      bobSk,
    )
    await bob.publish(marker)
    await expect.poll(() => toEve.map((e) => e.id)).toContain(marker.id)
    expect(toEve.map((e) => e.id)).not.toContain(live.id)
    for (const r of [aliceRelay, eve, bob]) r.close()
  })

  it('serves the recipient inbox relay list (kind 10050) to anyone', async () => {
    const aliceRelay = await Relay.connect(node.url)
    const list = finalizeEvent(
      {
        kind: 10050,
        tags: [['relay', node.url]],
        content: '',
        created_at: Math.floor(Date.now() / 1000),
      },
      aliceSk,
    )
    await aliceRelay.publish(list)
    aliceRelay.close()
    const anyone = await RawClient.connect(node.url)
    anyone.send(['REQ', 'relays', { kinds: [10050], authors: [alice] }])
    const res = await anyone.collect('relays')
    expect(res.events.map((e) => e.id)).toEqual([list.id])
    anyone.close()
  })

  it('refuses a gift wrap that names no recipient', async () => {
    const client = await RawClient.connect(node.url)
    const bad = finalizeEvent(
      { kind: 1059, tags: [], content: 'x', created_at: Math.floor(Date.now() / 1000) },
      generateSecretKey(),
    )
    client.send(['EVENT', bad])
    expect(await client.ok(bad.id)).toEqual([
      'OK',
      bad.id,
      false,
      'invalid: a gift wrap (kind 1059) must name its recipient in a p tag (64 hex characters)',
    ])
    client.close()
  })
})

describe('inbox retention', () => {
  it('prunes mail a retention period after the node received it, and only mail', async () => {
    let clock = Math.floor(Date.now() / 1000)
    const node = await startTestNode({ 'inbox.retentionDays': 1 }, undefined, () => clock)
    try {
      const client = await Relay.connect(node.url)
      const wrap = nip17.wrapEvent(bobSk, { publicKey: alice }, 'old news')
      const note = finalizeEvent({ kind: 1, tags: [], content: 'kept', created_at: clock }, bobSk)
      await client.publish(wrap)
      await client.publish(note)
      client.close()
      clock += 12 * 3600
      await node.runMaintenance()
      expect(await node.store.eventCount()).toBe(2)
      clock += 13 * 3600
      await node.runMaintenance()
      expect(await node.store.eventCount()).toBe(1)
      const kept = await node.store.query(
        { ids: [note.id] },
        { limit: 1, now: clock, privateKinds: [], readerPubkeys: [] },
      )
      expect(kept.events).toHaveLength(1)
    } finally {
      await node.stop()
      removeDir(node.dataDir)
    }
  })
})
