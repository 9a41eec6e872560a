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
import { Clock, Context, Data, Duration, Effect, Pull, Result, Schedule, Schema } from "effect"
import { fromPolicy, retryAfterOf } from "./Backoff.ts"
import {
  type Classified,
  type Classifier,
  describe,
  type Kind,
  makeClassifier,
  type Permanent,
  resolveClassifier,
  type Transient
} from "./Failure.ts"
import { type BreakerOpen, type CircuitBreaker, closedPathUnsafe } from "./CircuitBreaker.ts"
import { fuse } from "./internal/fused.ts"
import { PolicyError } from "./internal/policyError.ts"
import { decodeOptions } from "./internal/strict.ts"
import { type RetryPolicy, RetryPolicy as RetryPolicySchema, type RetryPolicyInput, retryCross } from "./Policy.ts"

/**
 * Why a retry loop gave up on a transient failure:
 * `"schedule"` (no retries left: count or time limit), `"predicate"` (a `while` said no),
 * `"kind"` (the policy does not retry this kind), `"budget"` (a retry budget was spent),
 * `"retryAfter"` (the server asked for a wait longer than `maxRetryAfter`, or one that would end
 * past the retry's total time limit).
 *
 * @since 0.1.0
 */
export type ExhaustedReason = "schedule" | "predicate" | "kind" | "budget" | "retryAfter"

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
 */
export class RetriesExhausted<out E> extends Data.TaggedError("RetriesExhausted")<{
  readonly attempts: number
  readonly elapsed: Duration.Duration
  readonly last: Transient<E>
  readonly reason: ExhaustedReason
  /** With reason `"retryAfter"`: the wait the server asked for, which the policy did not allow. */
  readonly retryAfter?: Duration.Duration | undefined
}> {
  override get message(): string {
    const why = this.reason === "retryAfter" && this.retryAfter !== undefined
      ? `retryAfter: the server asked to wait ${Duration.format(this.retryAfter)}, longer than allowed`
      : this.reason
    return `Gave up after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"} (${why}): ${this.last.message}`
  }
}

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
 */
export type RetryError<E> = E extends Transient<infer X> ? RetriesExhausted<X>
  : E extends Permanent<infer Y> ? Permanent<Y>
  : Permanent<E> | RetriesExhausted<E>

/**
 * What `onRetry` sees before each retry.
 *
 * @since 0.1.0
 */
export interface RetryEvent<E> {
  readonly operation: string
  /** The attempt that just failed (1 = the first call). */
  readonly attempt: number
  readonly maxAttempts: number | undefined
  readonly delay: Duration.Duration
  readonly error: Transient<E>
}

/**
 * A retry budget as the retry loop sees it: a shared allowance that caps how much retrying all
 * calls of a policy may do together, so retries cannot multiply the load of an outage.
 * `RetryBudget` builds these; any object of this shape works.
 *
 * @since 0.1.0
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
 * Options for retrying on an explicit schedule.
 *
 * @since 0.1.0
 */
export interface RetryOptions<E, R = never> {
  /** The backoff: its input is the `Transient` failure being retried. */
  readonly schedule: Schedule.Schedule<unknown, Transient<E>, never, R>
  /** A partial classifier; errors it returns `undefined` for go to the default one. */
  readonly classify?: Classifier<E> | undefined
  /** Retry only while this holds (seed 002's custom conditions). `attempt` is the attempt that failed. */
  readonly while?: ((error: Transient<E>, attempt: number) => boolean | Effect.Effect<boolean, never, R>) | undefined
  /** Runs before each retry's sleep. */
  readonly onRetry?: ((event: RetryEvent<E>) => Effect.Effect<void, never, R>) | undefined
  /** The operation name in logs and events. Default `"operation"`. */
  readonly operation?: string | undefined
  /** For logs: the most attempts the schedule allows, if known. */
  readonly maxAttempts?: number | undefined
  /** Wait at least the failure's `retryAfter`. Default `true`. */
  readonly honorRetryAfter?: boolean | undefined
  /**
   * The longest server hint (`retryAfter`) worth waiting for. A longer one ends the retries at
   * once with reason `"retryAfter"` instead of sleeping. Default 5 minutes.
   */
  readonly maxRetryAfter?: Duration.Input | undefined
  /** Log retries (Warn), success after retries (Info) and giving up (Error). Default `true`. */
  readonly log?: boolean | undefined
  /** A retry budget shared with other calls; a denied retry ends the loop with reason `"budget"`. */
  readonly budget?: Budget | undefined
  /**
   * A circuit breaker every attempt goes through (retry outside, breaker inside), fused into the
   * retry's own frame: cheaper than `Retry.retry(breaker.execute(effect))`. An open circuit's
   * `BreakerOpen` is a Permanent `CircuitOpen` failure, so it ends the retries.
   */
  readonly breaker?: CircuitBreaker | undefined
}

