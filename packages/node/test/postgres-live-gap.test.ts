// A process whose LISTEN connection breaks misses no stored event: events another process
// commits while the connection is down (killed with pg_terminate_backend) are replayed to its
// listeners once it is back — each once, in order, large ones too — and its own events are
// not replayed to it.
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/store/postgres-store.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const sk = generateSecretKey()
const event = (content: string) => {
  const e = finalizeEvent(
    { kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content },
    sk,
  )
  const plain = JSON.parse(JSON.stringify(e)) as typeof e
  return { event: plain, raw: JSON.stringify(plain), receivedAt: plain.created_at }
}

/** Polls `done` (bounded) until it holds. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 25))
}

describe.skipIf(!pgUrl)('PostgreSQL: the live feed across a broken LISTEN connection', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let a: PostgresStore
  let b: PostgresStore
  let admin: pg.Client

  beforeAll(async () => {
    db = await freshDatabase()
    a = await PostgresStore.open({ url: db.url })
    // b waits a while before reconnecting, so what a writes falls in the gap.
    b = await PostgresStore.open({ url: db.url, liveReconnectDelayMs: 400 })
    admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
  })
  afterAll(async () => {
    await admin?.end()
    await a?.close()
    await b?.close()
    await db?.drop()
  })

  it('replays to its listeners what was committed while it was down, each once', async () => {
    const heard: string[] = []
    b.onRemoteEvent((e) => heard.push(e.id))
    const before = event('before the break')
    await a.writeBatch([before])
    await until(() => heard.length === 1)
    expect(heard).toEqual([before.event.id])

    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
      [`hansa-live-${b.origin}`],
    )
    expect(killed.rows).toEqual([{ ok: true }])
    await until(() => b.liveStatus()?.connected === false)
    expect(b.liveStatus()?.connected).toBe(false)

    // Written while b's connection is down: small ones, one past NOTIFY's payload limit, and
    // one b writes itself (b's own listeners are not fed its own events).
    const gap = [event('one'), event('two'), event('x'.repeat(20_000)), event('three')]
    await a.writeBatch(gap.slice(0, 2))
    await a.writeBatch(gap.slice(2))
    await b.writeBatch([event('b writes too')])
    expect(b.liveStatus()?.connected).toBe(false)

    await until(() => heard.length >= 5)
    const after = event('after the break')
    await a.writeBatch([after])
    await until(() => heard.length >= 6)
    expect(heard).toEqual([before, ...gap, after].map((e) => e.event.id))
    expect(b.liveStatus()).toMatchObject({ connected: true, reconnects: 1, replayed: 4 })
  })
})
