// NIP-98 HTTP auth: a token made by nostr-tools (an independent client) is accepted, and each
// rule, broken alone, is refused with that rule named.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { getToken } from 'nostr-tools/nip98'
import { describe, expect, it } from 'vitest'
import {
  HttpAuthError,
  type HttpAuthRule,
  type NostrEvent,
  httpAuthEventError,
  parseHttpAuthHeader,
} from '@hansa/protocol'

const URL_ = 'http://127.0.0.1:7447/federation/proposals'
const body = { manifest: { name: 'x' } }
const bodySha256 = bytesToHex(sha256(new TextEncoder().encode(JSON.stringify(body))))
const secretKey = generateSecretKey()

async function header(
  url = URL_,
  method = 'POST',
  payload: Record<string, unknown> | null = body,
): Promise<string> {
  return getToken(url, method, (e) => finalizeEvent(e, secretKey), true, payload ?? undefined)
}

function check(
  event: NostrEvent,
  overrides: Partial<Parameters<typeof httpAuthEventError>[1]> = {},
) {
  return httpAuthEventError(event, {
    urls: [URL_],
    method: 'POST',
    now: Math.floor(Date.now() / 1000),
    bodySha256,
    ...overrides,
  })
}

function ruleOf(fn: () => unknown): HttpAuthRule {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(HttpAuthError)
    expect((error as HttpAuthError).code).toBe('HANSA_HTTP_AUTH')
    return (error as HttpAuthError).rule
  }
  throw new Error('no error')
}

describe('NIP-98 HTTP auth', () => {
  it('accepts a token made by nostr-tools', async () => {
    const event = parseHttpAuthHeader(await header())
    expect(check(event)).toBeNull()
    // the same URL through another host name the server answers to, and a proxy's https
    const other = parseHttpAuthHeader(await header('https://node.example/federation/proposals'))
    expect(check(other, { urls: [URL_, 'http://node.example/federation/proposals'] })).toBeNull()
  })

  it('names the header problem', () => {
    expect(ruleOf(() => parseHttpAuthHeader(undefined))).toBe('missing')
    expect(ruleOf(() => parseHttpAuthHeader('Bearer abc'))).toBe('scheme')
    expect(ruleOf(() => parseHttpAuthHeader('Nostr !!!'))).toBe('encoding')
    const notEvent = Buffer.from(JSON.stringify({ kind: 27235 })).toString('base64')
    expect(ruleOf(() => parseHttpAuthHeader(`Nostr ${notEvent}`))).toBe('shape')
  })

  it('names each broken rule', async () => {
    const event = parseHttpAuthHeader(await header())
    const now = Math.floor(Date.now() / 1000)
    expect(check({ ...event, kind: 1 })?.rule).toBe('kind')
    expect(check(event, { now: now + 120 })?.rule).toBe('created_at')
    expect(check(event, { urls: ['http://127.0.0.1:7447/federation'] })?.rule).toBe('url')
    expect(check(event, { method: 'GET' })?.rule).toBe('method')
    expect(check(event, { bodySha256: '00'.repeat(32) })?.rule).toBe('payload')
    const noPayload = parseHttpAuthHeader(await header(URL_, 'POST', null))
    expect(check(noPayload)?.message).toMatch(/needs a payload tag/)
    expect(check(noPayload, { bodySha256: null })).toBeNull()
  })
})
