// NIP-01 (and 09, 11, 40, 45) against a real node, spoken by nostr-tools, a client nobody
// here wrote: every filter field, every kind class, deletion, expiration, COUNT.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { finalizeEvent, generateSecretKey, getPublicKey, type Event } from 'nostr-tools/pure'
import WebSocket from 'ws'
import { ManualClock } from '@hansa/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

useWebSocketImplementation(WebSocket)

const alice = generateSecretKey()
const bob = generateSecretKey()
const now = Math.floor(Date.now() / 1000)
/** The node's clock: it moves only when a test moves it (NIP-40 expiry below). */
const clock = new ManualClock(now * 1000)

function sign(
  sk: Uint8Array,
  kind: number,
  content = '',
  tags: string[][] = [],
  created_at = now,
): Event {
  return finalizeEvent({ kind, content, tags, created_at }, sk)
}

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

describe('NIP-01 relay with nostr-tools', () => {
  let node: TestNode
  let relay: Relay
  const published: Event[] = []

  beforeAll(async () => {
    node = await startTestNode({}, undefined, undefined, { clock })
    relay = await Relay.connect(node.url)
    const target = 'e'.repeat(64)
    published.push(
      sign(alice, 1, 'hello from alice', [['t', 'hansa']], now - 300),
      sign(
        alice,
        1,
        'a reply',
        [
          ['e', target],
          ['t', 'reply'],
        ],
        now - 200,
      ),
      sign(bob, 1, 'bob here', [['p', getPublicKey(alice)]], now - 100),
      sign(bob, 7, '+', [['e', target]], now - 50),
    )
    for (const e of published) expect(await relay.publish(e)).toBe('')
  })

  afterAll(async () => {
    relay.close()
    await node.stop()
    removeDir(node.dataDir)
  })

  it('answers each filter field: ids, authors, kinds, #e, #p, #t, since, until, limit', async () => {
    const [a1, a2, b1, b7] = published as [Event, Event, Event, Event]
    const ids = (events: Event[]) => events.map((e) => e.id).sort()
    expect(ids(await query(relay, [{ ids: [a1.id, b7.id] }]))).toEqual([a1.id, b7.id].sort())
    expect(ids(await query(relay, [{ authors: [getPublicKey(alice)] }]))).toEqual(
      [a1.id, a2.id].sort(),
    )
    expect(ids(await query(relay, [{ kinds: [7] }]))).toEqual([b7.id])
    expect(ids(await query(relay, [{ '#e': ['e'.repeat(64)] }]))).toEqual([a2.id, b7.id].sort())
    expect(ids(await query(relay, [{ '#p': [getPublicKey(alice)] }]))).toEqual([b1.id])
    expect(ids(await query(relay, [{ '#t': ['hansa', 'reply'] }]))).toEqual([a1.id, a2.id].sort())
    expect(ids(await query(relay, [{ since: now - 150 }]))).toEqual([b1.id, b7.id].sort())
    expect(ids(await query(relay, [{ until: now - 250 }]))).toEqual([a1.id])
    const limited = await query(relay, [{ kinds: [1], limit: 2 }])
    expect(limited.map((e) => e.id)).toEqual([b1.id, a2.id]) // newest first
    // Several conditions in one filter are ANDed; several filters are ORed.
    expect(ids(await query(relay, [{ kinds: [1], authors: [getPublicKey(bob)] }]))).toEqual([b1.id])
    expect(ids(await query(relay, [{ kinds: [7] }, { '#t': ['hansa'] }]))).toEqual(
      [a1.id, b7.id].sort(),
    )
  })

  it('sends live events to open subscriptions after EOSE', async () => {
    const received: Event[] = []
    let eose = false
    const sub = relay.subscribe([{ kinds: [42] }], {
      onevent: (e) => received.push(e),
      oneose: () => {
        eose = true
      },
    })
    await expect.poll(() => eose).toBe(true)
    const live = sign(bob, 42, 'live')
    await relay.publish(live)
    await expect.poll(() => received.map((e) => e.id)).toEqual([live.id])
    sub.close()
  })

  it('loses no event between the stored results of a REQ and its live ones', async () => {
    // Events committed while the REQ is being read (on a reader thread) must still reach it:
    // either among the stored results or live after EOSE, and none twice.
    const writer = await RawClient.connect(node.url)
    const reader = await RawClient.connect(node.url)
    const sk = generateSecretKey()
    // 150 events: within the default burst of one connection (twice 100 events/s).
    const events = Array.from({ length: 150 }, (_, i) => sign(sk, 4242, `n${i}`))
    const received: string[] = []
    reader.ws.on('message', (data) => {
      const m = JSON.parse(data.toString())
      if (m[0] === 'EVENT' && m[1] === 'race') received.push(m[2].id)
    })
    for (const [i, e] of events.entries()) {
      writer.send(['EVENT', e])
      if (i === 75) reader.send(['REQ', 'race', { kinds: [4242], limit: 500 }])
    }
    const oks = await Promise.all(events.map((e) => writer.ok(e.id)))
    expect(oks.every((ok) => ok[2] === true)).toBe(true)
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(events.length)
    expect(new Set(received).size).toBe(events.length)
    writer.close()
    reader.close()
  })

  it('keeps only the newest replaceable and addressable event', async () => {
    const sk = generateSecretKey()
    const pk = getPublicKey(sk)
    const old = sign(sk, 0, '{"name":"old"}', [], now - 10)
    const fresh = sign(sk, 0, '{"name":"new"}', [], now)
    await relay.publish(fresh)
    await relay.publish(old) // older: accepted as duplicate, not stored
    expect((await query(relay, [{ kinds: [0], authors: [pk] }])).map((e) => e.id)).toEqual([
      fresh.id,
    ])
    const v1 = sign(sk, 30023, 'v1', [['d', 'post']], now - 10)
    const v2 = sign(sk, 30023, 'v2', [['d', 'post']], now)
    const other = sign(sk, 30023, 'other', [['d', 'other']], now - 5)
    for (const e of [v1, v2, other]) await relay.publish(e)
    const kept = await query(relay, [{ kinds: [30023], authors: [pk] }])
    expect(kept.map((e) => e.content).sort()).toEqual(['other', 'v2'])
  })

  it('does not store ephemeral events but sends them to subscribers', async () => {
    const got: Event[] = []
    const sub = relay.subscribe([{ kinds: [20001] }], { onevent: (e) => got.push(e) })
    await new Promise((r) => setTimeout(r, 100))
    const e = sign(alice, 20001, 'typing...')
    await relay.publish(e)
    await expect.poll(() => got.length).toBe(1)
    sub.close()
    expect(await query(relay, [{ kinds: [20001] }])).toEqual([])
  })

  it('deletes by NIP-09 only for the author, and keeps deleted events out', async () => {
    const mine = sign(alice, 1, 'to be deleted')
    const theirs = sign(bob, 1, 'bob keeps this')
    await relay.publish(mine)
    await relay.publish(theirs)
    const deletion = sign(alice, 5, '', [
      ['e', mine.id],
      ['e', theirs.id],
    ])
    await relay.publish(deletion)
    const left = await query(relay, [{ ids: [mine.id, theirs.id, deletion.id] }])
    expect(left.map((e) => e.id).sort()).toEqual([theirs.id, deletion.id].sort())
    await expect(relay.publish(mine)).rejects.toThrow(/blocked: this event was deleted/)
    // An `a` deletion removes the addressable event up to the deletion's time.
    const post = sign(alice, 30023, 'article', [['d', 'doomed']], now - 5)
    await relay.publish(post)
    await relay.publish(sign(alice, 5, '', [['a', `30023:${getPublicKey(alice)}:doomed`]]))
    expect(await query(relay, [{ kinds: [30023], '#d': ['doomed'] }])).toEqual([])
  })

  it('honours NIP-40 expiration: refuses expired events, stops serving them on time', async () => {
    const t = clock.now()
    await expect(
      relay.publish(sign(alice, 1, 'stale', [['expiration', String(t - 1)]], t)),
    ).rejects.toThrow(/invalid: event has expired/)
    const soon = sign(alice, 1, 'short-lived', [['expiration', String(t + 2)]], t)
    await relay.publish(soon)
    expect((await query(relay, [{ ids: [soon.id] }])).length).toBe(1)
    clock.advance(1000) // a second before its expiration it is still served…
    expect((await query(relay, [{ ids: [soon.id] }])).length).toBe(1)
    clock.advance(1000) // …and from its expiration on, never again
    expect(await query(relay, [{ ids: [soon.id] }])).toEqual([])
  })

  it('counts with NIP-45 COUNT', async () => {
    expect(await relay.count([{ kinds: [7] }], {})).toBe(1)
    expect(await relay.count([{ authors: [getPublicKey(bob)], kinds: [1] }], {})).toBe(2)
  })

  it('serves the NIP-11 information document with limits and the hansa object', async () => {
    const res = await fetch(node.httpUrl, { headers: { accept: 'application/nostr+json' } })
    expect(res.headers.get('content-type')).toContain('application/nostr+json')
    const info = (await res.json()) as Record<string, any>
    expect(info.supported_nips).toEqual(expect.arrayContaining([1, 9, 11, 17, 40, 42, 45, 59]))
    expect(info.limitation.max_message_length).toBe(node.config.limits.maxMessageBytes)
    expect(info.limitation.max_subscriptions).toBe(node.config.limits.maxSubscriptions)
    expect(info.pubkey).toBe(node.key.pubkey)
    expect(info.software).toMatch(/hansa/)
    expect(info.fees).toEqual({})
    expect(info.hansa).toEqual({
      federationId: null,
      manifestVersion: null,
      coordinator: null,
      services: ['inbox'],
    })
  })

  it('stops sending to a subscription after CLOSE', async () => {
    const client = await RawClient.connect(node.url)
    client.send(['REQ', 'watch', { kinds: [43] }])
    await client.collect('watch')
    client.send(['CLOSE', 'watch'])
    const e = sign(alice, 43, 'after close')
    await relay.publish(e)
    client.send(['REQ', 'probe', { ids: [e.id] }])
    const probe = await client.collect('probe')
    expect(probe.events.map((x) => x.id)).toEqual([e.id])
    expect(client.messages.filter((m) => m[1] === 'watch')).toEqual([])
    client.close()
  })

  it('exports metrics at /metrics', async () => {
    const text = await (await fetch(`${node.httpUrl}/metrics`)).text()
    expect(text).toMatch(/hansa_events_received_total \d+/)
    expect(text).toMatch(/hansa_events_stored_total\{kind_class="regular"\} \d+/)
    expect(text).toMatch(/hansa_events_refused_total\{prefix="invalid",rule="expired"\} 1/)
    expect(text).toMatch(/hansa_stored_bytes [1-9]\d*/)
    expect(text).toMatch(/hansa_query_duration_seconds_bucket/)
    expect(text).toMatch(/hansa_connections [1-9]/)
    // The event loop has run this whole file; the store's threads are named by their pool.
    expect(text).toMatch(
      /hansa_thread_cpu_seconds_total\{thread="event-loop",mode="user"\} (0\.[1-9]|[1-9])/,
    )
    expect(text).toMatch(/hansa_thread_cpu_seconds_total\{thread="store-writer",mode="system"\} \d/)
    // In whole ticks of the kernel's clock (10 ms), not float noise such as 0.22999999999999998.
    for (const [, seconds] of text.matchAll(/^hansa_thread_cpu_seconds_total\{[^}]*\} (\S+)$/gm)) {
      expect(seconds).toMatch(/^\d+(\.\d{1,2})?$/)
    }
  })
})
