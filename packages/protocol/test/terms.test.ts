// Terms are signed by the node they name; any change to them breaks the signature.
import { describe, expect, it } from 'vitest'
import {
  type Terms,
  ethereumAddress,
  generateSecretKey,
  nostrPublicKey,
  serviceTerms,
  signTerms,
  termsIssues,
  verifySignedTerms,
} from '@hansa/protocol'

const sk = generateSecretKey()
const terms: Terms = {
  hansa: 1,
  node: nostrPublicKey(sk),
  issuedAt: 1_795_000_000,
  services: {
    inbox: {
      access: 'metered',
      unit: 'msat',
      prices: { query: '10', event: '20', kilobyte: '5' },
      paymentThreshold: '10000',
      disconnectThreshold: '12500',
      swap: 'mock',
    },
  },
  settlement: { rails: ['ledger'], beneficiary: ethereumAddress(sk), chainId: 31337 },
  devTax: { rateBps: 2000, recipient: null },
}

describe('terms', () => {
  it('sign and verify; a service not named is free', () => {
    const signed = signTerms(terms, sk)
    expect(verifySignedTerms(signed)).toEqual({ ok: true, terms })
    expect(verifySignedTerms(signed, { node: terms.node }).ok).toBe(true)
    expect(serviceTerms(terms, 'orderbook')).toEqual({ access: 'free' })
    expect(serviceTerms(terms, 'inbox').access).toBe('metered')
  })

  it('refuse a changed price, another node, a bad envelope', () => {
    const signed = signTerms(terms, sk)
    const cheaper = structuredClone(signed)
    ;(cheaper.terms.services.inbox as { prices: { query: string } }).prices.query = '1'
    const r = verifySignedTerms(cheaper)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('HANSA_TERMS_SIGNATURE')
    const other = nostrPublicKey(generateSecretKey())
    const r2 = verifySignedTerms(signed, { node: other })
    expect(r2.ok).toBe(false)
    const r3 = verifySignedTerms({ terms, sig: 'zz' })
    expect(r3.ok).toBe(false)
    if (!r3.ok) expect(r3.error.message).toMatch(/^Terms are invalid: sig: must be 128/)
    expect(() => signTerms(terms, generateSecretKey())).toThrow(/terms.node must be the pubkey/)
  })

  it('name every issue with its path', () => {
    expect(
      termsIssues({ ...terms, issuedAt: -1, services: { 'Bad Name': { access: 'free' } } }),
    ).toEqual([
      { path: 'issuedAt', message: 'must be unix seconds (a whole number ≥ 0)' },
      {
        path: 'services.Bad Name',
        message: 'a service name is a lowercase letter then up to 31 of a-z, 0-9, -',
      },
    ])
  })
})
