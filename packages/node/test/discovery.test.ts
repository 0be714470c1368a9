// Discovery v5 on loopback, in-process nodes with real UDP sockets: a standalone node's ENR
// (signed by its key, its services and URL, no federation); three nodes that find each other
// once a genesis lists them — their ENRs read from GET /discovery at the manifest's URLs, the
// federation id and services re-signed into each ENR — one of them restarted on another port
// and found there, and a fourth, outside the manifest, that finds them all from one bootnode;
// the node's key proof (GET /proof).
import { randomBytes } from 'node:crypto'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { generateSecretKey, verifyEvent } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENR } from '@chainsafe/enr'
import {
  type Manifest,
  type SignedManifest,
  NODE_RECORD_KEYS,
  nodeProofError,
  nostrPubkeyOfCompressedKey,
  readNodeRecord,
  signManifest,
} from '@hansa/protocol'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

type Key = { secretKey: Uint8Array; pubkey: string }
const key = (): Key => {
  const secretKey = generateSecretKey()
  return { secretKey, pubkey: bytesToHex(schnorr.getPublicKey(secretKey)) }
}
const now = () => Math.floor(Date.now() / 1000)

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 100))
  }
}

const decodeEnr = (text: string) => {
  const enr = ENR.decodeTxt(text)
  const record = readNodeRecord((k) => enr.kvs.get(k))
  return { enr, record, pubkey: nostrPubkeyOfCompressedKey(enr.publicKey) }
}

