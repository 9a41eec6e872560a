/**
 * Request and retry counts over a sliding time window, kept in a ring of buckets: O(1) time and
 * memory per event (advancing clears at most `buckets` slots). Pure: the caller passes the time.
 *
 * @internal
 */

export class SlidingCounts {
  private readonly requestsIn: Float64Array
  private readonly retriesIn: Float64Array
  private readonly bucketMillis: number
  private current: number
  /** Requests seen in the window. */
  requests = 0
  /** Retries granted in the window. */
  retries = 0

  readonly buckets: number

  constructor(windowMillis: number, buckets: number, now: number) {
    this.buckets = buckets
    this.requestsIn = new Float64Array(buckets)
    this.retriesIn = new Float64Array(buckets)
    this.bucketMillis = windowMillis / buckets
    this.current = Math.floor(now / this.bucketMillis)
  }

  /** Moves the window to `now`, forgetting buckets that fell out of it. A clock going back is ignored. */
  advance(now: number): void {
    const index = Math.floor(now / this.bucketMillis)
    if (index <= this.current) return
    const steps = Math.min(index - this.current, this.buckets)
    for (let i = 1; i <= steps; i++) {
      const slot = (this.current + i) % this.buckets
      this.requests -= this.requestsIn[slot]!
      this.retries -= this.retriesIn[slot]!
      this.requestsIn[slot] = 0
      this.retriesIn[slot] = 0
    }
    this.current = index
  }

  addRequest(now: number): void {
    this.advance(now)
    this.requestsIn[this.current % this.buckets]!++
    this.requests++
  }

  addRetry(now: number): void {
    this.advance(now)
    this.retriesIn[this.current % this.buckets]!++
    this.retries++
  }
}