/**
 * Options for retrying by a policy: any `Policy.RetryPolicy` field, plus the hooks.
 *
 * @since 0.1.0
 */
export type RetryPolicyOptions<E, R = never> =
  & RetryPolicyInput
  & Omit<RetryOptions<E, R>, "schedule" | "maxAttempts" | "honorRetryAfter">

/**
 * Retry options that name a circuit breaker: the error type then includes `BreakerOpen`.
 *
 * @since 0.1.0
 */
export type WithBreaker<O> = O & { readonly breaker: CircuitBreaker }

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
 */
export const CurrentAttempt: Context.Reference<number> = Context.Reference<number>(
  "effect-resilience/Retry/CurrentAttempt",
  { defaultValue: () => 1 }
)

interface Plan<E, R> {
  readonly schedule: Schedule.Schedule<unknown, Transient<E>, never, R>
  readonly classify: (error: E) => Classified<E>
  readonly allowKind: ((kind: Kind) => boolean) | undefined
  readonly while: RetryOptions<E, R>["while"]
  readonly onRetry: RetryOptions<E, R>["onRetry"]
  readonly operation: string
  readonly maxAttempts: number | undefined
  readonly honorRetryAfter: boolean
  /** Hints are waited for (by the loop or by the schedule), so they are checked against the limits. */
  readonly checkHints: boolean
  readonly maxRetryAfterMillis: number
  /** The retry's own total time limit (a policy's `timeout`), when it has one. */
  readonly totalLimitMillis: number | undefined
  readonly log: boolean
  readonly budget: Budget | undefined
  readonly breaker: CircuitBreaker | undefined
}

const isScheduleOptions = <E, R>(u: RetryOptions<E, R> | RetryPolicyOptions<E, R> | RetryPolicy): u is RetryOptions<E, R> =>
  "schedule" in u && Schedule.isSchedule((u as RetryOptions<E, R>).schedule)

// Everything else in policy-form options is a policy field, decoded strictly (an unknown key is
// an error naming the nearest field).
const hookKeys = ["classify", "while", "onRetry", "operation", "log", "budget", "breaker"] as const

/**
 * A decoded retry configuration, ready to drive the loop.
 *
 * @internal
 */
export type RetryPlan<E, R> = Plan<E, R>

const planCache = new WeakMap<object, Plan<any, any> | PolicyError>()

const kindFilter = (policy: RetryPolicy): ((kind: Kind) => boolean) | undefined => {
  const only = policy.retryOn
  const never = policy.neverRetryOn
  if (only === undefined && never === undefined) return undefined
  return (kind) => (only === undefined || only.includes(kind)) && (never === undefined || !never.includes(kind))
}

// The schedule form has no policy to decode, but its hint cap is the policy's field, read the same way.
const HintCap = Schema.Struct({ maxRetryAfter: RetryPolicySchema.fields.maxRetryAfter })

/** `maxRetryAfter` of schedule-form options in milliseconds (the policy's default when absent). */
const maxRetryAfterOf = (input: unknown): number | PolicyError => {
  const decoded = decodeOptions(HintCap, { maxRetryAfter: input })
  return Result.isFailure(decoded) ? decoded.failure : Duration.toMillis(decoded.success.maxRetryAfter)
}

const makePlan = <E, R>(input: RetryOptions<E, R> | RetryPolicyOptions<E, R>): Plan<E, R> | PolicyError => {
  if (isScheduleOptions(input)) {
    const maxRetryAfterMillis = maxRetryAfterOf(input.maxRetryAfter)
    if (maxRetryAfterMillis instanceof PolicyError) return maxRetryAfterMillis
    const honorRetryAfter = input.honorRetryAfter ?? true
    return {
      schedule: input.schedule,
      classify: resolveClassifier(input.classify),
      allowKind: undefined,
      while: input.while,
      onRetry: input.onRetry,
      operation: input.operation ?? "operation",
      maxAttempts: input.maxAttempts,
      honorRetryAfter,
      checkHints: honorRetryAfter,
      maxRetryAfterMillis,
      totalLimitMillis: undefined,
      log: input.log ?? true,
      budget: input.budget,
      breaker: input.breaker
    }
  }
  const decoded = decodeOptions(RetryPolicySchema, input, hookKeys, { cross: retryCross })
  if (Result.isFailure(decoded)) return decoded.failure
  const policy = decoded.success
  const hintCap = Duration.toMillis(policy.maxRetryAfter)
  const fallback = makeClassifier({ unknown: policy.unknownErrors })
  const custom = input.classify
  return {
    // Backoff.fromPolicy already stretches delays to Retry-After when the policy says so.
    schedule: fromPolicy(policy),
    classify: (error: E) => {
      const verdict = custom === undefined ? undefined : custom(error)
      return verdict ?? fallback(error) as Classified<E>
    },
    allowKind: kindFilter(policy),
    while: input.while,
    onRetry: input.onRetry,
    operation: input.operation ?? policy.name ?? "operation",
    maxAttempts: policy.maxRetries + 1,
    honorRetryAfter: false,
    checkHints: policy.honorRetryAfter,
    maxRetryAfterMillis: hintCap,
    totalLimitMillis: policy.timeout === undefined ? undefined : Duration.toMillis(policy.timeout),
    log: input.log ?? true,
    budget: input.budget,
    breaker: input.breaker
  }
}

