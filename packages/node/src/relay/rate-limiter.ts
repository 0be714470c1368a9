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
