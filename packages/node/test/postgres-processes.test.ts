// Two `hansa node start` processes with the same node key and one PostgreSQL database serve as
// one relay: the same pubkey, an event published to one is served by the other and reaches a
// subscriber of the other live, and a replaceable event written through both keeps one version.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir } from './helpers.js'
import { type Proc, startNodeProcess as start, stopNodeProcess as stop } from './node-process.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

describe.skipIf(!pgUrl)('PostgreSQL: two node processes, one node', () => {
  const root = mkdtempSync(join(tmpdir(), 'hansa-procs-'))
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: Proc
  let b: Proc
  const sk = generateSecretKey()

  beforeAll(async () => {
    db = await freshDatabase()
    a = await start(join(root, 'a'), db.url)
    // The second process gets the first one's key: one node, two processes.
    mkdirSync(join(root, 'b'), { mode: 0o700 })
    copyFileSync(join(root, 'a', 'node.key'), join(root, 'b', 'node.key'))
    b = await start(join(root, 'b'), db.url)
  }, 60_000)
  afterAll(async () => {
    await stop(a)
    await stop(b)
    await db?.drop()
    removeDir(root)
  })

  it('serves one pubkey and shares events, stored and live', async () => {
    expect(b.pubkey).toBe(a.pubkey)
    const sub = await RawClient.connect(b.url)
    sub.send(['REQ', 'live', { kinds: [1] }])
    await sub.next((m) => m[0] === 'EOSE')
    const pub = await RawClient.connect(a.url)
    const event = finalizeEvent(
      { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'across' },
      sk,
    )
    pub.send(['EVENT', event])
    expect((await pub.ok(event.id))[2]).toBe(true)
    const live = await sub.next((m) => m[0] === 'EVENT' && m[1] === 'live')
    expect((live[2] as { id: string }).id).toBe(event.id)
    sub.send(['REQ', 'stored', { ids: [event.id] }])
    const { events } = await sub.collect('stored')
    expect(events.map((e) => e.id)).toEqual([event.id])
    sub.close()
    pub.close()
  })

  it('keeps one version of a replaceable event published through both at once', async () => {
    const now = Math.floor(Date.now() / 1000)
    const versions = Array.from({ length: 20 }, (_, i) =>
      finalizeEvent({ kind: 10_002, created_at: now - 20 + i, tags: [], content: `${i}` }, sk),
    )
    const ca = await RawClient.connect(a.url)
    const cb = await RawClient.connect(b.url)
    for (const [i, v] of versions.entries()) (i % 2 === 0 ? ca : cb).send(['EVENT', v])
    await Promise.all(versions.map((v, i) => (i % 2 === 0 ? ca : cb).ok(v.id)))
    ca.send(['REQ', 'r', { kinds: [10_002] }])
    const { events } = await ca.collect('r')
    expect(events.map((e) => e.id)).toEqual([versions[19]!.id])
    ca.close()
    cb.close()
  })
})
