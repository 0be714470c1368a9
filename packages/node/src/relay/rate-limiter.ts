// A token bucket: `rate` tokens a second, holding at most `burst`. Used per connection
// and per IP address for published events.

export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  /** Takes `cost` tokens (default one) if there are that many. `now` in milliseconds. */
  take(now: number, cost = 1): boolean {
    if (this.rate <= 0) return true
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    // A cost above the burst could never be paid: it takes a full bucket instead.
    const price = Math.min(cost, this.burst)
    if (this.tokens < price) return false
    this.tokens -= price
    return true
  }

  /** True when the bucket is full again and can be forgotten. */
  idle(now: number): boolean {
    return this.rate <= 0 || this.tokens + ((now - this.last) / 1000) * this.rate >= this.burst
  }
}

/**
 * One TokenBucket per client address (an http/client-address.ts limitKey) for an HTTP route:
 * a stranger who repeats a request costs the node a bounded amount of work. Full buckets are
 * forgotten once more than 10,000 addresses are held, so a crowd of addresses does not grow
 * the map for ever.
 */
export class AddressBuckets {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  /** Takes a token from `address`'s bucket if it has one. `now` in milliseconds. */
  take(address: string, now: number): boolean {
    if (this.buckets.size > 10_000) {
      for (const [key, bucket] of this.buckets) if (bucket.idle(now)) this.buckets.delete(key)
    }
    let bucket = this.buckets.get(address)
    if (!bucket) {
      bucket = new TokenBucket(this.rate, this.burst, now)
      this.buckets.set(address, bucket)
    }
    return bucket.take(now)
  }
}
