// The quick start leaves nothing behind that a commit or the lint could pick up: `hansa keygen`
// without --out writes to the user's config folder, not the current folder, and the folders
// `hansa devnet`, `hansa node start` and `hansa guardian init` fill by default are ignored by
// git and by biome (so `npm test` passes after `npx hansa devnet` in a checkout).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { hansa } from './helpers.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const home = mkdtempSync(join(tmpdir(), 'hansa-quickstart-'))

describe('the quick start', () => {
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('hansa keygen without --out writes to the config folder, never the current one', async () => {
    const cwd = join(home, 'checkout')
    const run = await hansa(['keygen', '--json'], { XDG_CONFIG_HOME: join(home, 'config') })
    expect(run.code, run.stderr).toBe(0)
    const file = (JSON.parse(run.stdout) as { file: string }).file
    expect(file).toBe(join(home, 'config', 'hansa', 'hansa.key'))
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(existsSync(join(cwd, 'hansa.key'))).toBe(false)
    // a second run never overwrites it
    const again = await hansa(['keygen'], { XDG_CONFIG_HOME: join(home, 'config') })
    expect(again.code).not.toBe(0)
  })

  it('the default data folders are ignored by git and by biome', () => {
    for (const path of [
      'hansa-devnet/devnet.json',
      'hansa-data/events.sqlite',
      'hansa-guardian/guardian.key',
    ]) {
      expect(() => execFileSync('git', ['check-ignore', '-q', path], { cwd: root })).not.toThrow()
    }
    const biome = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as {
      files: { includes: string[] }
    }
    expect(biome.files.includes).toEqual(
      expect.arrayContaining(['!hansa-devnet', '!hansa-data', '!hansa-guardian']),
    )
  })
})
