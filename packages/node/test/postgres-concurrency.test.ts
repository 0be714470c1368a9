// Several writers on one PostgreSQL database keep the store's rules: versions of one
// replaceable event written at once by two processes leave only the newest; an event and its
// NIP-09 deletion written at once never leave the event behind. (Each PostgresStore has its
// own pool, as each node process has.)
import type { NostrEvent } from '@hansa/protocol'
import { PostgresStore } from '@hansa/node'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshDatabase, pgUrl } from './pg-test-db.js'

describe.skipIf(!pgUrl)('PostgreSQL: concurrent writers', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: PostgresStore
  let b: PostgresStore
  const sk = generateSecretKey()
  const NOW = 1_800_000_000

  beforeAll(async () => {
    db = await freshDatabase()
    a = await PostgresStore.open({ url: db.url, live: false })
    b = await PostgresStore.open({ url: db.url, live: false })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await db?.drop()
  })

  const input = (event: NostrEvent) => ({ event, raw: JSON.stringify(event), receivedAt: NOW })
  const sign = (kind: number, created_at: number, tags: string[][] = [], content = '') =>
    finalizeEvent({ kind, created_at, tags, content }, sk) as NostrEvent
  const access = { privateKinds: [], readerPubkeys: [], limit: 500, now: NOW }

  it('keeps one version of a replaceable event written by two processes at once', async () => {
    const versions = Array.from({ length: 60 }, (_, i) => sign(10_000, NOW - 100 + i, [], `v${i}`))
    const addressable = Array.from({ length: 60 }, (_, i) =>
      sign(30_000, NOW - 100 + i, [['d', 'same']], `a${i}`),
    )
    // Interleaved halves, each process writing small batches as fast as it can.
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < 60; i += 2) {
      writes.push(a.writeBatch([input(versions[i]!), input(addressable[i + 1]!)]))
      writes.push(b.writeBatch([input(versions[i + 1]!), input(addressable[i]!)]))
    }
    await Promise.all(writes)
    const kept = await a.query({ kinds: [10_000] }, access)
    expect(kept.events.map((r) => (JSON.parse(r) as NostrEvent).id)).toEqual([versions[59]!.id])
    const keptA = await b.query({ kinds: [30_000], '#d': ['same'] }, access)
    expect(keptA.events.map((r) => (JSON.parse(r) as NostrEvent).id)).toEqual([addressable[59]!.id])
  })

  it('never keeps an event whose deletion was written at the same moment', async () => {
    const notes = Array.from({ length: 40 }, (_, i) => sign(1, NOW - 50, [], `n${i}`))
    const deletions = notes.map((n, i) => sign(5, NOW - 40, [['e', n.id]], `d${i}`))
    await Promise.all(
      notes.map((note, i) =>
        Promise.all([a.writeBatch([input(note)]), b.writeBatch([input(deletions[i]!)])]),
      ),
    )
    const left = await a.query({ ids: notes.map((n) => n.id) }, access)
    expect(left.events).toEqual([])
    expect(await b.count([{ kinds: [5] }], access)).toBe(40)
  })
})
