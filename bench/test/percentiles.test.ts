// Percentiles by nearest rank, over every sample.
import { describe, expect, it } from 'vitest'
import { Samples, percentile, summarize } from '../dist/percentiles.js'

const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1)

describe('percentile', () => {
  it('is a real sample, by nearest rank', () => {
    expect(percentile(oneToHundred, 50)).toBe(50)
    expect(percentile(oneToHundred, 99)).toBe(99)
    expect(percentile(oneToHundred, 100)).toBe(100)
    expect(percentile(oneToHundred, 0.5)).toBe(1)
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
    expect(percentile([7], 99)).toBe(7)
  })

  it('is NaN for no samples and refuses a q outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN()
    expect(() => percentile(oneToHundred, 0)).toThrow(RangeError)
    expect(() => percentile(oneToHundred, 101)).toThrow(RangeError)
  })
})

describe('summarize', () => {
  it('sorts a copy, numerically, and rounds to microseconds', () => {
    const samples = [10, 9, 1, 100, 2.00004]
    expect(summarize(samples)).toEqual({
      count: 5,
      min: 1,
      mean: 24.4,
      p50: 9,
      p90: 100,
      p99: 100,
      max: 100,
    })
    expect(samples).toEqual([10, 9, 1, 100, 2.00004])
  })

  it('gives zeros for no samples', () => {
    expect(summarize([]).count).toBe(0)
  })
})

describe('Samples', () => {
  it('grows past its first buffer and keeps every sample', () => {
    const s = new Samples()
    for (let i = 3000; i >= 1; i--) s.push(i)
    expect(s.length).toBe(3000)
    const sum = s.summary()
    expect([sum.min, sum.p50, sum.p99, sum.max]).toEqual([1, 1500, 2970, 3000])
  })
})