/**
 * The plan for retry options (decoded once per options object).
 *
 * @internal
 */
export const planFor = <E, R>(input: RetryOptions<E, R> | RetryPolicyOptions<E, R>): Plan<E, R> | PolicyError => {
  const cached = planCache.get(input)
  if (cached !== undefined) return cached
  const plan = makePlan(input)
  planCache.set(input, plan)
  return plan
}

const annotations = (
  plan: Plan<any, any>,
  attempt: number,
  error: Transient<unknown> | undefined,
  extra: Record<string, unknown> = {}
): Record<string, unknown> => ({
  operation: plan.operation,
  attempt,
  ...(plan.maxAttempts === undefined ? {} : { maxAttempts: plan.maxAttempts }),
  ...(error === undefined ? {} : { error: describe(error.error), kind: error.kind }),
  ...extra
})

const exhausted = <E>(
  plan: Plan<E, any>,
  attempts: number,
  firstFailureAt: number,
  now: number,
  last: Transient<E>,
  reason: ExhaustedReason,
  retryAfter?: Duration.Duration
): Effect.Effect<never, RetriesExhausted<E>> => {
  const error = new RetriesExhausted({
    attempts,
    elapsed: Duration.millis(now - firstFailureAt),
    last,
    reason,
    ...(retryAfter === undefined ? {} : { retryAfter })
  })
  if (!plan.log) return Effect.fail(error)
  const hint = retryAfter === undefined ? {} : { retryAfterMs: Duration.toMillis(retryAfter) }
  return Effect.logError(`All retry attempts exhausted for ${plan.operation}`).pipe(
    Effect.annotateLogs(annotations(plan, attempts, last, { attempts, reason, ...hint })),
    Effect.andThen(Effect.fail(error))
  )
}

/** A hint above the cap, or one whose wait would end past the total time limit, is not waited for. */
const hintRefused = (plan: Plan<any, any>, hintMillis: number, elapsedMillis: number): boolean =>
  !(hintMillis <= plan.maxRetryAfterMillis) ||
  (plan.totalLimitMillis !== undefined && elapsedMillis + hintMillis > plan.totalLimitMillis)

/**
 * The slow path: entered on the first transient failure, it builds the schedule's state and drives it.
 */
const retryLoop = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2>,
  first: Transient<E>
): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const step = yield* Schedule.toStep(plan.schedule)
    const firstFailureAt = clock.currentTimeMillisUnsafe()
    let last = first
    let attempt = 1
    while (true) {
      if (plan.allowKind !== undefined && !plan.allowKind(last.kind)) {
        return yield* exhausted(plan, attempt, firstFailureAt, clock.currentTimeMillisUnsafe(), last, "kind")
      }
      if (plan.while !== undefined) {
        const verdict = plan.while(last, attempt)
        const go = typeof verdict === "boolean" ? verdict : yield* verdict
        if (!go) return yield* exhausted(plan, attempt, firstFailureAt, clock.currentTimeMillisUnsafe(), last, "predicate")
      }
      const now = clock.currentTimeMillisUnsafe()
      const hint = plan.checkHints ? retryAfterOf(last) : undefined
      if (hint !== undefined && hintRefused(plan, Duration.toMillis(hint), now - firstFailureAt)) {
        // Checked before the schedule, so a hint never becomes a sleep the policy did not allow.
        return yield* exhausted(plan, attempt, firstFailureAt, now, last, "retryAfter", hint)
      }
      const next = yield* Pull.catchDone(step(now, last), () => Effect.succeed(undefined))
      if (next === undefined) return yield* exhausted(plan, attempt, firstFailureAt, now, last, "schedule")
      let delay = next[1]
      if (plan.honorRetryAfter && hint !== undefined) delay = Duration.max(delay, hint)
      if (plan.budget !== undefined && !(yield* plan.budget.tryAcquire(last))) {
        return yield* exhausted(plan, attempt, firstFailureAt, now, last, "budget")
      }
      if (plan.log) {
        yield* Effect.logWarning(`Retrying ${plan.operation} after error`).pipe(
          Effect.annotateLogs(annotations(plan, attempt, last, { delayMs: Duration.toMillis(delay) }))
        )
      }
      if (plan.onRetry !== undefined) {
        yield* plan.onRetry({ operation: plan.operation, attempt, maxAttempts: plan.maxAttempts, delay, error: last })
      }
      yield* Effect.sleep(delay)
      attempt++
      const result = yield* Effect.result(Effect.provideService(self, CurrentAttempt, attempt))
      if (result._tag === "Success") {
        plan.budget?.onSuccess(true, last)
        if (plan.log) {
          yield* Effect.logInfo(`Retry succeeded for ${plan.operation}`).pipe(
            Effect.annotateLogs(annotations(plan, attempt, undefined, { retries: attempt - 1 }))
          )
        }
        return result.success
      }
      const verdict = plan.classify(result.failure)
      if (verdict._tag === "Permanent") return yield* Effect.fail(verdict)
      last = verdict
    }
  })

