// The error catalogue: every code is HANSA_*, has a meaning, and docs/errors.md is generated
// from it.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  HANSA_ERRORS,
  HANSA_ERROR_CODES,
  HansaError,
  errorsMarkdown,
  httpStatusOfCode,
  isHansaErrorCode,
} from '@hansa/protocol'

describe('the error catalogue', () => {
  it('names every code once, each with a meaning', () => {
    expect(HANSA_ERROR_CODES.length).toBe(Object.keys(HANSA_ERRORS).length)
    for (const code of HANSA_ERROR_CODES) {
      expect(code).toMatch(/^HANSA_[A-Z0-9_]+$/)
      expect(HANSA_ERRORS[code].summary.length).toBeGreaterThan(10)
    }
  })

  it('gives each code its HTTP status, 400 for codes a node never sends', () => {
    expect(httpStatusOfCode('HANSA_NOT_GUARDIAN')).toBe(403)
    expect(httpStatusOfCode('HANSA_ORDERBOOK_OFF')).toBe(503)
    expect(httpStatusOfCode('HANSA_CONFIG_INVALID')).toBe(400)
    expect(isHansaErrorCode('HANSA_NOT_GUARDIAN')).toBe(true)
    expect(isHansaErrorCode('HANSA_NOPE')).toBe(false)
  })

  it('is what HansaError carries', () => {
    const e = new HansaError('HANSA_MANIFEST_FORK', 'two heads', { details: 'both kept' })
    expect([e.code, e.shortMessage, e.message]).toEqual([
      'HANSA_MANIFEST_FORK',
      'two heads',
      'two heads\n\nDetails: both kept',
    ])
  })

  it('keeps docs/errors.md in step', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/errors.md', import.meta.url)),
      'utf8',
    )
    expect(doc).toContain(errorsMarkdown())
  })
})
