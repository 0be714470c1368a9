// Latency summaries for the benchmark: percentiles over all samples of a phase (never an
// average of per-connection percentiles, which hides the slow connection).
//
// Nearest-rank percentiles: p99 of 1,000 samples is the 990th smallest. Every figure is a
// real sample, so a p99 can be checked against the raw data.

export type LatencySummary = {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  max: number
}

/** The q-th percentile (0 < q ≤ 100) of ascending `sorted`, by nearest rank; NaN if empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q <= 100)) throw new RangeError(`percentile must be in (0, 100], not ${q}`)
  const n = sorted.length
  if (n === 0) return Number.NaN
  const rank = Math.ceil((q / 100) * n)
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!
}

/** Rounds to microseconds when the unit is milliseconds: enough for any latency we report. */
export const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** Count, mean and percentiles of `samples` (not modified), rounded to 3 decimals. */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort()
  const n = sorted.length
  if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
  let sum = 0
  for (const x of sorted) sum += x
  return {
    count: n,
    min: round3(sorted[0]!),
    mean: round3(sum / n),
    p50: round3(percentile(sorted, 50)),
    p90: round3(percentile(sorted, 90)),
    p99: round3(percentile(sorted, 99)),
    max: round3(sorted[n - 1]!),
  }
}

/** A growable list of samples in a Float64Array: tens of thousands without boxing. */
export class Samples {
  private data = new Float64Array(1024)
  length = 0

  push(x: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = x
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length)
  }

  summary(): LatencySummary {
    return summarize(this.values())
  }
}
