// The federation on real nodes (in-process, real sockets, real HTTP): a genesis draft signed
// over the API and spread to every node; proposals that reach the threshold adopted by every
// node, including one that was down, and one signature short adopted by none; guardian
// rotation and a threshold change; membership, NIP-11 and services following the manifest;
// and every refused input answered 4xx with the rule's code.
import { createServer } from 'node:net'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Manifest,
  type ManifestEdit,
  type SignedManifest,
  encodeInviteCode,
  manifestHash,
  nextManifestDraft,
  signManifest,
} from '@hansa/protocol'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

type Key = { name: string; secretKey: Uint8Array; pubkey: string }
const key = (name: string): Key => {
  const secretKey = generateSecretKey()
  return { name, secretKey, pubkey: bytesToHex(schnorr.getPublicKey(secretKey)) }
}
const [ana, bo, cy, dan, eve] = ['ana', 'bo', 'cy', 'dan', 'eve'].map(key) as [
  Key,
  Key,
  Key,
  Key,
  Key,
]
const coordinatorA = key('hanseatic')
const coordinatorB = key('lubeck')
const now = () => Math.floor(Date.now() / 1000)
const DAY = 86_400

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

type Answer = { status: number; body: Record<string, unknown> }

async function http(
  node: { httpUrl: string },
  path: string,
  init: { method?: string; body?: unknown; as?: Key; rawBody?: string } = {},
): Promise<Answer> {
  const url = `${node.httpUrl}${path}`
  const method =
    init.method ?? (init.body === undefined && init.rawBody === undefined ? 'GET' : 'POST')
  const headers: Record<string, string> = {}
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (init.as) {
    const sk = init.as.secretKey
    headers.authorization = await getToken(
      url,
      method,
      (e) => finalizeEvent(e, sk),
      true,
      init.body as Record<string, unknown> | undefined,
    )
  }
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const errorCode = (a: Answer) => (a.body.error as { code: string } | undefined)?.code

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await fn()
    if (ok(value)) return value
    if (Date.now() > until) throw new Error(`timed out; last value ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const versionOf = async (node: { httpUrl: string }) =>
  (await http(node, '/federation')).body.version as number | null

const signed = (manifest: Manifest, ...keys: Key[]): SignedManifest => ({
  manifest,
  signatures: keys.map((k) => signManifest(manifest, k.secretKey)),
})

const sig = (manifest: Manifest, k: Key) => signManifest(manifest, k.secretKey)

async function nip11(node: { httpUrl: string }) {
  const response = await fetch(`${node.httpUrl}/`, {
    headers: { accept: 'application/nostr+json' },
  })
  return (await response.json()) as { hansa: Record<string, unknown> }
}

async function publishGiftWrap(node: { url: string }): Promise<unknown[]> {
  const client = await RawClient.connect(node.url)
  const wrap = finalizeEvent(
    { kind: 1059, created_at: now(), tags: [['p', ana.pubkey]], content: 'sealed' },
    generateSecretKey(),
  )
  client.send(['EVENT', wrap])
  const answer = await client.ok(wrap.id)
  client.close()
  return answer
}

describe('federation: chain, proposals and membership on live nodes', () => {
  const ports: number[] = []
  const dirs: string[] = []
  const nodes: TestNode[] = []
  let genesis: Manifest

  const start = async (i: number, flags: Record<string, unknown> = {}) => {
    nodes[i] = await startTestNode(
      {
        port: ports[i],
        'federation.syncIntervalSeconds': 2,
        // ana drafts the genesis: her NIP-98 speaks for each node's coordinator (the ceremony
        // uses the nodes' setup tokens instead; ceremony.test.ts in the CLI).
        'federation.adminPubkeys': [ana.pubkey],
        ...flags,
      },
      dirs[i],
    )
    dirs[i] = nodes[i]!.dataDir
    return nodes[i]!
  }

  const head = () => nodes[0]!.federation.manifest()!
  const draft = (edits: ManifestEdit[], base = head()) =>
    nextManifestDraft(base, edits, { issuedAt: now(), expiresAt: now() + 90 * DAY })

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) ports.push(await freePort())
    for (let i = 0; i < 3; i++) await start(i)
    const url = (i: number) => `ws://127.0.0.1:${ports[i]}`
    genesis = {
      hansa: 1,
      name: 'Test League',
      version: 1,
      previous: null,
      issuedAt: now(),
      expiresAt: now() + 90 * DAY,
      guardians: [ana, bo, cy].map((k) => ({ pubkey: k.pubkey, name: k.name })),
      threshold: 2,
      coordinators: [
        {
          pubkey: coordinatorA.pubkey,
          alias: 'hanseatic',
          description: 'Two nodes.',
          contact: {},
          nodes: [0, 1].map((i) => ({
            pubkey: nodes[i]!.key.pubkey,
            urls: [url(i)],
            services: ['inbox'],
          })),
        },
        {
          pubkey: coordinatorB.pubkey,
          alias: 'lubeck',
          description: 'One node.',
          contact: {},
          nodes: [{ pubkey: nodes[2]!.key.pubkey, urls: [url(2)], services: ['inbox'] }],
        },
      ],
      services: { inbox: { retentionDays: 30 } },
      devFund: { recipient: coordinatorA.pubkey, suggestedRate: 0.2 },
    }
  })

  afterAll(async () => {
    for (const node of nodes) await node?.stop()
    for (const dir of dirs) removeDir(dir)
  })

  it('a fresh node runs standalone and says so', async () => {
    const status = await http(nodes[0]!, '/federation')
    expect(status.status).toBe(200)
    expect(status.body).toMatchObject({
      federationId: null,
      head: null,
      status: 'standalone',
      node: { pubkey: nodes[0]!.key.pubkey, services: ['inbox'] },
      software: { manifestFormat: 1 },
    })
    expect((await nip11(nodes[0]!)).hansa).toMatchObject({
      federationId: null,
      services: ['inbox'],
    })
    const chain = await http(nodes[0]!, '/federation/chain')
    expect([chain.status, errorCode(chain)]).toEqual([404, 'HANSA_FEDERATION_NONE'])
  })

  it('a genesis draft signed to the threshold over the API is adopted and spreads to every node', async () => {
    const posted = await http(nodes[0]!, '/federation/proposals', {
      body: { manifest: genesis, signatures: [sig(genesis, ana)] },
      as: ana,
    })
    expect(posted.status).toBe(201)
    expect(posted.body.adopted).toBe(false)
    // the draft reaches the other nodes too: each adopts only the genesis its coordinator asked for
    for (const node of nodes.slice(1)) {
      const copy = await http(node, '/federation/proposals', {
        body: { manifest: genesis },
        as: ana,
      })
      expect(copy.status).toBe(201)
    }
    const hash = manifestHash(genesis)
    expect((posted.body.proposal as { hash: string }).hash).toBe(hash)
    // one signature short of the threshold: nothing adopted
    expect(await versionOf(nodes[0]!)).toBeNull()

    const signedByBo = await http(nodes[0]!, `/federation/proposals/${hash}/signatures`, {
      body: sig(genesis, bo),
      as: bo,
    })
    expect(signedByBo.status).toBe(200)
    expect(signedByBo.body.adopted).toBe(true)

    for (const node of nodes)
      await waitFor(
        () => versionOf(node),
        (v) => v === 1,
      )
    for (const [i, node] of nodes.entries()) {
      const info = (await http(node, '/federation')).body
      expect(info).toMatchObject({ federationId: hash, status: 'member', version: 1 })
      expect((await nip11(node)).hansa).toEqual({
        federationId: hash,
        manifestVersion: 1,
        coordinator: i < 2 ? coordinatorA.pubkey : coordinatorB.pubkey,
        services: ['inbox'],
      })
    }
    const chain = await http(nodes[2]!, '/federation/chain?from=1')
    expect(chain.body).toEqual([
      {
        manifest: genesis,
        signatures: [sig(genesis, ana), sig(genesis, bo)].map(() => expect.anything()),
      },
    ])
  })

  it('refuses every bad input with the rule it breaks', async () => {
    const node = nodes[0]!
    const v2 = draft([{ op: 'set-name', name: 'Renamed' }])
    const expectRefusal = async (answer: Promise<Answer>, status: number, code: string) => {
      const a = await answer
      expect([a.status, errorCode(a)], JSON.stringify(a.body)).toEqual([status, code])
      expect((a.body.error as { message: string }).message.length).toBeGreaterThan(10)
    }
    await expectRefusal(
      http(node, '/federation/proposals', { body: { manifest: v2 } }),
      401,
      'HANSA_HTTP_AUTH',
    )
    await expectRefusal(
      http(node, '/federation/proposals', { body: { manifest: v2 }, as: eve }),
      403,
      'HANSA_NOT_GUARDIAN',
    )
    await expectRefusal(
      http(node, '/federation/proposals', { body: { manifest: { ...v2, version: 5 } }, as: ana }),
      409,
      'HANSA_MANIFEST_VERSION',
    )
    await expectRefusal(
      http(node, '/federation/proposals', {
        body: { manifest: { ...v2, previous: 'ab'.repeat(32) } },
        as: ana,
      }),
      409,
      'HANSA_MANIFEST_PREVIOUS',
    )
    await expectRefusal(
      http(node, '/federation/proposals', { body: { manifest: { ...v2, threshold: 9 } }, as: ana }),
      400,
      'HANSA_MANIFEST_INVALID',
    )
    await expectRefusal(
      http(node, '/federation/proposals', {
        body: { manifest: { ...v2, issuedAt: now() - 10 * DAY, expiresAt: now() - DAY } },
        as: ana,
      }),
      422,
      'HANSA_MANIFEST_EXPIRED',
    )
    await expectRefusal(
      http(node, '/federation/proposals', {
        body: { manifest: v2, signatures: [{ pubkey: bo.pubkey, sig: sig(v2, ana).sig }] },
        as: ana,
      }),
      422,
      'HANSA_SIGNATURE_INVALID',
    )
    await expectRefusal(
      http(node, `/federation/proposals/${'cd'.repeat(32)}/signatures`, {
        body: sig(v2, ana),
        as: ana,
      }),
      404,
      'HANSA_PROPOSAL_NOT_FOUND',
    )
    // a NIP-98 event for another URL, another method, or another body
    const token = await getToken(
      `${node.httpUrl}/federation/sync`,
      'POST',
      (e) => finalizeEvent(e, ana.secretKey),
      true,
      { manifest: v2 },
    )
    const replayed = await fetch(`${node.httpUrl}/federation/proposals`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: v2 }),
    })
    expect(replayed.status).toBe(401)
    expect(((await replayed.json()) as { error: { message: string } }).error.message).toMatch(
      /u tag/,
    )

    // chains: one signature short, another federation, an older version, bad JSON
    await expectRefusal(
      http(node, '/federation/chain', { body: [signed(v2, ana)] }),
      422,
      'HANSA_MANIFEST_THRESHOLD',
    )
    const otherGenesis = { ...genesis, name: 'Other League' }
    await expectRefusal(
      http(node, '/federation/chain', { body: [signed(otherGenesis, ana, bo)] }),
      409,
      'HANSA_MANIFEST_GENESIS',
    )
    await expectRefusal(
      http(node, '/federation/chain', { rawBody: '[{"manifest": ' }),
      400,
      'HANSA_REQUEST_INVALID',
    )
    await expectRefusal(http(node, '/federation/chain?from=0'), 400, 'HANSA_REQUEST_INVALID')
    await expectRefusal(
      http(node, '/federation/chain', { body: { not: 'an array' } }),
      400,
      'HANSA_REQUEST_INVALID',
    )
    expect(await versionOf(node)).toBe(1)
  })

  it('a proposal one signature short is adopted by no node; at the threshold every node adopts it, even one that was down', async () => {
    // v2: the federation adds the orderbook, and node 3 (lubeck's) offers it instead of inbox
    const v2 = draft([
      { op: 'set-service', service: 'orderbook', params: { currencies: ['EUR'] } },
      { op: 'update-node', pubkey: nodes[2]!.key.pubkey, services: ['orderbook'] },
    ])
    const hash = manifestHash(v2)
    const posted = await http(nodes[0]!, '/federation/proposals', {
      body: { manifest: v2, signatures: [sig(v2, ana)] },
      as: ana,
    })
    expect(posted.status).toBe(201)
    expect(posted.body.proposal).toMatchObject({
      complete: false,
      thresholds: { previous: 2, own: 2 },
      changes: expect.arrayContaining([expect.stringMatching(/services removed: inbox/)]),
    })
    // node 2 learns the proposal from node 1 (it carries a guardian's signature); still v1
    await http(nodes[1]!, '/federation/sync', { method: 'POST' })
    const onNode2 = await http(nodes[1]!, `/federation/proposals/${hash}`)
    expect(onNode2.status).toBe(200)
    for (const node of nodes) expect(await versionOf(node)).toBe(1)

    // node 3 goes down; bo signs on node 2, which adopts and spreads to node 1
    await nodes[2]!.stop()
    const signedByBo = await http(nodes[1]!, `/federation/proposals/${hash}/signatures`, {
      body: sig(v2, bo),
      as: bo,
    })
    expect(signedByBo.body.adopted).toBe(true)
    await waitFor(
      () => versionOf(nodes[0]!),
      (v) => v === 2,
    )
    expect((await http(nodes[0]!, '/federation/proposals')).body.proposals).toEqual([])

    // node 3 comes back with its old data: it pulls version 2 from its peers at start
    const restarted = await start(2)
    expect(restarted.federation.version()).toBe(1)
    await waitFor(
      () => versionOf(restarted),
      (v) => v === 2,
    )
    const info = (await http(restarted, '/federation')).body
    expect(info).toMatchObject({
      status: 'member',
      node: { services: [], configuredServices: ['inbox'] },
    })
    expect((await nip11(restarted)).hansa).toMatchObject({ manifestVersion: 2, services: [] })
    // the federation's consensus on modules: inbox is off on node 3, on elsewhere
    const refused = await publishGiftWrap(restarted)
    expect(refused[2]).toBe(false)
    expect(refused[3]).toMatch(/^restricted: service "inbox" is off on this node/)
    expect((await publishGiftWrap(nodes[0]!))[2]).toBe(true)
  })

  it('rotates a guardian, then raises the threshold, each needing both guardian sets', async () => {
    // v3: cy leaves, dan joins; needs 2 of {ana, bo, cy} and 2 of {ana, bo, dan}
    const v3 = draft([
      { op: 'remove-guardian', pubkey: cy.pubkey },
      { op: 'add-guardian', guardian: { pubkey: dan.pubkey, name: 'dan' } },
    ])
    const hash3 = manifestHash(v3)
    const p = await http(nodes[0]!, '/federation/proposals', {
      body: { manifest: v3, signatures: [sig(v3, ana), sig(v3, dan)] },
      as: ana,
    })
    expect(p.body).toMatchObject({
      adopted: false,
      proposal: {
        signers: { previous: [{ name: 'ana' }], own: [{ name: 'ana' }, { name: 'dan' }] },
      },
    })
    // dan is not yet a guardian of v2: he may sign v3 but not propose
    const byDan = await http(nodes[0]!, '/federation/proposals', {
      body: { manifest: v3 },
      as: dan,
    })
    expect([byDan.status, errorCode(byDan)]).toEqual([403, 'HANSA_NOT_GUARDIAN'])
    const withCy = await http(nodes[0]!, `/federation/proposals/${hash3}/signatures`, {
      body: sig(v3, cy),
      as: cy,
    })
    // cy's signature counts for the old set only: 2 of v2's guardians and 2 of v3's
    expect(withCy.body.adopted).toBe(true)
    for (const node of nodes)
      await waitFor(
        () => versionOf(node),
        (v) => v === 3,
      )

    // v4: threshold 3 of {ana, bo, dan}: two signatures meet v3's threshold, not v4's own
    const v4 = draft([{ op: 'set-threshold', threshold: 3 }])
    const hash4 = manifestHash(v4)
    await http(nodes[1]!, '/federation/proposals', {
      body: { manifest: v4, signatures: [sig(v4, ana), sig(v4, bo)] },
      as: bo,
    })
    const removed = await http(nodes[1]!, `/federation/proposals/${hash4}/signatures`, {
      body: sig(v4, cy),
      as: cy,
    })
    expect([removed.status, errorCode(removed)]).toEqual([403, 'HANSA_NOT_GUARDIAN'])
    expect(await versionOf(nodes[1]!)).toBe(3)
    const third = await http(nodes[1]!, `/federation/proposals/${hash4}/signatures`, {
      body: sig(v4, dan),
      as: dan,
    })
    expect(third.body.adopted).toBe(true)
    for (const node of nodes)
      await waitFor(
        () => versionOf(node),
        (v) => v === 4,
      )
    expect(nodes[2]!.federation.manifest()).toMatchObject({ threshold: 3, version: 4 })
  })

  it('refuses a rollback and reports a fork, keeping its head', async () => {
    const node = nodes[0]!
    const chain = (await http(node, '/federation/chain')).body as unknown as SignedManifest[]
    const older = await http(node, '/federation/chain', { body: chain.slice(0, 2) })
    expect([older.status, errorCode(older)]).toEqual([409, 'HANSA_MANIFEST_ROLLBACK'])
    // the guardians of v3 sign two different v4s: the node keeps the one it has
    const v3 = chain[2]!.manifest
    const otherV4 = draft([{ op: 'set-name', name: 'Fork League' }], v3)
    const forked = await http(node, '/federation/chain', {
      body: [...chain.slice(0, 3), signed(otherV4, ana, bo, dan)],
    })
    expect([forked.status, errorCode(forked)]).toEqual([409, 'HANSA_MANIFEST_FORK'])
    const info = (await http(node, '/federation')).body
    expect(info.version).toBe(4)
    expect(info.fork).toMatchObject({ version: 4, candidateHash: manifestHash(otherV4) })
  })

  it('a node that joins by invite code but is not in the manifest says so and serves no service', async () => {
    const invite = encodeInviteCode({
      federationId: manifestHash(genesis),
      urls: [nodes[1]!.url],
    })
    const outsider = await start(3, { 'federation.inviteCode': invite })
    await waitFor(
      () => versionOf(outsider),
      (v) => v === 4,
    )
    const info = (await http(outsider, '/federation')).body
    expect(info).toMatchObject({
      status: 'not-member',
      federationId: manifestHash(genesis),
      node: { services: [], coordinator: null },
    })
    expect(info.message).toMatch(/is not in manifest version 4/)
    expect((await nip11(outsider)).hansa).toEqual({
      federationId: manifestHash(genesis),
      manifestVersion: 4,
      coordinator: null,
      services: [],
    })
    const refused = await publishGiftWrap(outsider)
    expect(refused[3]).toMatch(/not a member/)
  })

  it('documents every federation route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${nodes[0]!.httpUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/federation',
        '/federation/chain',
        '/federation/proposals',
        '/federation/proposals/{hash}',
        '/federation/proposals/{hash}/signatures',
        '/federation/sync',
      ]),
    )
    expect(doc.paths['/federation/proposals']!.post).toMatchObject({ security: [{ nip98: [] }] })
  })
})
