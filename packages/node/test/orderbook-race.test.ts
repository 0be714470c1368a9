// "Two takers, exactly one wins" under real concurrency: four threads, each with its own SQLite
// connection to the same orderbook.sqlite, released together by a barrier, all try to take the
// same 200 orders. Every order ends with exactly one taker, recorded as the order's taker; every
// other attempt is refused with HANSA_ORDER_NOT_PENDING (or waited for the lock and then saw it).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { OrderDb } from '@hansa/node'
import { afterAll, describe, expect, it } from 'vitest'
import { sellOrder } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'hansa-race-'))
const now = 1_800_000_000
const hex = (c: string) => c.repeat(64)

describe('taking an order across connections', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('gives each order exactly one taker', async () => {
    const path = join(dir, 'orderbook.sqlite')
    const db = new OrderDb(path, 'normal')
    const ids: string[] = []
    for (let i = 0; i < 200; i++) {
      const order = sellOrder(`order-${i}`, hex('a'), now)
      db.insert(order, now)
      ids.push(order.id)
    }
    const barrier = new SharedArrayBuffer(8)
    const flag = new Int32Array(barrier)
    const takers = ['b', 'c', 'd', 'e'].map(hex)
    const results = takers.map(
      (taker, i) =>
        new Promise<{ taker: string; won: string[]; refused: Record<string, number> }>(
          (resolve, reject) => {
            const worker = new Worker(new URL('./fixtures/take-worker.mjs', import.meta.url), {
              // Each starts at another place in the list, so the threads meet on every order.
              workerData: {
                path,
                ids: [...ids.slice(i * 50), ...ids.slice(0, i * 50)],
                taker,
                barrier,
                now: now + 1,
              },
            })
            worker.once('message', resolve)
            worker.once('error', reject)
          },
        ),
    )
    while (Atomics.load(flag, 1) < takers.length) await new Promise((r) => setTimeout(r, 5))
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
    const outcome = await Promise.all(results)

    const winners = new Map<string, string>()
    for (const r of outcome) {
      for (const id of r.won) {
        expect(winners.has(id), `${id} taken twice`).toBe(false)
        winners.set(id, r.taker)
      }
      expect(Object.keys(r.refused).every((code) => code === 'HANSA_ORDER_NOT_PENDING')).toBe(true)
    }
    expect(winners.size).toBe(ids.length)
    expect(outcome.reduce((n, r) => n + r.won.length, 0)).toBe(ids.length)
    for (const id of ids) {
      const record = db.get(id)!
      expect([record.status, record.taker]).toEqual(['in-progress', winners.get(id)])
    }
    // Every thread tried every order: 200 wins and 600 refusals in all.
    for (const r of outcome) {
      expect(r.won.length + (r.refused.HANSA_ORDER_NOT_PENDING ?? 0)).toBe(ids.length)
    }
    db.close()
  })
})