describe('discovery v5 on loopback', () => {
  const nodes: TestNode[] = []
  const flags = { 'discovery.lookupIntervalSeconds': 1 }

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startTestNode(flags))
  })

  afterAll(async () => {
    for (const node of nodes) {
      await node.stop()
      removeDir(node.dataDir)
    }
  })

  it('announces an ENR signed by the node key with its services and WebSocket URL', async () => {
    const { status, body } = await getJson(`${nodes[0]!.httpUrl}/discovery`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ enabled: true, pubkey: nodes[0]!.key.pubkey, ip: '127.0.0.1' })
    const { enr, record, pubkey } = decodeEnr(body.enr as string)
    expect(pubkey).toBe(nodes[0]!.key.pubkey)
    expect(enr.ip).toBe('127.0.0.1')
    expect(enr.udp).toBe(body.udpPort)
    expect(record).toEqual({
      ok: true,
      record: {
        federationId: null,
        services: expect.arrayContaining(['inbox']),
        wsUrl: nodes[0]!.url,
      },
    })
    expect(enr.kvs.has(NODE_RECORD_KEYS.federation)).toBe(false)
  })

  it('nodes a genesis lists find each other through the manifest, and re-sign their ENR', async () => {
    const guardians = [key(), key()]
    const coordinator = key()
    const genesis: Manifest = {
      hansa: 1,
      name: 'Discovery League',
      version: 1,
      previous: null,
      issuedAt: now(),
      expiresAt: now() + 30 * 86_400,
      guardians: guardians.map((g, i) => ({ pubkey: g.pubkey, name: `g${i}` })),
      threshold: 2,
      coordinators: [
        {
          pubkey: coordinator.pubkey,
          alias: 'hanseatic',
          description: 'Three nodes.',
          contact: {},
          nodes: nodes.map((n) => ({ pubkey: n.key.pubkey, urls: [n.url], services: ['inbox'] })),
        },
      ],
      services: { inbox: { retentionDays: 30 } },
      devFund: { recipient: coordinator.pubkey, suggestedRate: 0.2 },
    }
    const chain: SignedManifest[] = [
      { manifest: genesis, signatures: guardians.map((g) => signManifest(genesis, g.secretKey)) },
    ]
    for (const node of nodes) {
      // Each node's coordinator hands over its setup token (a stranger's chain is refused).
      const response = await fetch(`${node.httpUrl}/federation/chain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'hansa-setup-token': node.setupToken()! },
        body: JSON.stringify(chain),
      })
      expect(response.status).toBe(200)
    }
    const federationId = nodes[0]!.federation.federationId()
    // Each node's table fills with the other two, whose ENRs now carry the federation.
    await waitFor(() =>
      nodes.every((node) => {
        const others = node.discovery!.peers()
        return nodes
          .filter((n) => n !== node)
          .every((n) =>
            others.some(
              (p) => p.pubkey === n.key.pubkey && p.record?.federationId === federationId,
            ),
          )
      }),
    )
    const peer = nodes[0]!.discovery!.peers().find((p) => p.pubkey === nodes[1]!.key.pubkey)!
    expect(peer.record).toEqual({ federationId, services: ['inbox'], wsUrl: nodes[1]!.url })
    expect(peer.udpPort).toBe(nodes[1]!.discovery!.udpPort)
  })

  it('a node restarted on another port is found at its new address', async () => {
    const moved = nodes[2]!
    const oldUrl = moved.url
    await moved.stop()
    nodes[2] = await startTestNode(flags, moved.dataDir)
    expect(nodes[2].url).not.toBe(oldUrl)
    // Its ENR outranks the last run's (a higher sequence number); it hands it to the
    // federation's nodes (POST /discovery/enr), which take it over the stale one.
    await waitFor(async () => {
      await nodes[2]!.discovery!.refresh()
      const seen = nodes[0]!.discovery!.peers().find((p) => p.pubkey === nodes[2]!.key.pubkey)
      return seen?.record?.wsUrl === nodes[2]!.url
    })
  })

  it('a node outside the manifest finds them all from one bootnode', async () => {
    const outsider = await startTestNode({
      ...flags,
      'discovery.bootnodes': [nodes[0]!.discovery!.enr()],
    })
    nodes.push(outsider)
    // It cannot hand its ENR over HTTP (only members can); discv5 itself is open to it.
    const offered = await fetch(`${nodes[0]!.httpUrl}/discovery/enr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enr: outsider.discovery!.enr() }),
    })
    expect(offered.status).toBe(403)
    expect(await offered.json()).toMatchObject({ error: { code: 'HANSA_ENR_NOT_MEMBER' } })
    await waitFor(async () => {
      await outsider.discovery!.refresh()
      const known = new Set(outsider.discovery!.peers().map((p) => p.pubkey))
      return nodes.slice(0, 3).every((n) => known.has(n.key.pubkey))
    })
  })

  it('proves its key for a fresh challenge at its own URL, and only there', async () => {
    const node = nodes[0]!
    const challenge = randomBytes(32).toString('hex')
    const { status, body } = await getJson(`${node.httpUrl}/proof?challenge=${challenge}`)
    expect(status).toBe(200)
    const proof = body.proof as Parameters<typeof verifyEvent>[0]
    expect(verifyEvent(proof)).toBe(true)
    expect(
      nodeProofError(proof, { pubkey: node.key.pubkey, challenge, relayUrl: node.url, now: now() }),
    ).toBeNull()
    expect(
      nodeProofError(proof, {
        pubkey: nodes[1]!.key.pubkey,
        challenge,
        relayUrl: node.url,
        now: now(),
      }),
    ).toMatch(/not by the claimed key/)

    const elsewhere = await getJson(
      `${node.httpUrl}/proof?challenge=${challenge}&relay=${encodeURIComponent('ws://203.0.113.9:7447')}`,
    )
    expect(elsewhere.status).toBe(400)
    expect(elsewhere.body).toMatchObject({ error: { code: 'HANSA_PROOF_RELAY' } })
    const bad = await getJson(`${node.httpUrl}/proof?challenge=abc`)
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ error: { code: 'HANSA_PROOF_CHALLENGE' } })
  })

  it('with discovery off, says so and still proves its key', async () => {
    const quiet = await startTestNode({ 'discovery.enabled': false })
    nodes.push(quiet)
    expect(quiet.discovery).toBeNull()
    const { body } = await getJson(`${quiet.httpUrl}/discovery`)
    expect(body).toMatchObject({ enabled: false, enr: null, pubkey: quiet.key.pubkey })
    const challenge = randomBytes(32).toString('hex')
    const proof = await getJson(`${quiet.httpUrl}/proof?challenge=${challenge}`)
    expect(proof.status).toBe(200)
  })
})
