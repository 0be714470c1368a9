// RFC 8785 canonical JSON: the vectors in vectors/canonical-json.json, the values refused with
// a path, and the property that key order never changes the bytes.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CanonicalJsonError, canonicalBytes, canonicalJson } from '@hansa/protocol'

type CanonicalCase = { name: string; input: string; canonical: string }
const vectors: { cases: CanonicalCase[] } = JSON.parse(
  readFileSync(new URL('../vectors/canonical-json.json', import.meta.url), 'utf8'),
)

describe('canonical JSON vectors', () => {
  it.each(vectors.cases)('$name', ({ input, canonical }) => {
    expect(canonicalJson(JSON.parse(input))).toBe(canonical)
    expect(new TextDecoder().decode(canonicalBytes(JSON.parse(input)))).toBe(canonical)
  })
})

// The RFC's own examples, with the outputs it publishes (vectors/rfc8785.json is written from
// the RFC, not generated): a check of the code against the standard, not against itself.
type Rfc8785 = {
  objects: { name: string; input: string; canonical: string }[]
  numbers: [string, string][]
}
const rfc: Rfc8785 = JSON.parse(
  readFileSync(new URL('../vectors/rfc8785.json', import.meta.url), 'utf8'),
)

describe('RFC 8785 published examples', () => {
  it.each(rfc.objects)('$name', ({ input, canonical }) => {
    expect(canonicalJson(JSON.parse(input))).toBe(canonical)
  })
  it.each(rfc.numbers)('Appendix B: %s → %s', (bits, canonical) => {
    const view = new DataView(new ArrayBuffer(8))
    view.setBigUint64(0, BigInt(`0x${bits}`))
    expect(canonicalJson(view.getFloat64(0))).toBe(canonical)
    expect(canonicalJson([view.getFloat64(0)])).toBe(`[${canonical}]`)
  })
})

describe('canonicalJson refuses what RFC 8785 cannot encode', () => {
  const cases: [string, unknown, string][] = [
    ['NaN', { a: [1, Number.NaN] }, '$.a[1] is NaN; only finite numbers are allowed'],
    [
      'Infinity',
      { a: Number.POSITIVE_INFINITY },
      '$.a is Infinity; only finite numbers are allowed',
    ],
    ['bigint', [1n], '$[0] is a bigint, which JSON cannot represent'],
    ['function', { f: () => 1 }, '$.f is a function, which JSON cannot represent'],
    ['undefined in an array', [1, undefined], '$[1] is undefined'],
    ['top-level undefined', undefined, '$ is undefined, which JSON cannot represent'],
    // biome-ignore lint/suspicious/noSparseArray: a hole is what this case is about
    ['sparse array', [1, , 3], '$[1] is a hole in a sparse array'],
    ['lone surrogate', { s: 'a\uD800b' }, '$.s is a string with a lone UTF-16 surrogate'],
    ['lone surrogate key', { '\uDC00': 1 }, '$["\\udc00"] is a key with a lone UTF-16 surrogate'],
    ['Date', { when: new Date(0) }, '$.when is a Date object; only plain objects are allowed'],
    ['Map', new Map(), '$ is a Map object; only plain objects are allowed'],
  ]
  it.each(cases)('%s', (_name, value, problem) => {
    const error = (() => {
      try {
        canonicalJson(value)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(CanonicalJsonError)
    expect((error as CanonicalJsonError).code).toBe('HANSA_CANONICAL_JSON')
    expect((error as CanonicalJsonError).message).toBe(
      `Cannot encode as canonical JSON (RFC 8785): ${problem}`,
    )
  })

  it('refuses cycles', () => {
    const a: Record<string, unknown> = {}
    a.self = a
    expect(() => canonicalJson(a)).toThrow('$.self refers back to itself (a cycle)')
  })

  it('leaves out undefined properties, as JSON.stringify does', () => {
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}')
  })

  it('accepts shared (non-cyclic) references', () => {
    const shared = { x: 1 }
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}')
  })
})

/** Rebuilds every object of `value` with its keys in another order. */
function reorder(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, i) => reorder(item, seed + i))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value).map(([k, v], i) => [k, reorder(v, seed * 31 + i)] as const)
  const keyed = entries.map((entry, i) => ({ entry, rank: ((i + 1) * 2654435761 + seed) % 1009 }))
  keyed.sort((a, b) => a.rank - b.rank)
  const out: Record<string, unknown> = {}
  for (const { entry } of keyed)
    Object.defineProperty(out, entry[0], {
      value: entry[1],
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return out
}

/**
 * RFC 8785 in a few lines, for JSON values: ECMAScript's JSON.stringify for primitives (the
 * RFC's number and string rules), object keys sorted by UTF-16 code units (Array#sort).
 */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    const keys = Object.keys(record).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(record[k])}`).join(',')}}`
  }
  return JSON.stringify(value)
}

describe('canonical JSON properties', () => {
  const json = fc.jsonValue({ maxDepth: 4, stringUnit: 'grapheme' })

  it('is stable under key reordering', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        expect(canonicalJson(reorder(value, seed))).toBe(canonicalJson(value))
      }),
      { numRuns: 300 },
    )
  })

  it('is idempotent and agrees with a minimal reference encoder', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value)
        expect(canonicalJson(JSON.parse(text))).toBe(text)
        expect(text).toBe(reference(value))
      }),
      { numRuns: 300 },
    )
  })
})
