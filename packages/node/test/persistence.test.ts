// Acknowledged means durable: every event answered OK true is still there after the node
// process is stopped — gracefully (SIGTERM, mid-stream) or killed outright (SIGKILL).
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startNodeProcess } from './helpers.js'

const dataDir = mkdtempSync(join(tmpdir(), 'hansa-persist-'))
const sk = generateSecretKey()

const startProcess = () => startNodeProcess(dataDir)

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

async function storedIds(url: string, ids: string[]): Promise<Set<string>> {
  const client = await RawClient.connect(url)
  const found = new Set<string>()
  for (let i = 0; i < ids.length; i += 500) {
    client.send(['REQ', `q${i}`, { ids: ids.slice(i, i + 500), limit: 500 }])
    for (const e of (await client.collect(`q${i}`)).events) found.add(e.id as string)
  }
  client.close()
  return found
}

describe('persistence across restarts', () => {
  afterAll(() => removeDir(dataDir))

  it('creates the node key with mode 0600', async () => {
    const { child } = await startProcess()
    expect(statSync(join(dataDir, 'node.key')).mode & 0o777).toBe(0o600)
    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
  })

  it('keeps every acknowledged event when stopped by SIGTERM in the middle of a stream', async () => {
    const { child, url } = await startProcess()
    const client = await RawClient.connect(url)
    const acked: string[] = []
    client.ws.on('message', (data) => {
      const m = JSON.parse(data.toString())
      if (m[0] === 'OK' && m[2] === true) acked.push(m[1])
    })
    const events = Array.from({ length: 3000 }, (_, i) =>
      finalizeEvent(
        { kind: 1, content: `n${i}`, tags: [], created_at: Math.floor(Date.now() / 1000) },
        sk,
      ),
    )
    let sent = 0
    const pump = setInterval(() => {
      for (let i = 0; i < 100 && sent < events.length; i++) client.send(['EVENT', events[sent++]])
    }, 5)
    await new Promise((r) => setTimeout(r, 150))
    child.kill('SIGTERM')
    expect(await exited(child)).toBe(0)
    clearInterval(pump)
    expect(acked.length).toBeGreaterThan(0)
    const restarted = await startProcess()
    const found = await storedIds(restarted.url, acked)
    expect(acked.filter((id) => !found.has(id))).toEqual([])
    restarted.child.kill('SIGTERM')
    await exited(restarted.child)
  }, 90_000) // signing 3,000 events in JavaScript takes most of it on a loaded machine

  it('keeps every acknowledged event when the process is killed (SIGKILL)', async () => {
    const { child, url } = await startProcess()
    const client = await RawClient.connect(url)
    const events = Array.from({ length: 500 }, (_, i) =>
      finalizeEvent(
        { kind: 1, content: `k${i}`, tags: [], created_at: Math.floor(Date.now() / 1000) },
        sk,
      ),
    )
    for (const e of events) client.send(['EVENT', e])
    const answers = await Promise.all(events.map((e) => client.ok(e.id)))
    expect(answers.every((a) => a[2] === true)).toBe(true)
    child.kill('SIGKILL')
    await exited(child)
    const restarted = await startProcess()
    const found = await storedIds(
      restarted.url,
      events.map((e) => e.id),
    )
    expect(found.size).toBe(events.length)
    restarted.child.kill('SIGTERM')
    expect(await exited(restarted.child)).toBe(0)
  })
})
