// The one rule for a worker that dies, shared by the verify stage and the store's threads:
// its requests fail with `crashed` and it is replaced; a worker that cannot even get ready is
// given up on after three tries in a row, and then every request is refused with `dead`.
// With `unrefIdle`, a starting pool keeps its process alive and an idle one does not.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkerPool } from '@hansa/node'
import { describe, expect, it } from 'vitest'

const script = new URL('./fixtures/pool-worker.mjs', import.meta.url)
const pool = (mode: string, size = 1) =>
  new WorkerPool({
    script,
    workerData: { mode },
    size,
    name: 'pool-test',
    crashed: (details) => new Error(`crashed: ${details}`),
    dead: () => new Error('dead'),
    failed: (message) => new Error(`failed: ${message}`),
    closed: () => new Error('closed'),
  })

describe('WorkerPool', () => {
  it('answers, reports a handler error, and refuses after close', async () => {
    const p = pool('echo', 2)
    expect(await p.ready).toEqual(['ready-info', 'ready-info'])
    expect(await p.request({ value: 41 })).toBe(41)
    await expect(p.request({ value: 'throw' })).rejects.toThrow('failed: asked to throw')
    await p.close()
    await expect(p.request({ value: 1 })).rejects.toThrow('closed')
  })

  it('fails the requests a dying worker held, and replaces it', async () => {
    const p = pool('echo')
    await p.ready
    await expect(p.request({ value: 'crash' })).rejects.toThrow(
      'crashed: worker exited with code 7',
    )
    expect(p.size).toBe(1)
    expect(await p.request({ value: 'after' })).toBe('after')
    await p.close()
  })

  it('gives up on a worker that dies before it is ready three times in a row', async () => {
    const p = pool('never-ready')
    await expect(p.ready).rejects.toThrow()
    await expect.poll(() => p.size, { timeout: 15_000 }).toBe(0)
    await expect(p.request({ value: 1 })).rejects.toThrow('dead')
    await p.close()
  })

  // In a process of its own: vitest keeps its own event loop alive, which would hide both.
  it.each([
    ['waits for its workers to get ready, answers, and closes', 'await p.close()'],
    ['lets the process end once its workers are idle, never closed', ''],
  ])('with unrefIdle, a script that %s exits by itself with code 0', (_, end) => {
    const source = `
      import { WorkerPool } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)}
      const p = new WorkerPool({
        script: new URL(${JSON.stringify(script.href)}), workerData: { mode: 'echo' }, size: 2,
        name: 'pool-test', unrefIdle: true, crashed: (d) => new Error(d),
        dead: () => new Error('dead'), failed: (m) => new Error(m), closed: () => new Error('closed'),
      })
      const info = await p.ready
      const answer = await p.request({ value: 'pong' })
      process.stdout.write(JSON.stringify({ info, answer }))
      ${end}`
    // A file, not --input-type: worker threads inherit the flags and could not load theirs.
    const dir = mkdtempSync(join(tmpdir(), 'hansa-pool-'))
    const file = join(dir, 'script.mjs')
    writeFileSync(file, source)
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 })
    rmSync(dir, { recursive: true, force: true })
    expect(child.stderr).toBe('')
    expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null })
    expect(JSON.parse(child.stdout)).toEqual({ info: ['ready-info', 'ready-info'], answer: 'pong' })
  })
})
