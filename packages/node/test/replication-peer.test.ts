// The replication's client side against peers that misbehave: one that does not speak NIP-77
// (silent, or a NOTICE about the unknown verb) fails the step with a clear error within the
// timeout instead of hanging it (strfry issue 124's hang); one that vanishes fails every
// pending wait at once. Against a real node, a reconciliation finds exactly the difference.
import { type AddressInfo, WebSocketServer } from 'ws'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PeerSocket, replicationPeers, sharedFilters } from '@hansa/node'
import { peerFilters } from '../src/replication/peers.js'
import type { Manifest } from '@hansa/protocol'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

/** A WebSocket server that answers NEG-OPEN with `reply` (or never, when null). */
async function fakePeer(reply: ((m: unknown[]) => unknown) | null) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((r) => server.once('listening', () => r()))
  server.on('connection', (ws) => {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as unknown[]
      if (reply && m[0] === 'NEG-OPEN') ws.send(JSON.stringify(reply(m)))
    })
  })
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
  const close = () =>
    new Promise<void>((r) => {
      for (const client of server.clients) client.terminate()
      server.close(() => r())
    })
  return { url, close }
}

describe('replication client against peers that do not speak NIP-77', () => {
  it('a silent peer: a timeout that says what was asked', async () => {
    const peer = await fakePeer(null)
    const socket = await PeerSocket.connect(peer.url, 300)
    const started = Date.now()
    await expect(socket.reconcile({ kinds: [1059] }, [], 60_000)).rejects.toThrow(
      /did not answer NEG-OPEN \(does it speak NIP-77\?\) within 300 ms/,
    )
    expect(Date.now() - started).toBeLessThan(5_000)
    socket.close()
    await peer.close()
  })

  it('a peer that answers with a NOTICE: "does not speak NIP-77" with its words', async () => {
    const peer = await fakePeer(() => ['NOTICE', 'ERROR: bad msg: unknown cmd'])
    const socket = await PeerSocket.connect(peer.url, 5_000)
    await expect(socket.reconcile({ kinds: [1059] }, [], 60_000)).rejects.toThrow(
      /does not speak NIP-77: ERROR: bad msg: unknown cmd/,
    )
    socket.close()
    await peer.close()
  })

  it('a peer that refuses: NEG-ERR with its reason', async () => {
    const peer = await fakePeer((m) => ['NEG-ERR', m[1], 'blocked: this query is too big'])
    const socket = await PeerSocket.connect(peer.url, 5_000)
    await expect(socket.reconcile({ kinds: [1] }, [], 60_000)).rejects.toThrow(
      /refused NIP-77: blocked: this query is too big/,
    )
    socket.close()
    await peer.close()
  })

  it('a peer that goes away: every pending step fails at once', async () => {
    const peer = await fakePeer(null)
    const socket = await PeerSocket.connect(peer.url, 60_000)
    const pending = socket.reconcile({ kinds: [1] }, [], 60_000)
    await peer.close()
    await expect(pending).rejects.toThrow(/closed|error/)
  })

  it('an unreachable peer: a clear error', async () => {
    await expect(PeerSocket.connect('ws://127.0.0.1:1', 1_000)).rejects.toThrow(/cannot reach/)
  })
})

describe('replication client against a node', () => {
  let node: TestNode
  const sk = generateSecretKey()
  const notes = Array.from({ length: 50 }, (_, i) =>
    finalizeEvent({ kind: 1, created_at: 1_700_000_000 + i, tags: [], content: `${i}` }, sk),
  )
  beforeAll(async () => {
    node = await startTestNode()
    const socket = await PeerSocket.connect(node.url, 5_000)
    for (const e of notes.slice(0, 40)) expect((await socket.publish(e)).ok).toBe(true)
    socket.close()
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('reconciles, counts its bytes, and fetches what it lacks by id', async () => {
    const socket = await PeerSocket.connect(node.url, 5_000)
    const local = notes.slice(10).map((e) => [e.created_at, e.id] as const)
    const result = await socket.reconcile({ kinds: [1] }, local, 60_000)
    expect(result.need.sort()).toEqual(
      notes
        .slice(0, 10)
        .map((e) => e.id)
        .sort(),
    )
    expect(result.have.sort()).toEqual(
      notes
        .slice(40)
        .map((e) => e.id)
        .sort(),
    )
    expect(result.bytes).toBeGreaterThan(0)
    const fetched = await socket.fetch({ ids: result.need, limit: result.need.length })
    expect(fetched.map((e) => e.id).sort()).toEqual(result.need.sort())
    socket.close()
  })
})

describe('replication peers from the manifest', () => {
  const node = (pubkey: string, services: string[]) => ({
    pubkey,
    urls: [`ws://${pubkey.slice(0, 4)}`],
    services,
  })
  const a = 'a'.repeat(64)
  const b = 'b'.repeat(64)
  const c = 'c'.repeat(64)
  const manifest = {
    coordinators: [
      {
        alias: 'x',
        pubkey: '1'.repeat(64),
        nodes: [node(a, ['inbox', 'orderbook']), node(b, ['inbox'])],
      },
      { alias: 'y', pubkey: '2'.repeat(64), nodes: [node(c, ['orderbook'])] },
    ],
    services: { inbox: {}, orderbook: {} },
  } as unknown as Manifest
  const services = [
    { name: 'inbox', filters: [{ kinds: [1059, 10050] }] },
    { name: 'orderbook', filters: [{ kinds: [38383] }] },
  ]

  it('pairs member nodes by the services both run; nobody outside the manifest', () => {
    const peers = replicationPeers(manifest, a, services)
    expect([...peers.keys()].sort()).toEqual([b, c])
    expect(peers.get(b)?.services).toEqual(['inbox'])
    expect(peers.get(c)).toMatchObject({ services: ['orderbook'], coordinator: 'y' })
    expect([...replicationPeers(manifest, b, services).keys()]).toEqual([a])
    expect(replicationPeers(manifest, 'd'.repeat(64), services).size).toBe(0)
    expect(replicationPeers(null, a, services).size).toBe(0)
  })

  it('shares every deletion, with or without a k tag, and reconciles each filter once per peer', () => {
    expect(sharedFilters(services[0]!)).toEqual([{ kinds: [1059, 10050] }, { kinds: [5] }])
    const both = { pubkey: b, url: 'ws://b', coordinator: 'x', services: ['inbox', 'orderbook'] }
    expect(peerFilters(both, services)).toEqual([
      { kinds: [1059, 10050] },
      { kinds: [5] },
      { kinds: [38383] },
    ])
  })
})
