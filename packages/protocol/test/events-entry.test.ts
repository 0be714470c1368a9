// The `@hansa/protocol/events` entry, which the node's worker threads load: its exact names
// (each the same value as the main entry's), and that it loads neither viem nor the API
// schemas — the reason it exists is that a thread starts sooner when it loads less.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as main from '@hansa/protocol'
import * as events from '@hansa/protocol/events'
import { describe, expect, it } from 'vitest'

const EXPORTS = [
  'HansaError',
  'dTagOf',
  'eoseMessage',
  'eventIdPreimage',
  'eventJsonForms',
  'eventShapeError',
  'expirationOf',
  'filterError',
  'isHex128',
  'isHex64',
  'kindClass',
  'matchFilter',
  'matchFilters',
  'serializeEvent',
  'tagConditions',
  'tagValue',
  'tagValues',
]

/** The package's own modules the entry loads, followed through their relative imports. */
function loadedModules(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const text = readFileSync(file, 'utf8')
    for (const [, spec] of text.matchAll(/^(?:import|export)\s[^;]*?from '([^']+)'/gms)) {
      if (spec!.startsWith('.')) visit(join(dirname(file), spec!))
      else packages.add(spec!)
    }
  }
  visit(entry)
  return { files: [...files], packages: [...packages] }
}

describe('@hansa/protocol/events', () => {
  it('exports exactly the pinned names, the same values as the main entry', () => {
    expect(Object.keys(events).sort()).toEqual(EXPORTS)
    for (const name of EXPORTS) {
      expect((events as Record<string, unknown>)[name]).toBe(
        (main as Record<string, unknown>)[name],
      )
    }
  })

  it('loads no viem and no API schemas', () => {
    const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist/events.js')
    const { files, packages } = loadedModules(dist)
    expect(packages.filter((p) => p.startsWith('viem') || p.startsWith('@sinclair'))).toEqual([])
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()).toEqual([
      'errors.js',
      'event.js',
      'events.js',
      'filter.js',
      'hex.js',
      // NIP-01's messages, for EOSE: a reader thread frames a REQ's whole answer.
      'relay-message.js',
    ])
  })
})
