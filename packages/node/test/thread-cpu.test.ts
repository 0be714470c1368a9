// hansa_thread_cpu_seconds_total: each WorkerPool's threads are counted under the pool's name,
// the main thread as the event loop, and a thread's time stays counted after it ends.
import { WorkerPool, parseStatSeconds, threadCpuSeconds } from '@hansa/node'
import { describe, expect, it } from 'vitest'

const linux = process.platform === 'linux'

const burners = (size: number) =>
  new WorkerPool({
    script: new URL('./fixtures/burn-worker.mjs', import.meta.url),
    workerData: null,
    size,
    name: 'hansa-cpu-test',
    crashed: (details) => new Error(`crashed: ${details}`),
    dead: () => new Error('dead'),
    failed: (message) => new Error(`failed: ${message}`),
    closed: () => new Error('closed'),
  })

describe('thread CPU', () => {
  it('reads user + system seconds from a stat line, even with spaces in the name', () => {
    const stat = '4242 (node (x) y) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 9 0 1 2 3'
    expect(parseStatSeconds(stat)).toBe(3.25)
  })

  it.runIf(linux)('counts a pool by its name, and keeps its time once it has closed', async () => {
    const before = threadCpuSeconds()?.get('cpu-test') ?? 0
    const pool = burners(2)
    await pool.ready
    // 300 ms of spinning on each of the two threads.
    await Promise.all([pool.sendTo(0, { ms: 300 }), pool.sendTo(1, { ms: 300 })])
    const busy = threadCpuSeconds()?.get('cpu-test') ?? 0
    expect(busy - before).toBeGreaterThanOrEqual(0.5)
    expect(busy - before).toBeLessThan(5)
    expect(threadCpuSeconds()?.get('event-loop')).toBeGreaterThan(0)
    await pool.close()
    const after = threadCpuSeconds()?.get('cpu-test') ?? 0
    expect(after).toBeGreaterThanOrEqual(busy)
  })
})
