// Money: amounts are bigint counts of a unit's base units (msat, wei, a token's smallest
// unit), never floating point. On the wire (JSON) an amount is a decimal string of digits,
// "0" or without leading zeros, at most 78 digits (a uint256 fits).
//
// The dev tax: a coordinator's rate is a whole number of basis points (1 bp = 0.01 %,
// 10 000 bp = 100 %). Each payment splits into income + dev tax with this rounding rule:
//   devTax = floor((amount × bps + carry) / 10 000), and the remainder of that division is the
//   new carry (in 1/10 000 base units), passed to the next payment's split.
// So every split is exact (income + devTax == amount), no fraction of a unit is ever lost or
// invented, and over any run of payments at one rate the dev tax totals exactly
// floor(total × bps / 10 000). A payment the tax rounds to zero still moves the carry on.

/** Largest amount: 2^256 - 1 (a uint256, what a cheque's cumulative payout holds). */
export const MAX_AMOUNT = (1n << 256n) - 1n
export const BPS_DENOMINATOR = 10_000

const AMOUNT = /^(0|[1-9][0-9]{0,77})$/

/** Whether `text` is a wire amount: decimal digits, no sign, no leading zeros, ≤ 2^256 - 1. */
export function isAmountString(text: unknown): text is string {
  return typeof text === 'string' && AMOUNT.test(text) && BigInt(text) <= MAX_AMOUNT
}

/** Reads a wire amount; returns null when `text` is not one. */
export function parseAmount(text: unknown): bigint | null {
  return isAmountString(text) ? BigInt(text) : null
}

/** Writes an amount for the wire. Throws RangeError for a negative or too large amount. */
export function formatAmount(amount: bigint): string {
  if (amount < 0n || amount > MAX_AMOUNT) throw new RangeError(`amount out of range: ${amount}`)
  return amount.toString()
}

/**
 * A rate (a fraction such as the manifest's `suggestedRate` 0.2) in whole basis points,
 * rounded to the nearest. Throws RangeError outside 0..1.
 */
export function rateToBps(rate: number): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new RangeError(`a rate is a number from 0 to 1; got ${rate}`)
  }
  return Math.round(rate * BPS_DENOMINATOR)
}

/** Whether `bps` is a whole number of basis points from 0 to 10 000. */
export const isBps = (bps: unknown): bps is number =>
  typeof bps === 'number' && Number.isInteger(bps) && bps >= 0 && bps <= BPS_DENOMINATOR

/** "20 %", "2.5 %", "0 %": a rate in basis points for people. */
export function formatBps(bps: number): string {
  const whole = Math.floor(bps / 100)
  const frac = (bps % 100).toString().padStart(2, '0').replace(/0+$/, '')
  return `${whole}${frac ? `.${frac}` : ''} %`
}

export type DevTaxSplit = {
  /** What the coordinator keeps. */
  income: bigint
  /** What is owed to the dev fund. */
  devTax: bigint
  /** The rounding remainder (in 1/10 000 base units) to pass to the next split. */
  carry: bigint
}

/**
 * Splits one payment into coordinator income and dev tax at `bps` basis points, carrying the
 * rounding remainder (see the header). `carry` is the previous split's; start with 0n.
 */
export function splitPayment(amount: bigint, bps: number, carry = 0n): DevTaxSplit {
  if (amount < 0n) throw new RangeError('a payment is not negative')
  if (!isBps(bps)) throw new RangeError(`a dev tax rate is 0 to 10000 basis points; got ${bps}`)
  if (carry < 0n || carry >= BigInt(BPS_DENOMINATOR)) {
    throw new RangeError(`a carry is 0 to 9999; got ${carry}`)
  }
  const scaled = amount * BigInt(bps) + carry
  const devTax = scaled / BigInt(BPS_DENOMINATOR)
  return { income: amount - devTax, devTax, carry: scaled % BigInt(BPS_DENOMINATOR) }
}
