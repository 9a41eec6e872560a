/**
 * RetryBudget: one allowance of retries shared by every call of a policy, so that retries cannot
 * multiply the load of an outage (3 retries per call are 4× the load when everything fails).
 *
 * Two shapes: `tokenBucket` (AWS SDK standard retry quota: retries spend tokens, successes refund
 * them) and `ratio` (Finagle / Google SRE book ch. 21: retries at most a fraction of the requests of
 * a sliding window, plus a small reserve). Both implement `RetryBudget.Budget`; pass one as `budget`
 * to `Retry.retry`. Their hooks are synchronous and read a `Clock` captured at construction, so a
 * successful call costs no effects.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Result, Schema } from "effect"
import type { Transient } from "./Failure.ts"
import { bounds, IntBetween, NumberBetween, PositiveDelay, Ratio, withDefault } from "./internal/fields.ts"
import type { PolicyError } from "./internal/policyError.ts"
import * as W from "./internal/window.ts"
import { withDenyNow } from "./internal/budgetPeek.ts"
import { decodeOptions } from "./internal/strict.ts"
import { bucketConfig, TokenBucket } from "./internal/tokenBucket.ts"

/**
 * A retry budget as the retry loop sees it: a shared allowance that caps how much retrying all
 * calls of a policy may do together, so retries cannot multiply the load of an outage.
 * `tokenBucket` and `ratio` build these; any object of this shape works.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, type RetryBudget } from "effect-resilience"
 * // A budget that never allows a retry.
 * const none: RetryBudget.Budget = { onRequest: () => {}, onSuccess: () => {}, tryAcquire: () => Effect.succeed(false) }
 * const call = Effect.fail({ status: 503 }).pipe(Retry.retry({ maxRetries: 3, budget: none }))
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Budget {
  /** Called synchronously once per call, before its first attempt. */
  readonly onRequest: () => void
  /**
   * Called synchronously when a call succeeds; `retried` tells whether it took retries, and
   * `last` is then the failure whose retry succeeded (a token bucket refunds that retry's cost).
   */
  readonly onSuccess: (retried: boolean, last?: Transient<unknown>) => void
  /** Asks to spend for one retry of this failure; `false` denies it and ends the loop. */
  readonly tryAcquire: (failure: Transient<unknown>) => Effect.Effect<boolean>
}

/**
 * A snapshot of a budget. Counters are totals since the budget was made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly strategy: "tokenBucket" | "ratio"
  /** Tokens left (token bucket), or retries still allowed in the current window (ratio). */
  readonly available: number
  /** Calls seen (`onRequest`). */
  readonly requests: number
  readonly retriesGranted: number
  readonly retriesDenied: number
}

/**
 * A retry budget: a `Budget` that can also report its state.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RetryBudget } from "effect-resilience"
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.tokenBucket()
 *   const { available } = yield* budget.stats // 500
 * })
 * ```
 * @since 0.1.0
 * @category models
 */
export interface RetryBudget extends Budget {
  /** The current state, as an effect. */
  readonly stats: Effect.Effect<Stats>
  /** The current state, read synchronously. */
  readonly statsUnsafe: () => Stats
}

const tokenBucketFields = {
  /** Tokens when full. */
  capacity: withDefault(IntBetween(1, bounds.tokens), 500),
  /** Tokens one retry costs. */
  retryCost: withDefault(IntBetween(0, bounds.tokens), 5),
  /** Tokens one retry of a `Timeout`-kind failure costs. */
  timeoutRetryCost: withDefault(IntBetween(0, bounds.tokens), 10),
  /** Tokens a success on the first try refunds. */
  successRefund: withDefault(IntBetween(0, bounds.tokens), 1)
}

