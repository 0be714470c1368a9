// Money is bigint base units; the dev-tax split is exact and its carry loses nothing.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatAmount,
  formatBps,
  isAmountString,
  parseAmount,
  rateToBps,
  splitPayment,
} from '@hansa/protocol'

describe('amounts', () => {
  it('reads and writes decimal strings of base units only', () => {
    expect(parseAmount('0')).toBe(0n)
    expect(parseAmount('12500')).toBe(12500n)
    for (const bad of ['', '-1', '01', '1.5', '1e3', ' 1', 12, null, `1${'0'.repeat(78)}`]) {
      expect(isAmountString(bad), String(bad)).toBe(false)
    }
    expect(formatAmount(2n ** 256n - 1n)).toHaveLength(78)
    expect(() => formatAmount(-1n)).toThrow(RangeError)
  })

  it('turns a manifest rate into basis points and shows them', () => {
    expect(rateToBps(0.2)).toBe(2000)
    expect(rateToBps(0)).toBe(0)
    expect(rateToBps(0.0725)).toBe(725)
    expect(() => rateToBps(1.5)).toThrow(RangeError)
    expect([formatBps(2000), formatBps(250), formatBps(0), formatBps(1234)]).toEqual([
      '20 %',
      '2.5 %',
      '0 %',
      '12.34 %',
    ])
  })
})

describe('dev tax split', () => {
  it('books 20 % of 10 000 as 2 000 and rounds down with a carry', () => {
    expect(splitPayment(10_000n, 2000)).toEqual({ income: 8000n, devTax: 2000n, carry: 0n })
    expect(splitPayment(3n, 2000)).toEqual({ income: 3n, devTax: 0n, carry: 6000n })
    expect(splitPayment(3n, 2000, 6000n)).toEqual({ income: 2n, devTax: 1n, carry: 2000n })
    expect(splitPayment(5n, 0)).toEqual({ income: 5n, devTax: 0n, carry: 0n })
  })

  it('income + dev tax == payment, and a run totals floor(total × rate)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 30n }), { maxLength: 50 }),
        (bps, payments) => {
          let carry = 0n
          let tax = 0n
          for (const p of payments) {
            const s = splitPayment(p, bps, carry)
            expect(s.income + s.devTax).toBe(p)
            expect(s.income >= 0n && s.devTax >= 0n).toBe(true)
            carry = s.carry
            tax += s.devTax
          }
          const total = payments.reduce((a, b) => a + b, 0n)
          expect(tax).toBe((total * BigInt(bps)) / 10_000n)
          expect(carry).toBe((total * BigInt(bps)) % 10_000n)
        },
      ),
    )
  })
})
