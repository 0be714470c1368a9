// Invite codes: the vectors in vectors/invite-codes.json, the reasons decoding gives, and the
// properties that codes round-trip and that any single changed character is refused.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  INVITE_CODE_MAX_LENGTH,
  type InviteCode,
  InviteCodeInvalidError,
  decodeInviteCode,
  encodeInviteCode,
  nodeUrlProblem,
} from '@hansa/protocol'

type Vectors = {
  valid: { name: string; federationId: string; urls: string[]; code: string }[]
  invalid: { name: string; description: string; code: string; error: string }[]
}
const vectors: Vectors = JSON.parse(
  readFileSync(new URL('../vectors/invite-codes.json', import.meta.url), 'utf8'),
)

function decodeError(code: string): InviteCodeInvalidError {
  try {
    decodeInviteCode(code)
  } catch (error) {
    if (error instanceof InviteCodeInvalidError) return error
    throw error
  }
  throw new Error(`decoded ${JSON.stringify(code)} without error`)
}

describe('invite code vectors', () => {
  it.each(vectors.valid)('encodes and decodes $name', ({ federationId, urls, code }) => {
    expect(encodeInviteCode({ federationId, urls })).toBe(code)
    expect(decodeInviteCode(code)).toEqual({ federationId, urls })
    expect(decodeInviteCode(code.toUpperCase())).toEqual({ federationId, urls })
    expect(code.startsWith('hansa1')).toBe(true)
  })

  it.each(vectors.invalid)('refuses $name', ({ code, error }) => {
    expect(decodeError(code).code).toBe(error)
  })
})

describe('invite code reasons', () => {
  const byName = new Map(vectors.invalid.map((v) => [v.name, v.code]))
  const reason = (name: string) => decodeError(byName.get(name)!).reason
  it.each([
    ['empty', 'it must start with "hansa1" (prefix found: none)'],
    ['wrong-prefix', 'it must start with "hansa1" (prefix found: "fed")'],
    ['mistyped', 'the checksum does not match: a character is mistyped, missing or extra'],
    ['mixed-case', 'it mixes upper and lower case; a code is all lowercase (or all uppercase)'],
    ['bech32-not-m', 'the checksum does not match: a character is mistyped, missing or extra'],
    ['format-2', 'format 2 is not supported (this software reads format 1)'],
    ['no-urls', 'it carries no node URL'],
    ['http-url', 'URL 1 must be a ws:// or wss:// URL (got "https://a.example")'],
    ['trailing-bytes', 'it has 1 unexpected bytes after the last URL'],
    ['truncated', 'it is cut short inside the federation id'],
    ['bad-utf8', 'URL 1 is not valid UTF-8'],
    ['whitespace', 'it contains spaces or line breaks; paste the code alone'],
    [
      'bad-character',
      'character 13 ("b") is not used by bech32m (which has no "1", "b", "i" or "o" after the separator)',
    ],
  ])('%s: %s', (name, expected) => {
    expect(reason(name)).toBe(expected)
    expect(decodeError(byName.get(name)!).message).toBe(`Invalid invite code: ${expected}`)
  })

  it('names what cannot be encoded', () => {
    const federationId = vectors.valid[0]!.federationId
    expect(() => encodeInviteCode({ federationId: 'AB', urls: ['wss://a.example'] })).toThrow(
      'Invalid invite code: the federation id must be 64 lowercase hex characters',
    )
    expect(() => encodeInviteCode({ federationId, urls: [] })).toThrow(
      'Invalid invite code: an invite code carries from 1 to 255 node URLs',
    )
    expect(() =>
      encodeInviteCode({ federationId, urls: ['wss://a.example', 'wss://a.example'] }),
    ).toThrow('Invalid invite code: URL 2 repeats an earlier URL')
    const many = Array.from(
      { length: 40 },
      (_, i) => `wss://node-${i}.some-long-federation.example`,
    )
    expect(() => encodeInviteCode({ federationId, urls: many })).toThrow(
      /more than 1023: carry fewer or shorter URLs$/,
    )
  })
})

const hostname = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.constantFrom('localhost', 'bücher.example', 'xn--bcher-kva.example'),
)
const nodeUrl = fc
  .tuple(
    fc.constantFrom('ws', 'wss'),
    hostname,
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    fc.constantFrom('', '/', '/relay', '/hansa/v1?region=eu'),
  )
  .map(([scheme, host, port, path]) => `${scheme}://${host}${port ? `:${port}` : ''}${path}`)
  .filter((url) => nodeUrlProblem(url) === null)
const invite: fc.Arbitrary<InviteCode> = fc.record({
  federationId: fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Buffer.from(b).toString('hex')),
  urls: fc.uniqueArray(nodeUrl, { minLength: 1, maxLength: 4 }),
})

describe('invite code properties', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(invite, (value) => {
        const code = encodeInviteCode(value)
        expect(code.length).toBeLessThanOrEqual(INVITE_CODE_MAX_LENGTH)
        expect(decodeInviteCode(code)).toEqual(value)
        expect(decodeInviteCode(code.toUpperCase())).toEqual(value)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses any single changed character', () => {
    // Mostly letters of the bech32 alphabet (only the checksum can catch those), also any
    // printable ASCII (wrong case, "1", "b", "i", "o", punctuation).
    const printable = fc.oneof(
      { arbitrary: fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7l'), weight: 3 },
      {
        arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        weight: 1,
      },
    )
    fc.assert(
      fc.property(invite, fc.nat(), printable, (value, at, replacement) => {
        const code = encodeInviteCode(value)
        const i = at % code.length
        fc.pre(code[i] !== replacement)
        const corrupted = code.slice(0, i) + replacement + code.slice(i + 1)
        expect(() => decodeInviteCode(corrupted)).toThrow(InviteCodeInvalidError)
      }),
      { numRuns: 1000 },
    )
  })
})