/**
 * A token bucket's options as data, the one definition of their rules and defaults (the AWS
 * SDK's standard retry quota): `capacity` 500, `retryCost` 5, `timeoutRetryCost` 10,
 * `successRefund` 1, all whole numbers (capacity at least 1). `tokenBucket`, the Redis store and
 * pipeline policies all decode through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RetryBudget } from "effect-resilience"
 * Schema.decodeUnknownSync(RetryBudget.TokenBucketPolicy)({ capacity: 100 }).retryCost // 5
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const TokenBucketPolicy = Schema.Struct(tokenBucketFields)

const ratioFields = {
  /** Retries allowed per request seen in the window (0..1). */
  ratio: withDefault(Ratio, 0.1),
  /** A reserve of retries per second of the window. */
  minPerSecond: withDefault(NumberBetween(0, bounds.size), 10),
  /** The sliding window. */
  window: withDefault(PositiveDelay, "10 seconds"),
  /** How many buckets the window is counted in. */
  buckets: withDefault(IntBetween(1, bounds.buckets), 10)
}

/**
 * A ratio budget's options as data, the one definition of their rules and defaults (Finagle's):
 * `ratio` 0.1 (0..1), `minPerSecond` 10, `window` 10 seconds, `buckets` 10 (1..1000).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RetryBudget } from "effect-resilience"
 * Schema.decodeUnknownSync(RetryBudget.RatioPolicy)({ ratio: 0.2 }).minPerSecond // 10
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const RatioPolicy = Schema.Struct(ratioFields)

/**
 * A retry budget in a pipeline policy: `{ type: "tokenBucket", … }` or `{ type: "ratio", … }`
 * with the fields above. Without `type`, the fields decide (`ratio` alone means a ratio budget).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RetryBudget } from "effect-resilience"
 * Schema.decodeUnknownSync(RetryBudget.BudgetPolicy)({ type: "ratio", ratio: 0.1 })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const BudgetPolicy = Schema.Union([
  Schema.Struct({ type: Schema.Literal("tokenBucket"), ...tokenBucketFields }),
  Schema.Struct({ type: Schema.Literal("ratio"), ...ratioFields })
])

/**
 * A decoded budget policy.
 *
 * @since 0.1.0
 * @category schemas
 */
export type BudgetPolicy = typeof BudgetPolicy.Type

/**
 * Options of `tokenBucket`. Defaults are the AWS SDK's standard retry quota.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenBucketOptions {
  /** Tokens when full. Default 500. */
  readonly capacity?: number | undefined
  /** Tokens one retry costs. Default 5. */
  readonly retryCost?: number | undefined
  /** Tokens one retry of a `Timeout`-kind failure costs. Default 10. */
  readonly timeoutRetryCost?: number | undefined
  /** Tokens a success on the first try refunds (AWS's `noRetryIncrement`). Default 1. */
  readonly successRefund?: number | undefined
}


const isTimeout = (failure: Transient<unknown> | undefined): boolean => failure !== undefined && failure.kind === "Timeout"

/**
 * A token bucket, AWS SDK style: it starts full (`capacity` 500); a retry costs `retryCost` (5),
 * or `timeoutRetryCost` (10) when the failure's kind is `"Timeout"`; a retry is denied when the
 * bucket holds less than its cost. A call that succeeds after retries refunds the cost of its last
 * retry; a call that succeeds at once refunds `successRefund` (1). The level never exceeds the
 * capacity. With the defaults, an outage can spend at most 100 retries before successes refill it.
 *
 * Fails with `Policy.PolicyError` naming every bad option.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.tokenBucket({ capacity: 500 })
 *   // share `budget` between every call of this policy:
 *   return yield* call.pipe(Retry.retry({ maxRetries: 3, budget }))
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const tokenBucket = (options: TokenBucketOptions = {}): Effect.Effect<RetryBudget, PolicyError> =>
  Effect.suspend(() => {
    const decoded = decodeOptions(TokenBucketPolicy, options)
    if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
    const bucket = new TokenBucket(bucketConfig(decoded.success))
    const statsUnsafe = (): Stats => ({
      strategy: "tokenBucket",
      available: bucket.tokens,
      requests: bucket.requests,
      retriesGranted: bucket.granted,
      retriesDenied: bucket.denied
    })
    const budget: RetryBudget = {
      onRequest: () => {
        bucket.requests++
      },
      onSuccess: (retried, last) => bucket.refund(retried ? isTimeout(last) : undefined),
      tryAcquire: (failure) => Effect.sync(() => bucket.tryAcquire(isTimeout(failure))),
      stats: Effect.sync(statsUnsafe),
      statsUnsafe
    }
    return Effect.succeed(withDenyNow(budget, (failure) => bucket.denyNow(isTimeout(failure))))
  })

/**
 * Options of `ratio`. Defaults are Finagle's.
 *
 * @since 0.1.0
 * @category models
 */
