// The paid-access commands as a user runs them: a node started with --inbox-access
// subscription, `hansa terms`, `hansa account subscribe`, `hansa account`, `hansa billing`.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, hansa } from './helpers.js'

describe('hansa terms, account and billing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hansa-cli-billing-'))
  const dataDir = join(dir, 'node')
  const node = spawn(
    process.execPath,
    [CLI, 'node', 'start', '--data-dir', dataDir, '--port', '0', '--inbox-access', 'subscription'],
    {
      env: { ...process.env, HANSA_LOG_LEVEL: 'warn', HANSA_VERIFY_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let url = ''

  beforeAll(async () => {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the node did not start')), 20_000)
      createInterface({ input: node.stdout! }).on('line', (line) => {
        const m = /running at (ws:\/\/\S+)/.exec(line)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      })
    })
    expect((await hansa(['keygen', '--out', join(dir, 'alice.key')])).code).toBe(0)
  })

  afterAll(async () => {
    const exited = new Promise((r) => node.once('exit', r))
    node.kill('SIGTERM')
    await exited
    rmSync(dir, { recursive: true, force: true })
  })

  it('shows the terms the flag set, verified', async () => {
    const text = await hansa(['terms', '--node', url])
    expect(text.stdout).toMatch(/signature verified/)
    expect(text.stdout).toMatch(
      /inbox: subscription, 30000 msat per period of 30 days; 1 to 12 periods at a time/,
    )
    expect(text.stdout).toMatch(/Dev tax: 20 % of what you pay goes to the dev fund/)
    const json = JSON.parse((await hansa(['terms', '--node', url, '--json'])).stdout)
    expect(json.terms.services.inbox.access).toBe('subscription')
  })

  it('subscribes for 2 periods, shows the account and the books', async () => {
    const key = join(dir, 'alice.key')
    const paid = await hansa([
      'account',
      'subscribe',
      '--node',
      url,
      '--key',
      key,
      '--periods',
      '2',
      '--json',
    ])
    expect(paid.code).toBe(0)
    expect(JSON.parse(paid.stdout).payment).toMatchObject({ amount: '60000', devTax: '12000' })
    const account = JSON.parse(
      (await hansa(['account', '--node', url, '--key', key, '--json'])).stdout,
    )
    expect(account.subscriptions[0]).toMatchObject({ service: 'inbox', active: true })
    const books = await hansa(['billing', '--node', url, '--data-dir', dataDir])
    expect(books.stdout).toMatch(/received: {2}60000 msat in 1 payment\(s\)/)
    expect(books.stdout).toMatch(/dev tax: {3}12000 msat booked, 0 paid, 12000 due/)
    const refused = await hansa(['billing', '--node', url, '--key', key])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/the books are for the coordinator/)
  })

  it('covers another key only with its consent (hansa account consent, add-key --consent)', async () => {
    const key = join(dir, 'alice.key')
    const phoneKey = join(dir, 'phone.key')
    const phone = JSON.parse((await hansa(['keygen', '--out', phoneKey, '--json'])).stdout)
      .pubkey as string
    const account = await hansa(['account', '--node', url, '--key', key, '--json'])
    const alice = JSON.parse(account.stdout).subscriptions[0].owner as string

    const without = await hansa(['account', 'add-key', phone, '--node', url, '--key', key])
    expect(without.code).toBe(1)
    expect(without.stderr).toMatch(
      /must consent to be covered: its holder runs hansa account consent/,
    )

    const signed = await hansa([
      'account',
      'consent',
      '--owner',
      alice,
      '--node',
      url,
      '--key',
      phoneKey,
    ])
    expect(signed.code).toBe(0)
    const consentFile = join(dir, 'consent.json')
    writeFileSync(consentFile, signed.stdout)
    const added = await hansa([
      'account',
      'add-key',
      phone,
      '--node',
      url,
      '--key',
      key,
      '--consent',
      consentFile,
      '--json',
    ])
    expect(added.code).toBe(0)
    expect(JSON.parse(added.stdout).pubkeys.sort()).toEqual([alice, phone].sort())
  })
})
