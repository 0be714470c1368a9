// The committed ABIs and bytecode are what the pinned solc makes of the committed sources.
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

it('src/artifacts.ts matches a fresh compile of contracts/*.sol', () => {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'compile.mjs')
  const out = execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
  expect(out).toMatch(/matches a fresh compile/)
}, 120_000)
