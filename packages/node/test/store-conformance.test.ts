// One conformance suite for every event store: the SQLite store and the PostgreSQL store must
// keep the same rules — write outcomes, NIP-01 replaceable and addressable events, ordering
// and limits, NIP-09 deletions, NIP-40 expiration, NIP-45 counts, the private-kind rule.
// The PostgreSQL half runs when a server is reachable (pg-global-setup.ts).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EventStore, PostgresStore, SqliteStore } from '@hansa/node'
import type { Filter, NostrEvent } from '@hansa/protocol'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDir } from './helpers.js'
import { freshDatabase, pgUrl } from './pg-test-db.js'

type Backend = { name: string; open(): Promise<{ store: EventStore; done(): Promise<void> }> }

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hansa-conf-'))
      const store = new SqliteStore({ path: join(dir, 'events.sqlite'), synchronous: 'normal' })
      return {
        store,
        async done() {
          await store.close()
          removeDir(dir)
        },
      }
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await freshDatabase()
      const store = await PostgresStore.open({ url: db.url, live: false })
      return {
        store,
        async done() {
          await store.close()
          await db.drop()
        },
      }
    },
  },
]

const alice = generateSecretKey()
const bob = generateSecretKey()
const ALICE = getPublicKey(alice)
const BOB = getPublicKey(bob)
const NOW = 1_800_000_000

const sign = (
  sk: Uint8Array,
  kind: number,
  created_at: number,
  tags: string[][] = [],
  content = '',
): NostrEvent => finalizeEvent({ kind, created_at, tags, content }, sk) as NostrEvent

const access = { privateKinds: [] as number[], readerPubkeys: [] as string[] }

