// The option table: defaults, then file, then environment, then flags; every bad value is
// refused with the option's name and what it must be; the reference in docs is generated.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, OPTIONS, configurationMarkdown, envName, resolveConfig } from '@hansa/node'

describe('resolveConfig', () => {
  it('uses defaults, then file, then environment, then flags', () => {
    expect(resolveConfig().port).toBe(7447)
    expect(resolveConfig({ file: { port: 1 } }).port).toBe(1)
    expect(resolveConfig({ file: { port: 1 }, env: { HANSA_PORT: '2' } }).port).toBe(2)
    expect(
      resolveConfig({ file: { port: 1 }, env: { HANSA_PORT: '2' }, flags: { port: '3' } }).port,
    ).toBe(3)
    expect(
      resolveConfig({
        file: { limits: { maxLimit: 50 } },
        env: { HANSA_POLICY_DENIED_KINDS: '4, 5' },
      }),
    ).toMatchObject({ limits: { maxLimit: 50 }, policy: { deniedKinds: [4, 5] } })
  })

  it('names the option and the source of a bad value', () => {
    expect(() => resolveConfig({ env: { HANSA_PORT: 'eighty' } })).toThrow(
      'port (from environment HANSA_PORT) must be a number; got "eighty"',
    )
    expect(() => resolveConfig({ file: { logLevel: 'loud' }, filePath: 'x.json' })).toThrow(
      'logLevel (from x.json) must be one of fatal, error, warn, info, debug, trace, silent; got "loud"',
    )
    expect(() => resolveConfig({ flags: { 'limits.maxFilters': 0 } })).toThrow(
      'limits.maxFilters (from command line) must be at least 1; got 0',
    )
    expect(() =>
      resolveConfig({ file: { limits: { maxFilterz: 1 } }, filePath: 'c.json' }),
    ).toThrow('unknown option in c.json: limits.maxFilterz')
    const refused = (() => {
      try {
        resolveConfig({ env: { HANSA_INBOX_ENABLED: 'maybe' } })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as ConfigError).code).toBe('HANSA_CONFIG_INVALID')
    expect((refused as ConfigError).shortMessage).toBe(
      'inbox.enabled (from environment HANSA_INBOX_ENABLED) must be true or false; got "maybe"',
    )
  })

  it('maps each option to one HANSA_ environment name', () => {
    expect(envName('limits.maxMessageBytes')).toBe('HANSA_LIMITS_MAX_MESSAGE_BYTES')
    expect(new Set(OPTIONS.map((o) => envName(o.key))).size).toBe(OPTIONS.length)
    for (const o of OPTIONS) expect(o.description.length).toBeGreaterThan(10)
  })

  it('keeps docs/configuration.md in step with the option table', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url)),
      'utf8',
    )
    expect(doc).toContain(configurationMarkdown())
  })
})

describe('applyReload', () => {
  it('applies options that need no restart and lists the others', async () => {
    const { applyReload } = await import('@hansa/node')
    const running = resolveConfig()
    const next = resolveConfig({ flags: { port: 9, 'policy.deniedKinds': [7], name: 'renamed' } })
    expect(applyReload(running, next)).toEqual({
      applied: ['name', 'policy.deniedKinds'],
      needRestart: ['port'],
    })
    expect(running.policy.deniedKinds).toEqual([7])
    expect(running.port).toBe(7447)
  })
})
