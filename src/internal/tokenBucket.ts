/**
 * A token bucket for retries (AWS SDK "standard" retry quota): retries spend tokens, successes
 * refund them, the level never exceeds the capacity. Pure and synchronous.
 *
 * @internal
 */

export interface TokenBucketConfig {
  readonly capacity: number
  readonly retryCost: number
  readonly timeoutRetryCost: number
  readonly noRetryIncrement: number
}

/** A decoded token bucket policy (`RetryBudget.TokenBucketPolicy`) as the bucket's configuration. */
export const bucketConfig = (policy: {
  readonly capacity: number
  readonly retryCost: number
  readonly timeoutRetryCost: number
  readonly successRefund: number
}): TokenBucketConfig => ({
  capacity: policy.capacity,
  retryCost: policy.retryCost,
  timeoutRetryCost: policy.timeoutRetryCost,
  noRetryIncrement: policy.successRefund
})

export class TokenBucket {
  tokens: number
  requests = 0
  granted = 0
  denied = 0

  readonly config: TokenBucketConfig

  constructor(config: TokenBucketConfig) {
    this.config = config
    this.tokens = config.capacity
  }

  costOf(isTimeout: boolean): number {
    return isTimeout ? this.config.timeoutRetryCost : this.config.retryCost
  }

  tryAcquire(isTimeout: boolean): boolean {
    const cost = this.costOf(isTimeout)
    if (this.tokens < cost) {
      this.denied++
      return false
    }
    this.tokens -= cost
    this.granted++
    return true
  }

  /** Counts a denial when a retry would be denied now; otherwise changes nothing. */
  denyNow(isTimeout: boolean): boolean {
    if (this.tokens >= this.costOf(isTimeout)) return false
    this.denied++
    return true
  }

  /** `retriedTimeout` is `undefined` for a first-try success, else whether the paid retry was for a timeout. */
  refund(retriedTimeout: boolean | undefined): void {
    const amount = retriedTimeout === undefined ? this.config.noRetryIncrement : this.costOf(retriedTimeout)
    this.tokens = Math.min(this.config.capacity, this.tokens + amount)
  }
}