/**
 * Retries an effect while it fails with transient errors.
 *
 * Accepts either a retry policy (any `Policy.RetryPolicy` fields, defaults from seed 000) or
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
 * // By policy (seed 000's fields):
 * const a = fetchUser.pipe(Retry.retry({ maxRetries: 3, initialDelay: "1 second", maxDelay: "30 seconds", jitter: 0.1 }))
 *
 * // By schedule, with a custom condition:
 * const b = Retry.retry(fetchUser, {
 *   schedule: Backoff.exponential({ initial: "200 millis" }).pipe(Backoff.jittered("full"), Backoff.recurs(5)),
 *   while: (error, attempt) => error.kind !== "RateLimit" || attempt <= 3
 * })
 * ```
 * @since 0.1.0
 */
export const retry: {
  <E, R2 = never>(
    options: WithBreaker<RetryOptions<NoInfer<E | BreakerOpen>, R2> | RetryPolicyOptions<NoInfer<E | BreakerOpen>, R2>>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, RetryError<E | BreakerOpen>, R | R2>
  <E, R2 = never>(
    options: RetryOptions<NoInfer<E>, R2> | RetryPolicyOptions<NoInfer<E>, R2>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, RetryError<E>, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    options: WithBreaker<RetryOptions<NoInfer<E | BreakerOpen>, R2> | RetryPolicyOptions<NoInfer<E | BreakerOpen>, R2>>
  ): Effect.Effect<A, RetryError<E | BreakerOpen>, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    options: RetryOptions<NoInfer<E>, R2> | RetryPolicyOptions<NoInfer<E>, R2>
  ): Effect.Effect<A, RetryError<E>, R | R2>
} = function(this: unknown) {
  // Written out instead of `dual` so the data-last form decodes the policy once, when
  // `Retry.retry(options)` is called, not each time the result is applied to an effect.
  if (arguments.length === 1) {
    const plan = planFor(arguments[0])
    return (self: Effect.Effect<unknown, unknown, unknown>) => applyPlan(self, plan)
  }
  return applyPlan(arguments[0], planFor(arguments[1]))
} as typeof retry

/**
 * Continues after a call's first failure: a `Permanent` fails at once, a `Transient` enters the
 * retry loop, which runs `self` for the next attempts. The budget's per-call hooks (`onRequest`,
 * first-try `onSuccess`) are the caller's business here; the loop still asks it for each retry.
 *
 * @internal
 */
export const resume = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2>,
  error: E
): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => {
  const verdict = plan.classify(error)
  return verdict._tag === "Permanent" ? Effect.fail(verdict) : retryLoop(self, plan, verdict)
}

const never = () => false

const applyPlan = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2> | PolicyError
): Effect.Effect<A, RetryError<E>, R | R2> => {
  if (plan instanceof PolicyError) return Effect.die(plan)
  if (plan.breaker !== undefined) {
    return fuse(self, {
      breaker: plan.breaker,
      closed: closedPathUnsafe(plan.breaker),
      budget: plan.budget,
      resume: (next, error) => resume(next, plan as Plan<unknown, never>, error),
      observer: undefined,
      shouldTime: never
    }) as Effect.Effect<A, RetryError<E>, R | R2>
  }
  const loop = (error: E): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => resume(self, plan, error)
  const budget = plan.budget
  if (budget === undefined) return Effect.catch(self, loop) as Effect.Effect<A, RetryError<E>, R | R2>
  const counted = Effect.map(self, (a) => {
    budget.onSuccess(false)
    return a
  })
  return Effect.suspend(() => {
    budget.onRequest()
    return Effect.catch(counted, loop)
  }) as Effect.Effect<A, RetryError<E>, R | R2>
}
