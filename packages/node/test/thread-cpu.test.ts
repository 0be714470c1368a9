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
  it('reads user and system seconds from a stat line, even with spaces in the name', () => {
    const stat = '4242 (node (x) y) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 9 0 1 2 3'
    expect(parseStatSeconds(stat)).toEqual({ user: 2.5, system: 0.75 })
  })

  it.runIf(linux)('counts a pool by its name, and keeps its time once it has closed', async () => {
    const seconds = (name: string) => {
      const cpu = threadCpuSeconds()?.get(name)
      return cpu ? cpu.user + cpu.system : 0
    }
    const before = seconds('cpu-test')
    const pool = burners(2)
    await pool.ready
    // 300 ms of spinning on each of the two threads.
    await Promise.all([pool.sendTo(0, { ms: 300 }), pool.sendTo(1, { ms: 300 })])
    const busy = seconds('cpu-test')
    expect(busy - before).toBeGreaterThanOrEqual(0.5)
    expect(busy - before).toBeLessThan(5)
    expect(seconds('event-loop')).toBeGreaterThan(0)
    await pool.close()
    const after = seconds('cpu-test')
    expect(after).toBeGreaterThanOrEqual(busy)
  })
})
