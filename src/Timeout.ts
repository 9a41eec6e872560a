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
import { Data, Duration, Effect, type Exit } from "effect"
import { dual } from "effect/Function"
import { Permanent, Transient } from "./Failure.ts"
import { boundedBy, settingDeadline } from "./internal/deadline.ts"
import { PolicyError } from "./internal/policyError.ts"
import { durationArgument } from "./internal/strict.ts"
import { timeoutOrElse } from "./internal/timer.ts"
import { failExit, shared } from "./internal/traceless.ts"

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
  /**
   * Which bound expired: one attempt's, the whole call's, or the call's deadline (set by an
   * enclosing total timeout or by the caller's time-left header), which cut the bound short.
   */
  readonly scope: "attempt" | "total" | "deadline"
}> {
  override get message(): string {
    const what = this.scope === "attempt" ? "Attempt timed out" : this.scope === "total" ? "Call timed out" : "Deadline reached"
    return `${what} after ${Duration.format(this.duration)}`
  }
}

// Both bounds: interrupt `self` after `input` and fail with the verdict `timedOut` builds. An invalid
// duration (read by the same rule as a policy's `timeout` / `attemptTimeout` fields) makes the
// effect die with a PolicyError (a combinator has no error channel of its own).
const bounded = <A, E, R, F>(
  self: Effect.Effect<A, E, R>,
  input: Duration.Input,
  timedOut: (duration: Duration.Duration) => F
): Effect.Effect<A, E | F, R> => {
  const duration = durationArgument(input)
  if (duration instanceof PolicyError) return Effect.die(duration)
  return timeoutOrElse(self, duration, () => Effect.fail(timedOut(duration)))
}

// Either bound inside the call's deadline (internal/deadline.ts). The timer is built once; per call
// the deadline is read (a timer is armed anyway), and only one sooner than the bound replaces it
// with the time left, expiring as scope "deadline". A total timeout sets the deadline it enforces.
const withinDeadline = <A, E, R, F>(
  self: Effect.Effect<A, E, R>,
  input: Duration.Input,
  setsDeadline: boolean,
  timedOut: (duration: Duration.Duration) => F
): Effect.Effect<A, E | F | Permanent<TimeoutExceeded>, R> => {
  const duration = durationArgument(input)
  if (duration instanceof PolicyError) return Effect.die(duration)
  const millis = Duration.toMillis(duration)
  const own = bounded(setsDeadline ? settingDeadline(self, millis) : self, duration, timedOut)
  return boundedBy<A, E | F | Permanent<TimeoutExceeded>, R>(own, millis, (left) =>
    // No time left before the deadline: what cannot finish is never started.
    left <= 0 ? noTimeLeft() : bounded(self, Duration.millis(left), deadlinePassed))
}

let noTimeLeftError: Permanent<TimeoutExceeded> | undefined

// No time left: every such attempt fails with the same error, true for each (duration zero, scope
// "deadline", kind "Timeout"), so it is made once, frozen and shared with its exit; its stack is
// only `TimeoutExceeded: <message>` (a trace would point at whichever call came first).
const noTimeLeft = (): Exit.Exit<never, Permanent<TimeoutExceeded>> => {
  if (noTimeLeftError === undefined) {
    const error = new TimeoutExceeded({ duration: Duration.zero, scope: "deadline" })
    Object.defineProperty(error, "stack", { value: `TimeoutExceeded: ${error.message}`, enumerable: false, configurable: true })
    noTimeLeftError = shared(new Permanent({ error: Object.freeze(error), kind: "Timeout" }))
  }
  return failExit(noTimeLeftError)
}

// A bound cut short by the deadline is the caller's time running out: nothing retries it.
const deadlinePassed = (duration: Duration.Duration) =>
  new Permanent({ error: new TimeoutExceeded({ duration, scope: "deadline" }), kind: "Timeout" })

/**
 * What `attempt` fails with: its own bound expired (`Transient`, retried), or the call's deadline
 * came first (`Permanent` with scope `"deadline"`: the caller's time is up).
 *
 * @since 0.1.0
 * @category errors
 */
export type AttemptTimedOut = Transient<TimeoutExceeded> | Permanent<TimeoutExceeded>

/**
 * Bounds one attempt: past `duration` the effect is interrupted and fails with
 * `Failure.Transient<TimeoutExceeded>` of kind `"Timeout"`, which `Retry` retries. Put it inside
 * the retry. An invalid duration makes the effect die with a `Policy.PolicyError`.
 *
 * Inside a call with a deadline (a `total` around it, `Deadline.within`, or an HTTP server's
 * time-left header) the bound is `min(duration, time left)`. When the deadline is what cuts the
 * attempt short, it fails with a `Permanent` of scope `"deadline"`; with no time left at all the
 * attempt is not started.
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
  (duration: Duration.Input): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | AttemptTimedOut, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, duration: Duration.Input): Effect.Effect<A, E | AttemptTimedOut, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, input: Duration.Input): Effect.Effect<A, E | AttemptTimedOut, R> =>
  withinDeadline(self, input, false, (duration) =>
    new Transient({ error: new TimeoutExceeded({ duration, scope: "attempt" }), kind: "Timeout", retryAfter: undefined })))

/**
 * Bounds a whole call, retries and backoff included: past `duration` everything inside is
 * interrupted and the call fails with `Failure.Permanent<TimeoutExceeded>` of kind `"Timeout"`,
 * which nothing retries. Put it outside the retry. An invalid duration makes the effect die with a
 * `Policy.PolicyError`.
 *
 * It also sets the call's deadline (see `Deadline`): attempt timeouts inside are cut to the time
 * left, the retry loop does not start an attempt past it, and `effect-resilience/http` sends it to
 * the next service. Inside an earlier deadline, that one bounds the call (scope `"deadline"`).
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
  withinDeadline(self, input, true, (duration) => new Permanent({ error: new TimeoutExceeded({ duration, scope: "total" }), kind: "Timeout" })))
