// A crash in the middle of an ingest load: the node process is killed (SIGKILL, no chance to
// finish anything) while a client streams events at it; after a restart, every event that
// was answered OK true is there. (What a process kill can and cannot show about
// storage.synchronous is in docs/security.md.)
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient, removeDir, startNodeProcess } from './helpers.js'

const dataDir = mkdtempSync(join(tmpdir(), 'hansa-crash-'))
const sk = generateSecretKey()

const start = () => startNodeProcess(dataDir, { HANSA_VERIFY_THREADS: '1' })

const exited = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve))

describe('SIGKILL in the middle of an ingest load', () => {
  afterAll(() => removeDir(dataDir))

  it('loses no event that was answered OK true', async () => {
    const { child, url } = await start()
    const client = await RawClient.connect(url)
    const acked: string[] = []
    client.ws.on('message', (data) => {
      const m = JSON.parse(data.toString())
      if (m[0] === 'OK' && m[2] === true) acked.push(m[1])
    })
    const events = Array.from({ length: 3000 }, (_, i) =>
      finalizeEvent(
        { kind: 1, content: `c${i}`, tags: [], created_at: Math.floor(Date.now() / 1000) },
        sk,
      ),
    )
    let sent = 0
    const pump = setInterval(() => {
      for (let i = 0; i < 50 && sent < events.length; i++) client.send(['EVENT', events[sent++]])
    }, 5)
    // kill once some events are acknowledged and others are still in flight
    for (let i = 0; i < 600 && acked.length < 50; i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGKILL')
    await exited(child)
    clearInterval(pump)
    const ackedAtKill = [...acked]
    expect(ackedAtKill.length).toBeGreaterThan(0)

    const restarted = await start()
    const reader = await RawClient.connect(restarted.url)
    const found = new Set<string>()
    for (let i = 0; i < ackedAtKill.length; i += 500) {
      reader.send(['REQ', `q${i}`, { ids: ackedAtKill.slice(i, i + 500), limit: 500 }])
      for (const e of (await reader.collect(`q${i}`)).events) found.add(e.id as string)
    }
    reader.close()
    expect(ackedAtKill.filter((id) => !found.has(id))).toEqual([])
    restarted.child.kill('SIGTERM')
    await exited(restarted.child)
  }, 120_000)
})
