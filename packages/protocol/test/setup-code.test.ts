// Guardian setup codes: they round-trip, carry a signature by the guardian's key, and every
// damaged code is refused with the reason.
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { bech32m } from '@scure/base'
import { describe, expect, it } from 'vitest'
import {
  SetupCodeInvalidError,
  decodeSetupCode,
  encodeInviteCode,
  encodeSetupCode,
} from '@hansa/protocol'

const secretKey = schnorr.utils.randomSecretKey()
const pubkey = bytesToHex(schnorr.getPublicKey(secretKey))

function reason(code: string): string {
  try {
    decodeSetupCode(code)
  } catch (error) {
    expect(error).toBeInstanceOf(SetupCodeInvalidError)
    expect((error as SetupCodeInvalidError).code).toBe('HANSA_SETUP_CODE_INVALID')
    return (error as SetupCodeInvalidError).reason
  }
  throw new Error('decoded without error')
}

describe('setup codes', () => {
  it('round-trips name, pubkey and node URL', () => {
    const code = encodeSetupCode({ name: 'ana', url: 'ws://127.0.0.1:7447' }, secretKey)
    expect(code.startsWith('hansasetup1')).toBe(true)
    expect(decodeSetupCode(code)).toEqual({ name: 'ana', pubkey, url: 'ws://127.0.0.1:7447' })
    expect(decodeSetupCode(code.toUpperCase()).pubkey).toBe(pubkey)
    const unicode = encodeSetupCode({ name: 'Zoë', url: 'wss://guardian.example/relay' }, secretKey)
    expect(decodeSetupCode(unicode).name).toBe('Zoë')
  })

  it('refuses bad input with the reason', () => {
    expect(() => encodeSetupCode({ name: '', url: 'ws://a.example' }, secretKey)).toThrow(
      /name must be 1 to 64/,
    )
    expect(() => encodeSetupCode({ name: 'ana', url: 'http://a.example' }, secretKey)).toThrow(
      /ws:\/\/ or wss:\/\//,
    )
    const code = encodeSetupCode({ name: 'ana', url: 'ws://127.0.0.1:7447' }, secretKey)
    const typo = code.slice(0, 20) + (code[20] === 'q' ? 'p' : 'q') + code.slice(21)
    expect(reason(typo)).toMatch(/checksum/)
    expect(reason(`${code} x`)).toMatch(/spaces/)
    const invite = encodeInviteCode({ federationId: 'ab'.repeat(32), urls: ['ws://a.example'] })
    expect(reason(invite)).toMatch(/invite code, not a setup code/)
  })

  it('refuses a code re-encoded with an edited URL (the signature no longer matches)', () => {
    const code = encodeSetupCode({ name: 'ana', url: 'ws://127.0.0.1:7447' }, secretKey)
    const payload = bech32m.fromWords(bech32m.decode(code as `${string}1${string}`, 1023).words)
    const edited = Uint8Array.from(payload)
    edited[edited.length - 1] = '8'.charCodeAt(0) // ws://127.0.0.1:7448
    const forged = bech32m.encode('hansasetup', bech32m.toWords(edited), 1023)
    expect(reason(forged)).toMatch(/signature does not match guardian ana/)
  })
})