export interface RatioOptions {
  /** Retries allowed per request seen in the window. Default 0.1 (10 %). */
  readonly ratio?: number | undefined
  /** A reserve of retries per second of the window, so low-traffic callers can still retry. Default 10. */
  readonly minPerSecond?: number | undefined
  /** The sliding window. Default `"10 seconds"`. */
  readonly window?: Duration.Input | undefined
  /** How many buckets the window is counted in (its resolution). Default 10. */
  readonly buckets?: number | undefined
}

/**
 * A ratio budget, Finagle / SRE-book style: within the sliding `window`, retries granted stay at or
 * below `ratio × requests + minPerSecond × window seconds`. Time comes from the `Clock` of the
 * fiber that runs this constructor (so `TestClock` drives it), counted in `buckets`, O(1) per call.
 *
 * With `ratio: 0.1`, a full outage costs about 1.1 attempts per call instead of 1 + maxRetries.
 * Fails with `Policy.PolicyError` naming every bad option.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, RetryBudget } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.ratio({ ratio: 0.1, minPerSecond: 10, window: "10 seconds" })
 *   return yield* call.pipe(Retry.retry({ maxRetries: 3, budget }))
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const ratio = (options: RatioOptions = {}): Effect.Effect<RetryBudget, PolicyError> =>
  Effect.gen(function*() {
    const decoded = decodeOptions(RatioPolicy, options)
    if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
    const { buckets, minPerSecond, ratio: share } = decoded.success
    const windowMillis = Duration.toMillis(decoded.success.window)
    const clock = yield* Clock.Clock
    const reserve = minPerSecond * (windowMillis / 1000)
    // Requests are the window's calls, granted retries its failures.
    const counts = W.make({ _tag: "Time", millis: windowMillis, buckets }, clock.currentTimeMillisUnsafe()) as W.TimeWindow
    let requests = 0
    let granted = 0
    let denied = 0
    const allowed = () => share * counts.calls + reserve
    // Counts a denial when one more retry would exceed the share; otherwise changes nothing.
    const deniedAt = (now: number): boolean => {
      W.advance(counts, now)
      if (!(counts.failures + 1 > allowed())) return false
      denied++
      return true
    }
    const statsUnsafe = (): Stats => {
      W.advance(counts, clock.currentTimeMillisUnsafe())
      return {
        strategy: "ratio",
        available: Math.max(0, Math.floor(allowed() - counts.failures)),
        requests,
        retriesGranted: granted,
        retriesDenied: denied
      }
    }
    const budget: RetryBudget = {
      onRequest: () => {
        requests++
        W.add(counts, 1, 0, 0, clock.currentTimeMillisUnsafe())
      },
      onSuccess: () => {},
      tryAcquire: () =>
        Effect.sync(() => {
          const now = clock.currentTimeMillisUnsafe()
          if (deniedAt(now)) return false
          W.add(counts, 0, 1, 0, now)
          granted++
          return true
        }),
      stats: Effect.sync(statsUnsafe),
      statsUnsafe
    }
    return withDenyNow(budget, () => deniedAt(clock.currentTimeMillisUnsafe()))
  })
