// The README's benchmark commands, at their smallest, in processes of their own: each must
// finish by itself with code 0 and print its one JSON line. Two of them had stopped working
// unnoticed (a pool that let its process exit while it waited; a genesis that a node refused),
// since nothing else runs them. What they measure is not judged here, only that they measure.
// And a benchmark's `--help` (bench-args.ts): its usage from its header, not a stack trace.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const script = (name: string) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url))

async function benchJson(name: string, args: string[], timeoutMs: number) {
  const { stdout } = await run(process.execPath, [script(name), ...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  })
  const lines = stdout.trim().split('\n')
  expect(lines).toHaveLength(1)
  return JSON.parse(lines[0]!)
}

describe('benchmark commands', () => {
  it('bench:verify measures each backend alone and through the pool with workers', async () => {
    const result = await benchJson('verifiers', ['--seconds', '0.1', '--events', '100'], 60_000)
    expect(result.single.noble.verifiesPerSec).toBeGreaterThan(0)
    expect(result.single.wasm.verifiesPerSec).toBeGreaterThan(0)
    const withWorkers = result.pool.filter((p: { threads: number }) => p.threads > 0)
    expect(withWorkers.length).toBeGreaterThanOrEqual(2)
    for (const p of withWorkers) expect(p.checksPerSec).toBeGreaterThan(0)
  }, 90_000)

  it('bench:discovery founds its federation, lists the nodes and fails over', async () => {
    const result = await benchJson(
      'client-discovery',
      ['--nodes', '4', '--runs', '1', '--kills', '1', '--inbox', '3'],
      150_000,
    )
    expect(result.inviteToVerifiedList.withDiscv5.totalMs.count).toBe(1)
    expect(result.failover.killedServingNodeMs.count).toBe(1)
    expect(result.failover.frozenServingNodeMs).toBeGreaterThan(0)
  }, 180_000)

  it('a benchmark answers --help with its usage and options, and a wrong option in one line', async () => {
    const help = await run(process.execPath, [script('writer-cache'), '--help'])
    expect(help.stdout).toMatch(/^writer-cache: the SQLite writer's CPU per event/)
    expect(help.stdout).toContain('--batches VALUE')
    expect(help.stdout).toContain('default 12,100')
    const wrong = await run(process.execPath, [script('writer-cache'), '--bogus']).catch((e) => e)
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toBe("writer-cache: Unknown option '--bogus' (--help lists the options)\n")
  })
})