for (const backend of backends) {
  describe.skipIf(backend.name === 'postgres' && !pgUrl)(`event store: ${backend.name}`, () => {
    let store: EventStore
    let done: () => Promise<void>
    beforeAll(async () => {
      ;({ store, done } = await backend.open())
    })
    afterAll(async () => done?.())

    const write = async (...events: NostrEvent[]) =>
      (
        await store.writeBatch(
          events.map((event) => ({ event, raw: JSON.stringify(event), receivedAt: NOW })),
        )
      ).map((o) => o.status)
    const ids = async (filter: Filter, options: Partial<typeof access> = {}, limit = 500) =>
      (await store.query(filter, { ...access, ...options, limit, now: NOW })).events.map(
        (raw) => (JSON.parse(raw) as NostrEvent).id,
      )
    const count = (filter: Filter, options: Partial<typeof access> = {}) =>
      store.count([filter], { ...access, ...options, now: NOW })

    it('stores once, answers duplicate, and reports its size', async () => {
      const e = sign(alice, 1, NOW - 10, [], 'hello')
      expect(await write(e)).toEqual(['stored'])
      expect(await write(e)).toEqual(['duplicate'])
      const twice = sign(alice, 1, NOW - 10, [['t', 'twice']], 'twice')
      expect(await write(twice, twice)).toEqual(['stored', 'duplicate'])
      expect(await ids({ '#t': ['twice'] })).toEqual([twice.id])
      expect(await ids({ ids: [e.id] })).toEqual([e.id])
      expect(await store.eventCount()).toBeGreaterThanOrEqual(1)
      expect(await store.storedBytes()).toBeGreaterThan(0)
    })

    it('returns newest first, the lowest id first on equal created_at, capped by limit', async () => {
      const events = [0, 1, 2, 3, 4, 5].map((i) => sign(bob, 7001, NOW - 100 - (i % 3), [], `${i}`))
      await write(...events)
      const expected = [...events]
        .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
        .map((e) => e.id)
      expect(await ids({ kinds: [7001] })).toEqual(expected)
      expect(await ids({ kinds: [7001], limit: 4 })).toEqual(expected.slice(0, 4))
      expect(await ids({ kinds: [7001] }, {}, 2)).toEqual(expected.slice(0, 2))
      expect(await ids({ kinds: [7001], since: NOW - 101, until: NOW - 100 })).toEqual(
        expected.slice(0, 4),
      )
      expect(await count({ kinds: [7001] })).toBe(6)
    })

    it('returns an event once when several tag values match it, and still fills the limit', async () => {
      const both = sign(alice, 7002, NOW - 50, [
        ['t', 'x'],
        ['t', 'y'],
        ['t', 'x'],
      ])
      const older = [1, 2, 3].map((i) => sign(alice, 7002, NOW - 60 - i, [['t', 'x']]))
      await write(both, ...older)
      expect(await ids({ '#t': ['x', 'y'], limit: 3 })).toEqual([
        both.id,
        older[0]!.id,
        older[1]!.id,
      ])
      expect(await count({ '#t': ['x', 'y'] })).toBe(4)
      expect(await ids({ '#t': ['y'], kinds: [7002] })).toEqual([both.id])
    })

    it('keeps the newest replaceable event; on equal created_at the lowest id', async () => {
      const v1 = sign(alice, 10002, NOW - 30, [], 'v1')
      const v2 = sign(alice, 10002, NOW - 20, [], 'v2')
      expect(await write(v1, v2)).toEqual(['stored', 'stored'])
      expect(await write(sign(alice, 10002, NOW - 25, [], 'old'))).toEqual(['superseded'])
      expect(await ids({ kinds: [10002], authors: [ALICE] })).toEqual([v2.id])
      const a = sign(alice, 10002, NOW - 20, [], 'tie-a')
      const b = sign(alice, 10002, NOW - 20, [], 'tie-b')
      await write(a, b)
      const lowest = [v2.id, a.id, b.id].sort()[0]
      expect(await ids({ kinds: [10002], authors: [ALICE] })).toEqual([lowest])
    })

    it('keeps the newest addressable event per d tag', async () => {
      const x1 = sign(alice, 30023, NOW - 30, [['d', 'x']])
      const x2 = sign(alice, 30023, NOW - 20, [['d', 'x']])
      const y = sign(alice, 30023, NOW - 40, [['d', 'y']])
      expect(await write(x1, y, x2)).toEqual(['stored', 'stored', 'stored'])
      expect(await ids({ kinds: [30023] })).toEqual([x2.id, y.id])
      expect(await write(sign(alice, 30023, NOW - 35, [['d', 'x']]))).toEqual(['superseded'])
      expect(await ids({ kinds: [30023], '#d': ['x'] })).toEqual([x2.id])
    })

    it('deletes the author’s events named by a kind 5 and keeps them out (NIP-09)', async () => {
      const note = sign(alice, 1, NOW - 9)
      const later = sign(alice, 1, NOW - 8)
      await write(note)
      const deletion = sign(alice, 5, NOW - 5, [
        ['e', note.id],
        ['e', later.id],
      ])
      expect(await write(deletion)).toEqual(['stored'])
      expect(await ids({ ids: [note.id] })).toEqual([])
      expect(await write(note, later)).toEqual(['deleted', 'deleted'])
      // A deletion cannot be deleted.
      await write(sign(alice, 5, NOW - 4, [['e', deletion.id]]))
      expect(await ids({ ids: [deletion.id] })).toEqual([deletion.id])
    })

    it('ignores a kind 5 naming someone else’s event', async () => {
      const note = sign(alice, 1, NOW - 7, [], 'mine')
      await write(note)
      await write(sign(bob, 5, NOW - 6, [['e', note.id]]))
      expect(await ids({ ids: [note.id] })).toEqual([note.id])
    })

    it('deletes addressable versions up to the deletion’s created_at (a tag)', async () => {
      const v = sign(bob, 30001, NOW - 30, [['d', 'list']])
      await write(v)
      await write(sign(bob, 5, NOW - 20, [['a', `30001:${BOB}:list`]]))
      expect(await ids({ kinds: [30001], authors: [BOB] })).toEqual([])
      expect(await write(sign(bob, 30001, NOW - 25, [['d', 'list']]))).toEqual(['deleted'])
      const newer = sign(bob, 30001, NOW - 10, [['d', 'list']])
      expect(await write(newer)).toEqual(['stored'])
      expect(await ids({ kinds: [30001], authors: [BOB] })).toEqual([newer.id])
    })

    it('hides expired events and prunes them (NIP-40)', async () => {
      const gone = sign(bob, 7003, NOW - 5, [['expiration', String(NOW - 1)]])
      const live = sign(bob, 7003, NOW - 5, [['expiration', String(NOW + 100)]])
      await write(gone, live)
      expect(await ids({ kinds: [7003] })).toEqual([live.id])
      expect(await count({ kinds: [7003] })).toBe(1)
      expect(await store.pruneExpired(NOW)).toBeGreaterThanOrEqual(1)
      expect(await store.pruneExpired(NOW)).toBe(0)
    })

    it('serves private kinds only to a reader named in a p tag, and counts them so', async () => {
      const wrap = sign(bob, 1059, NOW - 3, [['p', ALICE]])
      await write(wrap)
      const priv = { privateKinds: [1059] }
      expect(await ids({ kinds: [1059] }, priv)).toEqual([])
      expect(await ids({ '#p': [ALICE] }, priv)).toEqual([])
      expect(await ids({ kinds: [1059] }, { ...priv, readerPubkeys: [BOB] })).toEqual([])
      expect(await ids({ kinds: [1059] }, { ...priv, readerPubkeys: [ALICE] })).toEqual([wrap.id])
      expect(await count({ kinds: [1059] }, priv)).toBe(0)
      expect(await count({ kinds: [1059] }, { ...priv, readerPubkeys: [ALICE] })).toBe(1)
      expect(await ids({ kinds: [1059] })).toEqual([wrap.id]) // not private: everyone
    })

    it('lists (created_at, id) for negentropy under the same rules, its limit ignored, null past max', async () => {
      const events = [0, 1, 2].map((i) => sign(bob, 7006, NOW - 20 - i, [['p', ALICE]]))
      await write(...events)
      const sync = (filter: Filter, options: Partial<typeof access> = {}, max = 100) =>
        store.syncItems(filter, { ...access, ...options, now: NOW, max })
      const expected = events.map((e) => [e.created_at, e.id]).sort()
      expect((await sync({ kinds: [7006], limit: 1 }))?.sort()).toEqual(expected)
      expect(await sync({ kinds: [7006] }, {}, 2)).toBeNull()
      const priv = { privateKinds: [7006] }
      expect(await sync({ kinds: [7006] }, priv)).toEqual([])
      expect((await sync({ kinds: [7006] }, { ...priv, readerPubkeys: [ALICE] }))?.length).toBe(3)
    })

    it('prunes kinds received before a time', async () => {
      const old = sign(bob, 7004, NOW - 2)
      await store.writeBatch([{ event: old, raw: JSON.stringify(old), receivedAt: NOW - 1000 }])
      expect(await store.pruneReceivedBefore([7004], NOW - 500)).toBe(1)
      expect(await ids({ kinds: [7004] })).toEqual([])
    })

    it('stores events with U+0000 in tags without failing the rest of their batch', async () => {
      const nul = sign(bob, 7005, NOW - 1, [['t', 'a\u0000b']])
      const addr = sign(bob, 30005, NOW - 1, [['d', 'x\u0000y']])
      const plain = sign(bob, 7005, NOW - 2, [['t', 'plain']])
      expect(await write(nul, addr, plain)).toEqual(['stored', 'stored', 'stored'])
      expect(await ids({ kinds: [7005] })).toEqual([nul.id, plain.id])
      expect(await ids({ '#t': ['plain', 'a\u0000b'], kinds: [7005] })).toContain(plain.id)
      expect(await write(sign(bob, 30005, NOW - 5, [['d', 'x\u0000y']]))).toEqual(['superseded'])
      await write(sign(bob, 5, NOW, [['a', `30005:${BOB}:x\u0000y`]]))
      expect(await ids({ kinds: [30005] })).toEqual([])
    })

    it('answers nothing for a search filter or a zero limit', async () => {
      expect(await ids({ search: 'hello' })).toEqual([])
      expect(await ids({ kinds: [1], limit: 0 })).toEqual([])
    })
  })
}
