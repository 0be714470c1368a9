// Censorship and miscounting attacks on a running node, spoken by nostr-tools: a stranger's
// NIP-09 deletion (kind 5) naming events it did not write — by id before they arrive, by id
// after, by address — and naming the order book's own status events; and a COUNT whose
// filters overlap.
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readKeyFile } from '../src/index.js'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

const alice = generateSecretKey()
const mallory = generateSecretKey()
const now = Math.floor(Date.now() / 1000)
const sign = (sk: Uint8Array, kind: number, tags: string[][] = [], content = '', at = now): Event =>
  finalizeEvent({ kind, content, tags, created_at: at }, sk)

async function query(relay: Relay, filters: Parameters<Relay['subscribe']>[0]): Promise<Event[]> {
  return new Promise((resolve, reject) => {
    const events: Event[] = []
    const sub = relay.subscribe(filters, {
      onevent: (e) => events.push(e),
      oneose: () => {
        resolve(events)
        sub.close()
      },
      onclose: (reason) => reject(new Error(`closed: ${reason}`)),
    })
  })
}

describe('censorship and COUNT attacks', () => {
  let node: TestNode
  let relay: Relay

  beforeAll(async () => {
    node = await startTestNode()
    relay = await Relay.connect(node.url)
  })
  afterAll(async () => {
    relay.close()
    await node.stop()
    removeDir(node.dataDir)
  })

  it("a stranger's kind-5 naming an event before it arrives blocks nothing", async () => {
    const note = sign(alice, 1, [], 'mail that must arrive')
    await relay.publish(sign(mallory, 5, [['e', note.id]]))
    await expect(relay.publish(note)).resolves.toBe('')
    expect((await query(relay, [{ ids: [note.id] }])).map((e) => e.id)).toEqual([note.id])
  })

  it("a stranger's kind-5 naming a stored event removes nothing", async () => {
    const note = sign(alice, 1, [], 'stored first')
    await relay.publish(note)
    await relay.publish(sign(mallory, 5, [['e', note.id]]))
    expect(await query(relay, [{ ids: [note.id] }])).toHaveLength(1)
  })

  it("a stranger's kind-5 naming another author's address (a tag) removes and blocks nothing", async () => {
    const address = `30023:${getPublicKey(alice)}:article`
    const first = sign(alice, 30023, [['d', 'article']], 'v1', now - 10)
    await relay.publish(first)
    await relay.publish(sign(mallory, 5, [['a', address]], '', now))
    expect(await query(relay, [{ kinds: [30023], authors: [getPublicKey(alice)] }])).toHaveLength(1)
    const second = sign(alice, 30023, [['d', 'article']], 'v2', now - 5)
    await expect(relay.publish(second)).resolves.toBe('')
  })

  it("the author's own kind-5 still deletes, by id and by address, and keeps them out", async () => {
    const note = sign(alice, 1, [], 'regretted')
    await relay.publish(note)
    const draft = sign(alice, 30024, [['d', 'draft']], 'draft', now - 10)
    await relay.publish(draft)
    await relay.publish(
      sign(alice, 5, [
        ['e', note.id],
        ['a', `30024:${getPublicKey(alice)}:draft`],
      ]),
    )
    expect(await query(relay, [{ ids: [note.id, draft.id] }])).toEqual([])
    await expect(relay.publish(note)).rejects.toThrow(/^blocked: /)
    await expect(relay.publish(draft)).rejects.toThrow(/^blocked: /)
  })

  it("a stranger cannot freeze the order book's status events (signed by the node key)", async () => {
    const nodeKey = readKeyFile(join(node.dataDir, 'node.key'))
    const order = sign(
      nodeKey.secretKey,
      38383,
      [
        ['d', 'order-1'],
        ['s', 'pending'],
      ],
      '',
      now - 5,
    )
    await relay.publish(
      sign(mallory, 5, [
        ['e', order.id],
        ['a', `38383:${nodeKey.pubkey}:order-1`],
      ]),
    )
    expect(await node.relay.publishOwn(order)).toBe('stored')
    const taken = sign(
      nodeKey.secretKey,
      38383,
      [
        ['d', 'order-1'],
        ['s', 'in-progress'],
      ],
      '',
      now,
    )
    expect(await node.relay.publishOwn(taken)).toBe('stored')
    const book = await query(relay, [{ kinds: [38383], '#d': ['order-1'] }])
    expect(book.map((e) => e.id)).toEqual([taken.id])
  })

  it('COUNT with overlapping filters counts each event once', async () => {
    const bob = generateSecretKey()
    for (let i = 0; i < 3; i++) await relay.publish(sign(bob, 7, [['t', 'dup']], `${i}`, now - i))
    const filters = [{ authors: [getPublicKey(bob)] }, { kinds: [7], '#t': ['dup'] }]
    const counted = await relay.count(filters, {})
    expect(counted).toBe(3)
  })
})
