// A service is one object: a service defined in this folder brings its options, a route, a
// private kind, a NIP and a hook to a node without any change to the node's files.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HansaError } from '@hansa/protocol'
import {
  ServiceDependencyError,
  configurationMarkdown,
  defineService,
  option,
  resolveConfig,
} from '@hansa/node'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ECHO_KIND, echoService } from './fixtures/echo-service.js'
import { RawClient, removeDir, startTestNode, type TestNode } from './helpers.js'

const alice = generateSecretKey()
const bob = getPublicKey(generateSecretKey())
const echo = (content: string) =>
  finalizeEvent(
    { kind: ECHO_KIND, content, tags: [['p', bob]], created_at: Math.floor(Date.now() / 1000) },
    alice,
  )

describe('a service registered from outside the node', () => {
  let node: TestNode

  beforeAll(async () => {
    node = await startTestNode(
      { 'echo.greeting': 'moin', 'echo.mood': 'loud' },
      undefined,
      undefined,
      {
        services: [echoService],
      },
    )
  })
  afterAll(async () => {
    await node.stop()
    removeDir(node.dataDir)
  })

  it('reads its own options from the configuration, and refuses bad ones by name', () => {
    expect(node.services.map((s) => s.name)).toEqual(['inbox', 'echo'])
    expect(() => resolveConfig({ flags: { 'echo.mood': 'sad' } }, [echoService])).toThrow(
      'echo.mood (from command line) must be one of calm, loud; got "sad"',
    )
    expect(() => resolveConfig({ file: { echo: { greeting: 'x' } } })).toThrow(
      'unknown option in the config file: echo',
    )
    expect(configurationMarkdown([echoService])).toContain(
      '| `echo.greeting` | `HANSA_ECHO_GREETING` | string | `"hello"` | yes | What GET /echo answers with. |',
    )
  })

  it('serves its route, and its hook decides on its events', async () => {
    const client = await RawClient.connect(node.url)
    const kept = echo('hello there')
    client.send(['EVENT', kept])
    expect(await client.ok(kept.id)).toEqual(['OK', kept.id, true, ''])
    const silent = echo('silence')
    client.send(['EVENT', silent])
    expect(await client.ok(silent.id)).toEqual([
      'OK',
      silent.id,
      false,
      'blocked: the echo does not repeat silence',
    ])
    const res = await fetch(`${node.httpUrl}/echo`)
    expect(await res.json()).toEqual({ greeting: 'moin', mood: 'loud', seen: 2 })

    // Its kind is private: a reader who is not a named recipient gets nothing of it, while the
    // same REQ for a public kind still returns what is stored.
    client.send(['REQ', 'mine', { kinds: [ECHO_KIND] }])
    expect((await client.collect('mine')).events).toEqual([])
    client.close()
  })

  it('adds its NIPs to NIP-11', async () => {
    const res = await fetch(node.httpUrl, { headers: { accept: 'application/nostr+json' } })
    const info = (await res.json()) as { supported_nips: number[] }
    expect(info.supported_nips).toContain(94)
    expect(info.supported_nips).toEqual([...info.supported_nips].sort((a, b) => a - b))
  })
})

describe('a service whose dependency is off', () => {
  it('stops the node at boot with a coded error that names the fix', async () => {
    const needy = defineService({
      name: 'needy',
      options: option.section({ enabled: option.boolean(true, 'Run the needy test service.') }),
      dependencies: ['echo'],
      register() {},
    })
    const dataDir = mkdtempSync(join(tmpdir(), 'hansa-test-'))
    const start = startTestNode({}, dataDir, undefined, { services: [needy] })
    await expect(start).rejects.toBeInstanceOf(ServiceDependencyError)
    removeDir(dataDir)
    const error: unknown = await start.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HansaError)
    expect((error as HansaError).code).toBe('HANSA_SERVICE_DEPENDENCY')
    expect((error as HansaError).message).toContain('echo.enabled = true')
  })
})
