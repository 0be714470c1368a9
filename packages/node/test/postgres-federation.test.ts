// The federation on PostgreSQL, shared by two processes of one node (in-process nodes with
// the same key, each with its own pool and LISTEN connection): a genesis proposal made on one
// is seen on the other, signed there to the threshold, and adopted by both; federation.sqlite
// keeps no chain; a process started later reads the chain from the database.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { schnorr } from '@noble/curves/secp256k1.js'
import Database from 'better-sqlite3'
import { bytesToHex } from '@noble/hashes/utils.js'
import { type Manifest, manifestHash, signManifest } from '@hansa/protocol'
import { getToken } from 'nostr-tools/nip98'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestNode, removeDir, startTestNode } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

type Key = { secretKey: Uint8Array; pubkey: string }
const key = (): Key => {
  const secretKey = generateSecretKey()
  return { secretKey, pubkey: bytesToHex(schnorr.getPublicKey(secretKey)) }
}
const [ana, bo] = [key(), key()] as [Key, Key]
const now = () => Math.floor(Date.now() / 1000)

async function http(
  node: { httpUrl: string },
  path: string,
  init: { body?: unknown; as?: Key } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = `${node.httpUrl}${path}`
  const method = init.body === undefined ? 'GET' : 'POST'
  const headers: Record<string, string> = {}
  if (init.body !== undefined) headers['content-type'] = 'application/json'
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
  const response = await fetch(url, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await fn()
  for (let i = 0; i < 100 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 100))
    v = await fn()
  }
  return v
}

describe.skipIf(!pgUrl)('PostgreSQL: the federation shared by two processes', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-pg-fed-'))
  let db: Awaited<ReturnType<typeof freshDatabase>>
  const nodes: TestNode[] = []
  const flags = () => ({
    'storage.backend': 'postgres',
    'storage.url': db.url,
    'federation.adminPubkeys': [ana.pubkey],
  })

  beforeAll(async () => {
    db = await freshDatabase()
    nodes.push(await startTestNode(flags(), join(root, 'a')))
    mkdirSync(join(root, 'b'), { mode: 0o700 })
    copyFileSync(join(root, 'a', 'node.key'), join(root, 'b', 'node.key'))
    nodes.push(await startTestNode(flags(), join(root, 'b')))
  })
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await db?.drop()
    removeDir(root)
  })

  it('a proposal made on one process is signed on the other and adopted by both', async () => {
    const [a, b] = nodes as [TestNode, TestNode]
    const genesis: Manifest = {
      hansa: 1,
      name: 'Shared League',
      version: 1,
      previous: null,
      issuedAt: now(),
      expiresAt: now() + 90 * 86_400,
      guardians: [
        { pubkey: ana.pubkey, name: 'ana' },
        { pubkey: bo.pubkey, name: 'bo' },
      ],
      threshold: 2,
      coordinators: [
        {
          pubkey: ana.pubkey,
          alias: 'hanseatic',
          description: 'One node, two processes.',
          contact: {},
          nodes: [{ pubkey: a.key.pubkey, urls: [a.url], services: ['inbox'] }],
        },
      ],
      services: { inbox: { retentionDays: 30 } },
      devFund: { recipient: ana.pubkey, suggestedRate: 0.2 },
    }
    const hash = manifestHash(genesis)
    const posted = await http(a, '/federation/proposals', {
      body: { manifest: genesis, signatures: [signManifest(genesis, ana.secretKey)] },
      as: ana,
    })
    expect(posted.status).toBe(201)
    const seen = await waitFor(
      () => http(b, `/federation/proposals/${hash}`),
      (r) => r.status === 200,
    )
    expect(seen.status).toBe(200)
    const signedOnB = await http(b, `/federation/proposals/${hash}/signatures`, {
      body: signManifest(genesis, bo.secretKey),
      as: bo,
    })
    expect([signedOnB.status, signedOnB.body.adopted]).toEqual([200, true])
    for (const node of [a, b]) {
      const status = await waitFor(
        () => http(node, '/federation'),
        (r) => r.body.version === 1,
      )
      expect(status.body).toMatchObject({ federationId: hash, status: 'member', version: 1 })
    }
    // federation.sqlite holds only the guardians' registry signatures: no chain, no proposals
    for (const dir of ['a', 'b']) {
      const file = join(root, dir, 'federation.sqlite')
      if (!existsSync(file)) continue
      const sqlite = new Database(file, { readonly: true })
      const tables = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all()
      sqlite.close()
      expect(tables).toEqual(['registry_signatures'])
    }
    // a third process of the node, started now, reads the chain from the database
    mkdirSync(join(root, 'c'), { mode: 0o700 })
    copyFileSync(join(root, 'a', 'node.key'), join(root, 'c', 'node.key'))
    const c = await startTestNode(flags(), join(root, 'c'))
    nodes.push(c)
    expect((await http(c, '/federation')).body).toMatchObject({ federationId: hash, version: 1 })
  })
})
