// The plans PostgreSQL keeps for `fixedPlan` reads (postgres-query.ts): made once without the
// values' statistics, they must still be the walk down the one value's index, newest first —
// never a sort or a bitmap scan of everything the value matches — for a prolific author and a
// rare one, a common kind and a rare one, a popular tag value; and the store must answer the
// same through them as through plans made for the values.
import { createHash } from 'node:crypto'
import type { Filter, NostrEvent } from '@hansa/protocol'
import { matchFilter } from '@hansa/protocol'
import { PostgresStore } from '@hansa/node'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FIXED_PLAN_SESSION, type ReadBound, filterQuery } from '../src/store/postgres-query.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

const hex = (label: string) => createHash('sha256').update(label).digest('hex')
const PROLIFIC = hex('prolific author')
const POPULAR = hex('popular tag value')
const NOW = 1_800_000_000

/** 4,000 events: half by one author, kind 1 but for 20 of kind 7, a fifth tagging one value. */
function corpus(): NostrEvent[] {
  const events: NostrEvent[] = []
  for (let i = 0; i < 4000; i++) {
    events.push({
      id: hex(`event ${i}`),
      pubkey: i % 2 === 0 ? PROLIFIC : hex(`author ${i % 400}`),
      created_at: NOW - 4000 + Math.floor(i / 3),
      kind: i % 200 === 1 ? 7 : 1,
      tags: i % 5 === 0 ? [['e', POPULAR]] : [['e', hex(`thread ${i}`)]],
      content: `note ${i}`,
      sig: '0'.repeat(128),
    })
  }
  return events
}

/** A parameter as an SQL literal, for EXECUTE: bytea, an array of numbers, a number or text. */
function literal(v: unknown): string {
  if (Buffer.isBuffer(v)) return `'\\x${v.toString('hex')}'`
  if (Array.isArray(v)) return `'{${v.join(',')}}'`
  return typeof v === 'number' ? String(v) : `'${String(v).replaceAll("'", "''")}'`
}

type PlanNode = { 'Node Type': string; 'Index Name'?: string; Plans?: PlanNode[] }

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

describe.skipIf(!pgUrl)('PostgreSQL: plans kept for one-value reads', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let store: PostgresStore
  let session: pg.Client
  const events = corpus()
  const access = { privateKinds: [1059], readerPubkeys: [] as string[] }
  const cases: Array<{ filter: Filter; index: string }> = [
    { filter: { authors: [PROLIFIC] }, index: 'events_pubkey_created' },
    { filter: { authors: [hex('author 1')] }, index: 'events_pubkey_created' },
    { filter: { kinds: [1], since: NOW - 3000 }, index: 'events_kind_created' },
    { filter: { kinds: [7] }, index: 'events_kind_created' },
    { filter: { '#e': [POPULAR] }, index: 'tags_name_value' },
  ]

  /**
   * The plan a session set as FIXED_PLAN_SESSION keeps for a filter's statement: by default
   * with the byte bound the relay gives every REQ (limits.maxResultBytes) kept by the server
   * (no largest event given, so the window is always there), or without one.
   */
  async function keptPlan(
    filter: Filter,
    statement: string,
    bound: ReadBound = { maxBytes: 16 * 1024 * 1024 },
  ): Promise<PlanNode[]> {
    const q = filterQuery(filter, access, NOW, 100, bound)
    expect(q.fixedPlan).toBe(true)
    await session.query(`PREPARE ${statement} AS ${q.text}`)
    const args = q.values.map(literal)
    const { rows } = await session.query(
      `EXPLAIN (FORMAT JSON) EXECUTE ${statement}(${args.join(', ')})`,
    )
    await session.query(`DEALLOCATE ${statement}`)
    return nodes((rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan)
  }

  function expectIndexWalk(plan: PlanNode[], index: string): void {
    const types = plan.map((n) => n['Node Type'])
    expect(types).not.toContain('Sort')
    expect(types).not.toContain('Bitmap Heap Scan')
    expect(types).not.toContain('Seq Scan')
    expect(plan.find((n) => n['Index Name'] !== undefined)?.['Index Name']).toBe(index)
  }

  beforeAll(async () => {
    db = await freshDatabase()
    store = await PostgresStore.open({ url: db.url, live: false })
    session = new pg.Client({ connectionString: db.url })
    await session.connect()
    await session.query(FIXED_PLAN_SESSION)
  })
  afterAll(async () => {
    await session?.end()
    await store?.close()
    await db?.drop()
  })

  it("sets each of the store's kept-plan connections before its first read", async () => {
    const settings: pg.QueryArrayConfig = {
      text: "SELECT pg_backend_pid(), current_setting('plan_cache_mode'), current_setting('enable_sort'), current_setting('enable_bitmapscan')",
      rowMode: 'array',
    }
    // A read in each of two turns: the second finds the first connection busy and opens another.
    const first = store.fixedPlanReads.query(settings)
    await new Promise((resolve) => setImmediate(resolve))
    const rows = (await Promise.all([first, store.fixedPlanReads.query(settings)])).map(
      (r) => r.rows[0]!,
    )
    expect(new Set(rows.map(([pid]) => pid)).size).toBe(2)
    for (const [, ...values] of rows) expect(values).toEqual(['force_generic_plan', 'off', 'off'])
    const { rows: read } = await store.readPool.query(
      "SELECT current_setting('plan_cache_mode') AS mode",
    )
    expect(read[0]).toEqual({ mode: 'auto' })
  })

  it('keeps the index walk even when planned on an empty table', async () => {
    for (const [i, c] of cases.entries()) {
      expectIndexWalk(await keptPlan(c.filter, `empty${i}`), c.index)
      expectIndexWalk(await keptPlan(c.filter, `unbounded${i}`, {}), c.index)
    }
  })

  it('keeps the index walk on skewed data, and answers as plans made for the values do', async () => {
    for (let i = 0; i < events.length; i += 500) {
      await store.writeBatch(
        events
          .slice(i, i + 500)
          .map((event) => ({ event, raw: JSON.stringify(event), receivedAt: NOW })),
      )
    }
    await store.pool.query('ANALYZE events, tags')
    for (const [i, c] of cases.entries()) {
      expectIndexWalk(await keptPlan(c.filter, `skewed${i}`), c.index)
      const options = { ...access, now: NOW, limit: 100 }
      const got = (await store.query(c.filter, options)).events.map(
        (raw) => (JSON.parse(raw) as NostrEvent).id,
      )
      const want = events
        .filter((e) => matchFilter(c.filter, e))
        .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
        .slice(0, 100)
        .map((e) => e.id)
      expect(got).toEqual(want)
    }
    // One-value reads go through the sessions that keep plans; a two-author read does not.
    const used: string[] = []
    for (const [name, pool] of [
      ['fixed', store.fixedPlanReads],
      ['read', store.readPool],
    ] as const) {
      const query = pool.query.bind(pool) as (...args: unknown[]) => unknown
      ;(pool as { query: unknown }).query = (...args: unknown[]) => {
        used.push(name)
        return query(...args)
      }
    }
    await store.query({ authors: [PROLIFIC] }, { ...access, now: NOW, limit: 5 })
    await store.query({ authors: [PROLIFIC, hex('author 1')] }, { ...access, now: NOW, limit: 5 })
    await store.query({ ids: [events[0]!.id] }, { ...access, now: NOW, limit: 5 })
    expect(used).toEqual(['fixed', 'read', 'read'])
  })
})
