/**
 * Retry: run an effect again while it fails with `Transient` errors, on a `Schedule`.
 *
 * Errors are classified once (`Failure`), `Permanent` ones are never retried, a server's
 * `retryAfter` hint is honoured, and interruption stops the loop at any point, also in the middle
 * of a backoff. A call that succeeds on its first attempt pays for one `Effect.catch` and nothing
 * else: the schedule, the clock and the logs are only touched once something fails.
 *
 * @since 0.1.0
 */
import { type Context, Effect } from "effect"
import type { Permanent, Transient } from "./Failure.ts"
import { PolicyError } from "./internal/policyError.ts"
import * as loop from "./internal/retry/loop.ts"
import * as plans from "./internal/retry/plan.ts"

/**
 * Why a retry loop gave up on a transient failure:
 * `"schedule"` (no retries left: count or time limit), `"predicate"` (a `while` said no),
 * `"kind"` (the policy does not retry this kind), `"budget"` (a retry budget was spent),
 * `"retryAfter"` (the server asked for a wait longer than `maxRetryAfter`, or one that would end
 * past the retry's total time limit), `"deadline"` (the next attempt could not start before the
 * call's deadline: see `Deadline`).
 *
 * @since 0.1.0
 * @category models
 */
export type ExhaustedReason = loop.ExhaustedReason

/**
 * A transient failure that was not retried any more. Carries the number of attempts made, the
 * time from the first failure to the last, the last failure, and why the loop stopped.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 * const handled = Effect.fail({ status: 503 }).pipe(
 *   Retry.retry({ maxRetries: 2, initialDelay: 10 }),
 *   Effect.catchTag("RetriesExhausted", (e) => Effect.succeed(`gave up after ${e.attempts} attempts`))
 * )
 * ```
 * @since 0.1.0
 * @category errors
 */
export const RetriesExhausted: typeof loop.RetriesExhausted = loop.RetriesExhausted

/**
 * The type of a `RetriesExhausted` failure.
 *
 * @since 0.1.0
 * @category errors
 */
export type RetriesExhausted<E> = loop.RetriesExhausted<E>

/**
 * The error type after `retry`: `Transient<X>` becomes `RetriesExhausted<X>`, `Permanent<Y>` stays,
 * any other error may become either.
 *
 * @example
 * ```ts
 * import type { Failure, Retry } from "effect-resilience"
 * type T = Retry.RetryError<Failure.Transient<"x"> | Failure.Permanent<"y">>
 * // Retry.RetriesExhausted<"x"> | Failure.Permanent<"y">
 * ```
 * @since 0.1.0
 * @category models
 */
export type RetryError<E> = E extends Transient<infer X> ? RetriesExhausted<X>
  : E extends Permanent<infer Y> ? Permanent<Y>
  : Permanent<E> | RetriesExhausted<E>

/**
 * What `onRetry` sees before each retry.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryEvent<E> = loop.RetryEvent<E>

/**
 * Options for retrying on an explicit schedule.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions<E, R = never> extends plans.ScheduleOptions<E, R> {}

/**
 * Options for retrying by a policy: any `Policy.RetryPolicy` field, plus the hooks (`classify`,
 * `while`, `onRetry`, `operation`, `log`, `budget`).
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicyOptions<E, R = never> = plans.PolicyOptions<E, R>

/**
 * The attempt number inside a retried effect: 1 on the first call, 2 on the first retry, …
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 * const call = Effect.gen(function*() {
 *   const attempt = yield* Retry.CurrentAttempt
 *   yield* Effect.log(`attempt ${attempt}`)
 * })
 * ```
 * @since 0.1.0
 * @category services
 */
export const CurrentAttempt: Context.Reference<number> = loop.CurrentAttempt

/**
 * Retries an effect while it fails with transient errors.
 *
 * Accepts either a retry policy (any `Policy.RetryPolicy` fields, with `Policy.defaults`) or
 * `{ schedule, classify?, while?, onRetry? }`. Errors are classified by `Failure.defaultClassifier`
 * unless a `classify` is given. Out come `Permanent<E>` (never retried) or `RetriesExhausted<E>`.
 *
 * A policy that fails validation makes the effect die with the `PolicyError` naming every bad
 * field (validate untrusted input first with `Policy.decode`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, Retry } from "effect-resilience"
 *
 * declare const fetchUser: Effect.Effect<string, { readonly status: number }>
 *
 * // By policy:
 * const a = fetchUser.pipe(Retry.retry({ maxRetries: 3, initialDelay: "1 second", maxDelay: "30 seconds", jitter: 0.1 }))
 *
 * // By schedule, with a custom condition:
 * const b = Retry.retry(fetchUser, {
 *   schedule: Backoff.exponential({ initial: "200 millis" }).pipe(Backoff.jittered("full"), Backoff.recurs(5)),
 *   while: (error, attempt) => error.kind !== "RateLimit" || attempt <= 3
 * })
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const retry: {
  <E, R2 = never>(
    options: RetryOptions<NoInfer<E>, R2> | RetryPolicyOptions<NoInfer<E>, R2>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, RetryError<E>, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    options: RetryOptions<NoInfer<E>, R2> | RetryPolicyOptions<NoInfer<E>, R2>
  ): Effect.Effect<A, RetryError<E>, R | R2>
} = function(this: unknown) {
  // Written out instead of `dual` so the data-last form decodes the policy once, when
  // `Retry.retry(options)` is called, not each time the result is applied to an effect.
  if (arguments.length === 1) {
    const plan = plans.planFor(arguments[0])
    return (self: Effect.Effect<unknown, unknown, unknown>) => applyPlan(self, plan)
  }
  return applyPlan(arguments[0], plans.planFor(arguments[1]))
} as typeof retry

const applyPlan = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: loop.Plan<E, R2> | PolicyError
): Effect.Effect<A, RetryError<E>, R | R2> =>
  (plan instanceof PolicyError ? Effect.die(plan) : loop.apply(self, plan)) as Effect.Effect<A, RetryError<E>, R | R2>
