// The user's commands as a person runs them (separate `hansa` processes) against a `hansa
// devnet`: join, nodes (table and --json), trust, subscribe, inbox send, inbox read and its
// live mode. Every listing command prints with --json the data its table shows.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Devnet, startDevnet } from '@hansa/cli'
import { CLI, hansa } from './helpers.js'

const root = mkdtempSync(join(tmpdir(), 'hansa-client-cli-'))
const alice = ['--config', join(root, 'alice', 'client.json')]
const bob = ['--config', join(root, 'bob', 'client.json')]

const json = async (args: string[]) => {
  const run = await hansa([...args, '--json'])
  if (run.code !== 0) throw new Error(`hansa ${args.join(' ')} failed: ${run.stderr}`)
  return JSON.parse(run.stdout)
}

describe('hansa join, nodes, trust, subscribe, inbox', () => {
  let devnet: Devnet
  let aliceNpub = ''

  beforeAll(async () => {
    devnet = await startDevnet({ dataDir: join(root, 'devnet'), syncIntervalSeconds: 1 })
  }, 90_000)

  afterAll(async () => {
    await devnet?.stop()
    rmSync(root, { recursive: true, force: true })
  }, 30_000)

  it('hansa join verifies the chain and keeps the head', async () => {
    const text = await hansa(['join', devnet.info.inviteCode, ...alice])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('Joined Hansa devnet')
    expect(text.stdout).toContain('hanseatic (2 nodes), lubeck (1 node)')
    const joined = await json(['join', devnet.info.inviteCode, ...bob])
    expect(joined).toMatchObject({ federationId: devnet.info.federationId, version: 1 })
  })

  it('hansa nodes shows every node as a table, and the same rows with --json', async () => {
    const listed = await json(['nodes', ...alice])
    expect(listed.counts).toMatchObject({ trusted: 3, rejected: 0 })
    expect(listed.nodes.map((n: { url: string }) => n.url).sort()).toEqual(
      devnet.info.nodes.map((n) => n.url).sort(),
    )
    expect(listed.nodes[0]).toMatchObject({
      coordinator: 'hanseatic',
      services: expect.arrayContaining(['inbox']),
      pricePerPeriod: { inbox: 'free' },
      devTax: '20 %',
      status: 'trusted',
      reason: null,
    })
    const table = await hansa(['nodes', ...alice])
    expect(table.code).toBe(0)
    for (const head of ['coordinator', 'node', 'price per period', 'dev tax', 'round trip']) {
      expect(table.stdout).toContain(head)
    }
    for (const node of devnet.info.nodes) expect(table.stdout).toContain(node.url)
    expect(table.stdout).toMatch(/3 trusted, 0 yours, 0 disabled by your trust list, 0 rejected/)
  })

  it('hansa trust disables a coordinator; nodes shows its node disabled, and why', async () => {
    const trust = await json(['trust', 'disable', 'lubeck', ...alice])
    expect(trust.coordinators).toEqual([
      expect.objectContaining({ alias: 'hanseatic', enabled: true }),
      expect.objectContaining({ alias: 'lubeck', enabled: false, choice: 'disabled' }),
    ])
    const listed = await json(['nodes', '--no-discv5', ...alice])
    const node3 = devnet.info.nodes.find((n) => n.name === 'node-3')!.url
    expect(listed.nodes.find((n: { url: string }) => n.url === node3)).toMatchObject({
      status: 'disabled',
      reason: 'coordinator lubeck is disabled in your trust list',
    })
    const bad = await hansa(['trust', 'disable', 'hamburg', ...alice])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('no coordinator hamburg in the joined federation')
  })

  it('hansa subscribe chooses among the trusted nodes her list allows', async () => {
    const result = await json(['subscribe', '--count', '2', ...alice])
    const hanseatic = devnet.info.nodes
      .filter((n) => n.coordinator === 'hanseatic')
      .map((n) => n.url)
    expect(result.subscriptions.map((s: { url: string }) => s.url).sort()).toEqual(hanseatic.sort())
    expect(result.inboxRelays.sort()).toEqual(hanseatic.sort())
    aliceNpub = result.npub
  })

  it('hansa inbox send and read: Bob writes, Alice reads, live too', async () => {
    const sent = await json(['inbox', 'send', aliceNpub, 'hello', 'from', 'Bob', ...bob])
    expect(sent.delivered.filter((d: { ok: boolean }) => d.ok)).toHaveLength(2)
    const read = await json(['inbox', 'read', ...alice])
    expect(read.messages).toMatchObject([{ content: 'hello from Bob' }])
    const text = await hansa(['inbox', 'read', ...alice])
    expect(text.stdout).toContain('hello from Bob')
    expect(text.stdout).toContain('1 message(s), from ws://127.0.0.1:')

    // Live: a status line once it is serving, then each message as it arrives.
    const live = spawn(process.execPath, [CLI, 'inbox', 'read', '--live', '--json', ...alice], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const seen: Array<Record<string, unknown>> = []
    let buffer = ''
    live.stdout.on('data', (d) => {
      buffer += d
      const parts = buffer.split('\n')
      buffer = parts.pop()!
      for (const line of parts) if (line) seen.push(JSON.parse(line))
    })
    const until = async (ok: () => boolean) => {
      const end = Date.now() + 15_000
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out; saw ${JSON.stringify(seen)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await until(() => seen.some((s) => (s.status as { kind?: string })?.kind === 'serving'))
    await json(['inbox', 'send', aliceNpub, 'are you there?', ...bob])
    await until(() => seen.some((s) => s.content === 'are you there?'))
    const exited = new Promise<number | null>((r) => live.once('exit', (code) => r(code)))
    live.kill('SIGINT')
    expect(await exited).toBe(0)
  })
})
