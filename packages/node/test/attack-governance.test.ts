// Attacks on a node's governance, each against a running node over real HTTP: a stranger who
// posts a genesis chain or a self-signed genesis draft to a standalone node (it would then
// govern the node, or switch its services off), a replayed setup token, a chain padded with
// signatures claiming one guardian, a flood of chain offers, and one guardian filling the
// proposal table.
import { join } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type Manifest, manifestHash, signManifest } from '@hansa/protocol'
import { type Verifier, readKeyFile } from '../src/index.js'
import { VerifyPool } from '../dist/verify/index.js'
import { removeDir, startTestNode, type TestNode } from './helpers.js'

type Key = { secretKey: Uint8Array; pubkey: string }
const key = (): Key => {
  const secretKey = generateSecretKey()
  return { secretKey, pubkey: bytesToHex(schnorr.getPublicKey(secretKey)) }
}
const now = () => Math.floor(Date.now() / 1000)

async function post(
  node: TestNode,
  path: string,
  body: unknown,
  opts: { as?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; code: string | undefined; body: Record<string, unknown> }> {
  const url = `${node.httpUrl}${path}`
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers }
  if (opts.as) {
    const sk = opts.as
    headers.authorization = await getToken(
      url,
      'POST',
      (e) => finalizeEvent(e, sk),
      true,
      body as Record<string, unknown>,
    )
  }
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) })
  const json = (await response.json()) as Record<string, unknown>
  return { status: response.status, code: (json.error as { code?: string })?.code, body: json }
}

/** A genesis whose only guardian (threshold 1) is `guardian`, listing `node` as a member. */
function genesisBy(guardian: Key, node: TestNode, name = 'Stranger League'): Manifest {
  return {
    hansa: 1,
    name,
    version: 1,
    previous: null,
    issuedAt: now(),
    expiresAt: now() + 86_400,
    guardians: [{ pubkey: guardian.pubkey, name: 'mallory' }],
    threshold: 1,
    coordinators: [
      {
        pubkey: guardian.pubkey,
        alias: 'mallory',
        description: '',
        contact: {},
        nodes: [{ pubkey: node.key.pubkey, urls: [node.url], services: ['inbox'] }],
      },
    ],
    services: { inbox: { retentionDays: 1 } },
    devFund: { recipient: guardian.pubkey, suggestedRate: 0 },
  }
}

const sealed = (manifest: Manifest, k: Key) => [
  { manifest, signatures: [signManifest(manifest, k.secretKey)] },
]

