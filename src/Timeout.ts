/**
 * Timeout: bounds on how long one attempt, or a whole call with its retries, may take.
 *
 * `attempt` fails a slow attempt with a `Transient` of kind `"Timeout"` (so `Retry` tries again);
 * `total` fails with a `Permanent` of kind `"Timeout"` (so nothing tries again: the caller's time
 * is up). Either way the slow effect is interrupted, which aborts the `AbortSignal` of an
 * `Effect.tryPromise`, so the underlying request is cancelled too.
 *
 * @since 0.1.0
 */
import { Data, Duration, Effect, Result } from "effect"
import { dual } from "effect/Function"
import { Permanent, Transient } from "./Failure.ts"
import { Delay } from "./internal/fields.ts"
import { PolicyError, prefixIssues } from "./internal/policyError.ts"
import { decodeStrict } from "./internal/strict.ts"
import { timeoutOrElse } from "./internal/timer.ts"

/**
 * The error inside the `Transient`/`Permanent` that a timeout fails with.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Timeout } from "effect-resilience"
 * const error = new Timeout.TimeoutExceeded({ duration: Duration.seconds(2), scope: "attempt" })
 * error.message // "Attempt timed out after 2s"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class TimeoutExceeded extends Data.TaggedError("TimeoutExceeded")<{
  readonly duration: Duration.Duration
  /** Which bound expired: one attempt's, or the whole call's. */
  readonly scope: "attempt" | "total"
}> {
  override get message(): string {
    return `${this.scope === "attempt" ? "Attempt" : "Call"} timed out after ${Duration.format(this.duration)}`
  }
}

// The same rule as a policy's `timeout` / `attemptTimeout` fields.
const validDuration = (input: Duration.Input): Duration.Duration | PolicyError => {
  const decoded = decodeStrict(Delay, input)
  return Result.isSuccess(decoded)
    ? decoded.success
    : new PolicyError({ issues: prefixIssues(["duration"], decoded.failure.issues) })
}

// Both bounds: interrupt `self` after `input` and fail with the verdict `timedOut` builds. An invalid
// duration makes the effect die with a PolicyError (a combinator has no error channel of its own).
const bounded = <A, E, R, F>(
  self: Effect.Effect<A, E, R>,
  input: Duration.Input,
  timedOut: (duration: Duration.Duration) => F
): Effect.Effect<A, E | F, R> => {
  const duration = validDuration(input)
  if (duration instanceof PolicyError) return Effect.die(duration)
  return timeoutOrElse(self, duration, () => Effect.fail(timedOut(duration)))
}

/**
 * Bounds one attempt: past `duration` the effect is interrupted and fails with
 * `Failure.Transient<TimeoutExceeded>` of kind `"Timeout"`, which `Retry` retries. Put it inside
 * the retry. An invalid duration makes the effect die with a `Policy.PolicyError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, Timeout } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, { readonly status: number }>
 *
 * const guarded = call.pipe(Timeout.attempt("2 seconds"), Retry.retry({ maxRetries: 3 }))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const attempt: {
  (duration: Duration.Input): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transient<TimeoutExceeded>, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, duration: Duration.Input): Effect.Effect<A, E | Transient<TimeoutExceeded>, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, input: Duration.Input): Effect.Effect<A, E | Transient<TimeoutExceeded>, R> =>
  bounded(self, input, (duration) =>
    new Transient({ error: new TimeoutExceeded({ duration, scope: "attempt" }), kind: "Timeout", retryAfter: undefined })))

/**
 * Bounds a whole call, retries and backoff included: past `duration` everything inside is
 * interrupted and the call fails with `Failure.Permanent<TimeoutExceeded>` of kind `"Timeout"`,
 * which nothing retries. Put it outside the retry. An invalid duration makes the effect die with a
 * `Policy.PolicyError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, Timeout } from "effect-resilience"
 *
 * declare const upload: Effect.Effect<void, { readonly code: string }>
 *
 * // 5 minutes for the whole operation, 30 s per attempt
 * const guarded = upload.pipe(
 *   Timeout.attempt("30 seconds"),
 *   Retry.retry({ maxRetries: 4, initialDelay: "500 millis" }),
 *   Timeout.total("5 minutes")
 * )
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const total: {
  (duration: Duration.Input): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Permanent<TimeoutExceeded>, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, duration: Duration.Input): Effect.Effect<A, E | Permanent<TimeoutExceeded>, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, input: Duration.Input): Effect.Effect<A, E | Permanent<TimeoutExceeded>, R> =>
  bounded(self, input, (duration) => new Permanent({ error: new TimeoutExceeded({ duration, scope: "total" }), kind: "Timeout" })))
