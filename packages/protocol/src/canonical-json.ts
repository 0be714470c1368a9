// Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the exact bytes a manifest's
// hash and signatures are computed over. The encoding itself is the `canonicalize` package
// (the RFC authors' reference for JavaScript); this module only refuses, with a path and a
// reason, the values JCS cannot represent and that `canonicalize` would otherwise coerce or
// encode wrongly: NaN and ±Infinity, bigint, functions, symbols, undefined inside an array,
// sparse arrays, lone UTF-16 surrogates (I-JSON forbids them), non-plain objects (Date, Map,
// class instances, which `canonicalize` would pass through toJSON or enumerate), and cycles.
// An object property whose value is undefined is left out, as JSON.stringify does, so an
// object and its JSON round trip have the same canonical bytes.
import canonicalizeModule from 'canonicalize'
import { CanonicalJsonError } from './federation-errors.js'

type Canonicalize = (input: unknown) => string | undefined

// The package is CommonJS (`module.exports = serialize`) while its .d.ts says `export default`;
// under NodeNext TypeScript types the default import as the module object, Node hands over the
// function itself. Accept either.
const imported = canonicalizeModule as unknown as Canonicalize | { default: Canonicalize }
const canonicalize: Canonicalize = typeof imported === 'function' ? imported : imported.default

// With the u flag, a surrogate range matches only surrogates that are not part of a pair.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

function key(path: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)
    ? `${path}.${name}`
    : `${path}[${JSON.stringify(name)}]`
}

function check(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'boolean':
      return
    case 'string':
      if (LONE_SURROGATE.test(value)) {
        throw new CanonicalJsonError(path, 'is a string with a lone UTF-16 surrogate')
      }
      return
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `is ${value}; only finite numbers are allowed`)
      }
      return
    case 'object':
      break
    case 'undefined':
      throw new CanonicalJsonError(path, 'is undefined, which JSON cannot represent')
    default:
      throw new CanonicalJsonError(path, `is a ${typeof value}, which JSON cannot represent`)
  }
  if (value === null) return
  if (ancestors.has(value)) throw new CanonicalJsonError(path, 'refers back to itself (a cycle)')
  ancestors.add(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value))
        throw new CanonicalJsonError(`${path}[${i}]`, 'is a hole in a sparse array')
      const item: unknown = value[i]
      if (item === undefined) throw new CanonicalJsonError(`${path}[${i}]`, 'is undefined')
      check(item, `${path}[${i}]`, ancestors)
    }
  } else {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      const kind = (value as { constructor?: { name?: unknown } }).constructor?.name
      throw new CanonicalJsonError(
        path,
        `is a ${typeof kind === 'string' ? kind : 'non-plain'} object; only plain objects are allowed`,
      )
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new CanonicalJsonError(path, 'has symbol keys, which JSON cannot represent')
    }
    for (const [name, item] of Object.entries(value)) {
      if (LONE_SURROGATE.test(name)) {
        throw new CanonicalJsonError(key(path, name), 'is a key with a lone UTF-16 surrogate')
      }
      if (item !== undefined) check(item, key(path, name), ancestors)
    }
  }
  ancestors.delete(value)
}

/** The RFC 8785 canonical form of a JSON value, as a string. Throws CanonicalJsonError. */
export function canonicalJson(value: unknown): string {
  check(value, '$', new Set())
  const text = canonicalize(value)
  if (typeof text !== 'string') throw new CanonicalJsonError('$', 'is not a JSON value')
  return text
}

/** The RFC 8785 canonical form of a JSON value, as UTF-8 bytes. Throws CanonicalJsonError. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value))
}