describe('attacks on governance', () => {
  const nodes: TestNode[] = []
  const start = async (flags: Record<string, unknown> = {}) => {
    const node = await startTestNode(flags)
    nodes.push(node)
    return node
  }
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      await node.stop()
      removeDir(node.dataDir)
    }
  })
  afterAll(async () => {
    for (const node of nodes) await node.stop()
  })

  it("a stranger's sealed genesis chain is refused 403 and changes nothing", async () => {
    const node = await start()
    const mallory = key()
    const answer = await post(node, '/federation/chain', sealed(genesisBy(mallory, node), mallory))
    expect([answer.status, answer.code]).toEqual([403, 'HANSA_FEDERATION_UNINVITED'])
    // with a NIP-98 header by a key that is not the node's or an admin's: the same
    const signed = await post(
      node,
      '/federation/chain',
      sealed(genesisBy(mallory, node), mallory),
      {
        as: mallory.secretKey,
      },
    )
    expect([signed.status, signed.code]).toEqual([403, 'HANSA_FEDERATION_UNINVITED'])
    expect(node.federation.status()).toBe('standalone')
    expect(node.federation.activeServices()).toEqual(['inbox'])
  })

  it("a stranger's self-signed genesis draft is refused 403 and leaves no proposal", async () => {
    const node = await start()
    const mallory = key()
    const manifest = genesisBy(mallory, node)
    const answer = await post(
      node,
      '/federation/proposals',
      { manifest, signatures: [signManifest(manifest, mallory.secretKey)] },
      { as: mallory.secretKey },
    )
    expect([answer.status, answer.code]).toEqual([403, 'HANSA_FEDERATION_UNINVITED'])
    expect(node.federation.proposals()).toEqual([])
    expect(node.federation.status()).toBe('standalone')
  })

  it('a setup token authorises one genesis; replaying it is refused', async () => {
    const node = await start({ 'federation.setupToken': 'hst_ceremony-token' })
    expect(node.setupToken()).toBe('hst_ceremony-token')
    const ana = key()
    const manifest = genesisBy(ana, node, 'Invited League')
    const wrongToken = await post(
      node,
      '/federation/proposals',
      { manifest },
      { as: ana.secretKey, headers: { 'hansa-setup-token': 'hst_guess' } },
    )
    expect([wrongToken.status, wrongToken.code]).toEqual([403, 'HANSA_FEDERATION_UNINVITED'])
    const draft = await post(
      node,
      '/federation/proposals',
      { manifest },
      { as: ana.secretKey, headers: { 'hansa-setup-token': 'hst_ceremony-token' } },
    )
    expect(draft.status).toBe(201)
    expect(node.setupToken()).toBeNull()
    // the token is spent: a stranger who saw it cannot re-pin the node to another genesis
    const mallory = key()
    const replay = await post(
      node,
      '/federation/chain',
      sealed(genesisBy(mallory, node), mallory),
      { headers: { 'hansa-setup-token': 'hst_ceremony-token' } },
    )
    expect([replay.status, replay.code]).toEqual([409, 'HANSA_MANIFEST_GENESIS'])
    // the sealed genesis the coordinator authorised is adopted, from anyone (it proves itself)
    const adopted = await post(node, '/federation/chain', sealed(manifest, ana))
    expect(adopted.status).toBe(200)
    expect(node.federation.federationId()).toBe(manifestHash(manifest))
  })

  it("NIP-98 by the node's own key or an admin key lets the coordinator post a chain", async () => {
    const admin = key()
    const node = await start({ 'federation.adminPubkeys': [admin.pubkey] })
    const ana = key()
    const chain = sealed(genesisBy(ana, node, 'Admin League'), ana)
    const byAdmin = await post(node, '/federation/chain', chain, { as: admin.secretKey })
    expect(byAdmin.status).toBe(200)
    expect(node.federation.status()).toBe('member')

    const other = await start()
    const nodeKey = readKeyFile(join(other.dataDir, 'node.key'))
    const otherChain = sealed(genesisBy(ana, other, 'Own League'), ana)
    const byNode = await post(other, '/federation/chain', otherChain, { as: nodeKey.secretKey })
    expect(byNode.status).toBe(200)
  })

  it('a chain padded with forged signatures claiming a guardian counts that guardian once, by its first entry', async () => {
    const admin = key()
    const node = await start({ 'federation.adminPubkeys': [admin.pubkey] })
    const ana = key()
    const [signed] = sealed(genesisBy(ana, node, 'Padded League'), ana)
    const forged = { pubkey: ana.pubkey, sig: 'ab'.repeat(64) }
    // a thousand forged entries before the real one: only the first is checked, and it fails
    const padded = [
      { ...signed!, signatures: [...Array(1000).fill(forged), ...signed!.signatures] },
    ]
    const answer = await post(node, '/federation/chain', padded, { as: admin.secretKey })
    expect([answer.status, answer.code]).toEqual([422, 'HANSA_MANIFEST_THRESHOLD'])
    expect(node.federation.status()).toBe('standalone')
  })

  it("a chain POST checks guardian signatures on the node's verify threads, one per guardian key", async () => {
    // The node's verifier is its verify pool, watched: every check it is asked for is noted.
    const pool = await VerifyPool.create({ threads: 1, backend: 'auto' })
    const checked: string[] = []
    const verifier: Verifier = {
      backend: pool.backend,
      check: (e) => {
        checked.push(`${e.id}:${e.pubkey}`)
        return pool.check(e)
      },
      close: () => pool.close(),
    }
    const admin = key()
    const node = await startTestNode(
      { 'federation.adminPubkeys': [admin.pubkey] },
      undefined,
      undefined,
      { verifier },
    )
    nodes.push(node)
    const ana = key()
    const genesis = genesisBy(ana, node, 'Checked League')
    const hash = manifestHash(genesis)
    const [signed] = sealed(genesis, ana)
    const forged = { pubkey: ana.pubkey, sig: 'ab'.repeat(64) }
    const strangers = Array.from({ length: 50 }, () => signManifest(genesis, key().secretKey))
    const offered = [
      { ...signed!, signatures: [...signed!.signatures, forged, forged, ...strangers] },
    ]
    const answer = await post(node, '/federation/chain', offered, { as: admin.secretKey })
    expect(answer.status).toBe(200)
    expect(node.federation.federationId()).toBe(hash)
    // Ana's signature once, on the pool; her forged copies and the strangers' never.
    expect(checked.filter((c) => c.startsWith(hash))).toEqual([`${hash}:${ana.pubkey}`])
  })

  it('a flood of chain offers from one address is rate-limited (429)', async () => {
    const node = await start()
    const mallory = key()
    const chain = sealed(genesisBy(mallory, node), mallory)
    const statuses: number[] = []
    for (let i = 0; i < 40; i++)
      statuses.push((await post(node, '/federation/chain', chain)).status)
    expect(statuses).toContain(429)
    expect(statuses.filter((s) => s === 403).length).toBeLessThanOrEqual(11)
  })

  it('one guardian cannot fill the proposal table: at most 4 pending proposals each', async () => {
    const ana = key()
    const node = await start({ 'federation.adminPubkeys': [ana.pubkey] })
    const bo = key()
    const statuses: Array<[number, string | undefined]> = []
    for (let i = 0; i < 6; i++) {
      const manifest = {
        ...genesisBy(ana, node, `Draft ${i}`),
        guardians: [
          { pubkey: ana.pubkey, name: 'ana' },
          { pubkey: bo.pubkey, name: 'bo' },
        ],
        threshold: 2,
      }
      const answer = await post(node, '/federation/proposals', { manifest }, { as: ana.secretKey })
      statuses.push([answer.status, answer.code])
    }
    expect(statuses.slice(0, 4).map(([s]) => s)).toEqual([201, 201, 201, 201])
    expect(statuses.slice(4)).toEqual([
      [409, 'HANSA_PROPOSALS_FULL'],
      [409, 'HANSA_PROPOSALS_FULL'],
    ])
    expect(node.federation.proposals()).toHaveLength(4)
  })
})
