/**
 * Deadline: the time past which nobody waits for a call's answer, seen by everything inside it.
 *
 * `Timeout.total` (and so a pipeline's `timeout`) sets it; an `effect-resilience/http` server
 * middleware sets it from the caller's time-left header. Inside, `Timeout.attempt` bounds an attempt
 * by `min(its duration, time left)`, the retry loop never starts an attempt past it (it ends with
 * reason `"deadline"`), and `effect-resilience/http` clients send the time left to the next service.
 * The deadline is an absolute time on the `Clock`, so it is exact under `TestClock`.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option } from "effect"
import { dual } from "effect/Function"
import * as internal from "./internal/deadline.ts"
import { PolicyError } from "./internal/policyError.ts"
import { durationArgument } from "./internal/strict.ts"

/**
 * The current call's deadline as `Clock` milliseconds, `undefined` for none. Provide it to set a
 * deadline by hand (prefer `within`, which keeps an earlier inherited deadline).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Deadline } from "effect-resilience"
 * const at = Effect.gen(function*() {
 *   return yield* Deadline.CurrentDeadline // number | undefined
 * })
 * ```
 * @since 0.1.0
 * @category references
 */
export const CurrentDeadline = internal.CurrentDeadline

/**
 * The time left before the current deadline (zero once it has passed), or `None` without one.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Deadline } from "effect-resilience"
 * const budget = Deadline.remaining.pipe(Effect.map(Option.getOrElse(() => "no deadline")))
 * ```
 * @since 0.1.0
 * @category getters
 */
export const remaining: Effect.Effect<Option.Option<Duration.Duration>> = Effect.map(
  internal.remainingMillis,
  (left) => left === undefined ? Option.none() : Option.some(Duration.millis(Math.max(0, left)))
)

/**
 * Gives `self` a deadline `duration` from now, or keeps the inherited one when it is sooner. It
 * arms no timer: it only tells what runs inside how long it has (use `Timeout.total` to enforce it).
 * An invalid duration makes the effect die with a `Policy.PolicyError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Deadline, Timeout } from "effect-resilience"
 * declare const call: Effect.Effect<string>
 * // Each attempt gets min(2 s, time left before the 5 s deadline).
 * const bounded = call.pipe(Timeout.attempt("2 seconds"), Deadline.within("5 seconds"))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const within: {
  (duration: Duration.Input): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, duration: Duration.Input): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, duration: Duration.Input): Effect.Effect<A, E, R> => {
  const decoded = durationArgument(duration)
  if (decoded instanceof PolicyError) return Effect.die(decoded)
  return internal.settingDeadline(self, Duration.toMillis(decoded))
})
