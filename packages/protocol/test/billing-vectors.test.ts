// The paid-access vectors on disk are what the generator makes from its deterministic keys;
// every check in them gives its recorded verdict; the package exports the billing API.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as protocol from '@hansa/protocol'
import { buildBillingVectors } from '../scripts/generate-billing-vectors.mjs'

const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8'))

describe('billing vectors', () => {
  it('are up to date', async () => {
    const built = (await buildBillingVectors()) as Record<string, unknown>
    for (const file of Object.keys(built)) {
      expect(load(file), file).toEqual(JSON.parse(JSON.stringify(built[file])))
    }
  })

  it('cheques: digests, signatures and signers', async () => {
    const { keys, signed } = load('cheques.json')
    for (const s of signed) {
      const key = keys.find((k: { name: string }) => k.name === s.signer)
      const content = protocol.chequeOf(s.cheque)
      expect(await protocol.chequeDigest(content)).toBe(s.digest)
      expect(await protocol.signCheque(content, key.secretKey)).toEqual(s.cheque)
      expect(await protocol.recoverChequeSigner(s.cheque)).toEqual({
        address: key.address,
        pubkey: key.pubkey,
      })
    }
  })

  it('cheques: every receiver check gives its verdict', async () => {
    const { checks } = load('cheques.json')
    for (const c of checks) {
      const verdict = await protocol.checkCheque(c.cheque, {
        ...c.receiver,
        lastCumulativePayout: BigInt(c.receiver.lastCumulativePayout),
        isCredited: (d: string) => c.receiver.credited.includes(d),
      })
      if (c.result.ok) {
        expect(verdict.ok, c.description).toBe(true)
        if (verdict.ok) expect(verdict.increment.toString()).toBe(c.result.increment)
      } else {
        expect(verdict.ok, c.description).toBe(false)
        if (!verdict.ok) expect(verdict.error.code, c.description).toBe(c.result.code)
      }
    }
  })

  it('terms: the signed terms verify, invalid ones name their first issue', () => {
    const { valid, invalid } = load('terms.json')
    for (const v of valid) {
      expect(protocol.verifySignedTerms(v.signed)).toEqual({ ok: true, terms: v.signed.terms })
      expect(protocol.termsHash(v.signed.terms)).toBe(v.hash)
    }
    for (const i of invalid)
      expect(protocol.termsIssues(i.terms)[0], i.description).toEqual(i.firstIssue)
  })

  it('dev tax: every split in the runs', () => {
    for (const run of load('dev-tax.json').runs) {
      let carry = 0n
      for (const s of run.splits) {
        const split = protocol.splitPayment(BigInt(s.amount), run.rateBps, carry)
        expect(split).toEqual({
          income: BigInt(s.income),
          devTax: BigInt(s.devTax),
          carry: BigInt(s.carry),
        })
        carry = split.carry
      }
    }
  })
})

describe('cheque digests and signers', () => {
  it("equal viem's EIP-712 hashing and recovery, for any cheque", async () => {
    const { hashTypedData, recoverAddress } = await import('viem')
    const address = fc
      .uint8Array({ minLength: 20, maxLength: 20 })
      .map((b) => `0x${Buffer.from(b).toString('hex')}`)
    await fc.assert(
      fc.asyncProperty(
        address,
        address,
        fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        async (chequebook, beneficiary, cumulativePayout, chainId) => {
          const cheque = { chequebook, beneficiary, cumulativePayout, chainId }
          const digest = protocol.chequeDigest(cheque)
          expect(digest).toBe(hashTypedData(protocol.chequeTypedData(cheque)))
          const key = protocol.generateSecretKey()
          const signed = await protocol.signCheque(cheque, key)
          const signer = await protocol.recoverChequeSigner(signed)
          expect(signer?.address).toBe(
            await recoverAddress({
              hash: digest as `0x${string}`,
              signature: signed.signature as `0x${string}`,
            }),
          )
          expect(signer?.pubkey).toBe(protocol.nostrPublicKey(key))
        },
      ),
      { numRuns: 25 },
    )
  })
})

describe('billing exports', () => {
  it('exports the billing API', () => {
    const names = [
      'BILLING_ERROR_CODES',
      'TermsInvalidError',
      'TermsSignatureError',
      'ChequeError',
      'MAX_AMOUNT',
      'isAmountString',
      'parseAmount',
      'formatAmount',
      'rateToBps',
      'formatBps',
      'splitPayment',
      'termsIssues',
      'termsHash',
      'serviceTerms',
      'signTerms',
      'verifySignedTerms',
      'CHEQUE_DOMAIN_NAME',
      'CHEQUE_TYPES',
      'chequeShapeError',
      'chequeTypedData',
      'chequeDigest',
      'signCheque',
      'recoverChequeSigner',
      'checkCheque',
      'swapPolicy',
      'priceOf',
      'charge',
      'creditCheque',
      'bounds',
      'admit',
      'paymentDue',
    ]
    const exported = new Set(Object.keys(protocol))
    expect(names.filter((n) => !exported.has(n))).toEqual([])
  })

  it('pins the error codes', () => {
    expect(protocol.BILLING_ERROR_CODES).toEqual([
      'HANSA_TERMS_INVALID',
      'HANSA_TERMS_SIGNATURE',
      'HANSA_CHEQUE_MALFORMED',
      'HANSA_CHEQUE_CHAIN',
      'HANSA_CHEQUE_BENEFICIARY',
      'HANSA_CHEQUE_SIGNER',
      'HANSA_CHEQUE_REPLAY',
      'HANSA_CHEQUE_NOT_INCREASING',
    ])
    const e = new protocol.ChequeError('HANSA_CHEQUE_NOT_INCREASING', 'x')
    expect([e.rule, e.message]).toEqual(['not-increasing', 'cheque refused: x'])
  })
})
