// Two nodes on one PostgreSQL database: an event accepted by one reaches a subscriber of the
// other (LISTEN/NOTIFY), small or past NOTIFY's payload limit, stored or ephemeral; what one
// stores, the other serves; /health reports the database.
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RawClient, type TestNode, removeDir, startTestNode } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

describe.skipIf(!pgUrl)('PostgreSQL: live fan-out between node processes', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: TestNode
  let b: TestNode
  const sk = generateSecretKey()

  beforeAll(async () => {
    db = await freshDatabase()
    const flags = { 'storage.backend': 'postgres', 'storage.url': db.url }
    a = await startTestNode(flags)
    b = await startTestNode(flags)
  })
  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    for (const n of [a, b]) if (n) removeDir(n.dataDir)
    await db?.drop()
  })

  const publish = async (node: TestNode, kind: number, content: string) => {
    const event = finalizeEvent(
      { kind, created_at: Math.floor(Date.now() / 1000), tags: [], content },
      sk,
    )
    const client = await RawClient.connect(node.url)
    client.send(['EVENT', event])
    const ok = await client.ok(event.id)
    client.close()
    expect(ok[2]).toBe(true)
    return JSON.parse(JSON.stringify(event)) as typeof event // without nostr-tools' symbol
  }

  it('delivers events accepted by one node to subscribers of the other', async () => {
    const sub = await RawClient.connect(b.url)
    sub.send(['REQ', 'live', { kinds: [1, 20001] }])
    await sub.next((m) => m[0] === 'EOSE')
    const small = await publish(a, 1, 'hello from a')
    const large = await publish(a, 1, 'x'.repeat(20_000)) // past the NOTIFY payload limit
    const ephemeral = await publish(a, 20001, 'typing')
    const bigEphemeral = await publish(a, 20001, 'y'.repeat(20_000))
    for (const e of [small, large, ephemeral, bigEphemeral]) {
      const m = await sub.next((x) => x[0] === 'EVENT' && (x[2] as { id: string }).id === e.id)
      expect(m[2]).toEqual(e)
    }
    // A process does not hear its own events twice.
    const own = await RawClient.connect(a.url)
    own.send(['REQ', 'own', { kinds: [1] }])
    await own.collect('own')
    const third = await publish(a, 1, 'once')
    await own.next((x) => x[0] === 'EVENT' && (x[2] as { id: string }).id === third.id)
    await sub.next((x) => x[0] === 'EVENT' && (x[2] as { id: string }).id === third.id)
    expect(own.messages.filter((x) => x[0] === 'EVENT')).toEqual([])
    own.close()
    sub.close()
  })

  it('serves from one node what the other stored', async () => {
    const e = await publish(b, 1, 'stored on b')
    const reader = await RawClient.connect(a.url)
    reader.send(['REQ', 'q', { ids: [e.id] }])
    const { events } = await reader.collect('q')
    expect(events).toEqual([e])
    reader.close()
  })

  it('reports the database in /health and the pool in /metrics', async () => {
    const health = (await (await fetch(`${a.httpUrl}/health`)).json()) as {
      status: string
      storage: { backend: string; ok: boolean; pool: { total: number } }
    }
    expect(health.status).toBe('ok')
    expect(health.storage.backend).toBe('postgres')
    expect(health.storage.ok).toBe(true)
    const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(/hansa_pg_pool_connections\{state="total",pool="main"\} [1-9]/)
    expect(metrics).toMatch(/hansa_pg_pool_connections\{state="idle",pool="fixed-plan"\} \d/)
    expect(metrics).toMatch(/hansa_pg_query_duration_seconds_count\{op="write"\} [1-9]/)
  })
})
