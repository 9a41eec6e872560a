/**
 * Backoff: retry delays as Effect `Schedule`s.
 *
 * Every constructor returns a plain `Schedule`, so backoffs compose with Effect's own combinators
 * (`Schedule.upTo`, `Schedule.while`, `Schedule.min`, …) and drive `Effect.retry` as well as
 * `Retry.retry`. Randomness comes only from `Random` and time only from `Clock`, so a seeded
 * `Random` and `TestClock` make every delay reproducible.
 *
 * Formulas (k = retry number, 1-based): exponential `initial·factor^(k-1)`; linear
 * `initial + (k-1)·step`; fibonacci `initial·fib(k)`; decorrelated
 * `min(max, uniform(initial, previous·3))`; jitter full `uniform(0, d)`, equal
 * `d/2 + uniform(0, d/2)`, multiplicative `d·(0.5 + uniform(0, 1))`, ratio `d·uniform(1-r, 1+r)`,
 * one-sided `d + uniform(0, r·d)`, applied after the cap.
 *
 * @since 0.1.0
 */
import * as schedules from "./internal/schedules.ts"

/**
 * Exponential backoff: `initial · factor^(k-1)` (factor defaults to 2). Unbounded: combine with
 * `capped` and `recurs`.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }) // 1s, 2s, 4s, 8s, …
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const exponential: typeof schedules.exponential = schedules.exponential

/**
 * Linear backoff: `initial + (k-1) · step` (step defaults to initial).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.linear({ initial: "100 millis" }) // 100, 200, 300, … ms
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const linear: typeof schedules.linear = schedules.linear

/**
 * The same delay before every retry.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fixed("50 millis") // 50, 50, 50, … ms
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const fixed: typeof schedules.fixed = schedules.fixed

/**
 * Fibonacci backoff: `initial · fib(k)`, i.e. 1, 1, 2, 3, 5, … times initial.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fibonacci({ initial: "100 millis" }) // 100, 100, 200, 300, 500 ms
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const fibonacci: typeof schedules.fibonacci = schedules.fibonacci

/**
 * Decorrelated jitter (Brooker, AWS 2015): each delay is `min(max, uniform(initial, previous · 3))`,
 * starting from `previous = initial`. Random by construction, so `jittered` is not needed.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.decorrelated({ initial: "100 millis", max: "10 seconds" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const decorrelated: typeof schedules.decorrelated = schedules.decorrelated

/**
 * How delays are randomised: `"none"`, `"full"` (`uniform(0, d)`), `"equal"`
 * (`d/2 + uniform(0, d/2)`), `"multiplicative"` (`d · (0.5 + uniform(0, 1))`), `{ ratio }`
 * (`d · uniform(1 - ratio, 1 + ratio)`) or `{ oneSided }` (`d + uniform(0, oneSided · d)`).
 *
 * @since 0.1.0
 * @category models
 */
export type JitterMode = schedules.JitterMode

/**
 * Randomises a schedule's delays. Apply it after `capped` so the cap does not swallow the jitter
 * (300 s capped, ±20 % gives 240–360 s).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(
 *   Backoff.capped("30 seconds"),
 *   Backoff.jittered({ ratio: 0.1 })
 * )
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const jittered: typeof schedules.jittered = schedules.jittered

/**
 * Caps every delay at `max`.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(Backoff.capped("30 seconds"))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const capped: typeof schedules.capped = schedules.capped

/**
 * Allows at most `n` retries (so at most `n + 1` attempts).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fixed("1 second").pipe(Backoff.recurs(3)) // 3 retries
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const recurs: typeof schedules.recurs = schedules.recurs

/**
 * Stops once the next retry would start later than `total` after the first failure: a retry is
 * only scheduled when the time spent so far plus its delay fits in the budget.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(Backoff.within("10 seconds"))
 * // 1s, 2s, 4s (7 s in all); the next (8 s) would end at 15 s, so it stops
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const within: typeof schedules.within = schedules.within

/**
 * Like `honorRetryAfter`, with the longest hint worth waiting for: a failure whose hint is above
 * `max` ends the schedule instead of becoming a sleep the caller never allowed.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "100 millis" }).pipe(Backoff.honorRetryAfterUpTo("1 minute"))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const honorRetryAfterUpTo: typeof schedules.honorRetryAfterUpTo = schedules.honorRetryAfterUpTo

/**
 * Makes each delay `max(computed, retryAfter)`, where `retryAfter` is the hint carried by the
 * failure being retried (`Failure.Transient`'s field, set from `Retry-After` headers). A hint
 * above 5 minutes ends the schedule (see `honorRetryAfterUpTo` for another limit).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "100 millis" }).pipe(Backoff.honorRetryAfter)
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const honorRetryAfter: typeof schedules.honorRetryAfter = schedules.honorRetryAfter

/**
 * The schedule a retry policy describes: the strategy's delays, capped at `maxDelay`, then
 * jittered, then stretched to honour `Retry-After` (ending on a hint above `maxRetryAfter`),
 * limited to `maxRetries` retries and, if set, to the policy's `timeout`.
 *
 * @example
 * ```ts
 * import { Backoff, Policy } from "effect-resilience"
 * const schedule = Backoff.fromPolicy(Policy.defaults) // 1s, 2s, 4s ±10 %, 3 retries
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const fromPolicy: typeof schedules.fromPolicy = schedules.fromPolicy

/**
 * The first `n` delays a schedule produces (fewer if it stops earlier), stepping it by hand with a
 * virtual clock that advances by each delay. Jittered schedules draw from the current `Random`:
 * provide a seeded one for reproducible output.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 * const ms = Effect.runSync(Backoff.delays(Backoff.exponential({ initial: 100 }), 4)).map(Duration.toMillis)
 * // [100, 200, 400, 800]
 * ```
 * @since 0.1.0
 * @category utils
 */
export const delays: typeof schedules.delays = schedules.delays
