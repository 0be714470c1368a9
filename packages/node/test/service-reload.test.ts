// A reload (SIGHUP) treats a service passed to startNode from outside like a built-in one: its
// options that need no restart take effect at once, those that need one are listed — also
// when the node's configuration was resolved without the service (its defaults).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { type HansaNode, defineService, option, resolveConfig, startNode } from '@hansa/node'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { removeDir } from './helpers.js'

/** A service defined here: one option a reload applies, one that needs a restart. */
const tideService = defineService({
  name: 'tide',
  options: option.section({
    enabled: option.boolean(true, 'Run the tide service (a test fixture).'),
    level: option.string('low', { description: 'What GET /tide answers with.', restart: false }),
    harbour: option.string('Lubeck', 'Where the tide is read (needs a restart).'),
  }),
  register() {
    return {}
  },
  async routes(app, { ctx }) {
    app.get(
      '/tide',
      { schema: { response: { 200: Type.Object({ level: Type.String() }) } } },
      async () => ({ level: ctx.options.level }),
    )
  },
})

const flagsFor = (dataDir: string) => ({
  dataDir,
  port: 0,
  logLevel: 'silent',
  'verify.threads': 1,
  'storage.readerThreads': 1,
})

const tide = async (node: HansaNode): Promise<unknown> =>
  ((await (await fetch(`${node.httpUrl}/tide`)).json()) as { level: unknown }).level

describe('reloading the options of a service from outside the node', () => {
  let node: HansaNode | undefined
  let dataDir: string | undefined

  afterEach(async () => {
    await node?.close()
    if (dataDir) removeDir(dataDir)
    node = undefined
  })

  const start = async (withService: boolean) => {
    dataDir = mkdtempSync(join(tmpdir(), 'hansa-test-'))
    const config = resolveConfig(
      { flags: { ...flagsFor(dataDir), ...(withService ? { 'tide.level': 'mid' } : {}) } },
      withService ? [tideService] : [],
    )
    node = await startNode(config, { log: pino({ level: 'silent' }), services: [tideService] })
    return { node, dataDir }
  }

  it('applies its reloadable options at once and lists those that need a restart', async () => {
    const { node, dataDir } = await start(true)
    expect(await tide(node)).toBe('mid')
    const next = resolveConfig(
      { flags: { ...flagsFor(dataDir), 'tide.level': 'high', 'tide.harbour': 'Bergen' } },
      [tideService],
    )
    expect(node.reload(next)).toEqual({ applied: ['tide.level'], needRestart: ['tide.harbour'] })
    expect(await tide(node)).toBe('high')
    // Nothing changed: nothing to apply.
    expect(node.reload(next)).toEqual({ applied: [], needRestart: ['tide.harbour'] })
  })

  it('reaches a service whose options the node took as defaults', async () => {
    const { node, dataDir } = await start(false)
    expect(await tide(node)).toBe('low')
    const next = resolveConfig({ flags: { ...flagsFor(dataDir), 'tide.level': 'spring' } }, [
      tideService,
    ])
    expect(node.reload(next)).toEqual({ applied: ['tide.level'], needRestart: [] })
    expect(await tide(node)).toBe('spring')
  })
})
