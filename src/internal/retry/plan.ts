/**
 * Retry options → a `Plan` for the loop: the policy form is decoded strictly once per options
 * object (cached), the schedule form is checked for its one data field.
 */
import { Duration, type Effect, Result, Schedule, Schema } from "effect"
import { fromPolicy } from "../schedules.ts"
import { type Classified, type Classifier, makeClassifier, resolveClassifier, type Transient } from "../verdicts.ts"
import type { Budget } from "../../RetryBudget.ts"
import { type RetryPolicy, RetryPolicy as RetryPolicySchema, type RetryPolicyInput, retryCross } from "../retryPolicy.ts"
import type { Kind } from "../kind.ts"
import { PolicyError } from "../policyError.ts"
import { decodeOptions } from "../strict.ts"
import type { Plan, RetryEvent } from "./loop.ts"

/** The hooks of retry options (public as part of `Retry.RetryOptions`). */
export interface Hooks<E, R> {
  /** A partial classifier; errors it returns `undefined` for go to the default one. */
  readonly classify?: Classifier<E> | undefined
  /** Retry only while this holds (a custom condition). `attempt` is the attempt that failed. */
  readonly while?: ((error: Transient<E>, attempt: number) => boolean | Effect.Effect<boolean, never, R>) | undefined
  /** Runs before each retry's sleep. */
  readonly onRetry?: ((event: RetryEvent<E>) => Effect.Effect<void, never, R>) | undefined
  /** The operation name in logs and events. Default `"operation"` (a policy's `name`, if it has one). */
  readonly operation?: string | undefined
  /** Log retries (Warn), success after retries (Info) and giving up (Error). Default `true`. */
  readonly log?: boolean | undefined
  /** A retry budget shared with other calls; a denied retry ends the loop with reason `"budget"`. */
  readonly budget?: Budget | undefined
}

/** Retry options on an explicit schedule (`Retry.RetryOptions`). */
export interface ScheduleOptions<E, R> extends Hooks<E, R> {
  /** The backoff: its input is the `Transient` failure being retried. */
  readonly schedule: Schedule.Schedule<unknown, Transient<E>, never, R>
  /** For logs: the most attempts the schedule allows, if known. */
  readonly maxAttempts?: number | undefined
  /** Wait at least the failure's `retryAfter`. Default `true`. */
  readonly honorRetryAfter?: boolean | undefined
  /**
   * The longest server hint (`retryAfter`) worth waiting for. A longer one ends the retries at
   * once with reason `"retryAfter"` instead of sleeping. Default 5 minutes.
   */
  readonly maxRetryAfter?: Duration.Input | undefined
}

/** Retry options by policy (`Retry.RetryPolicyOptions`). */
export type PolicyOptions<E, R> = RetryPolicyInput & Hooks<E, R>

type Options<E, R> = ScheduleOptions<E, R> | PolicyOptions<E, R>

const isScheduleOptions = <E, R>(u: Options<E, R>): u is ScheduleOptions<E, R> =>
  "schedule" in u && Schedule.isSchedule((u as ScheduleOptions<E, R>).schedule)

// Everything else in policy-form options is a policy field, decoded strictly (an unknown key is
// an error naming the nearest field).
const hookKeys = ["classify", "while", "onRetry", "operation", "log", "budget"] as const

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

const makePlan = <E, R>(input: Options<E, R>): Plan<E, R> | PolicyError => {
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
      onRecovered: undefined,
      operation: input.operation ?? "operation",
      maxAttempts: input.maxAttempts,
      honorRetryAfter,
      checkHints: honorRetryAfter,
      maxRetryAfterMillis,
      totalLimitMillis: undefined,
      log: input.log ?? true,
      budget: input.budget
    }
  }
  const decoded = decodeOptions(RetryPolicySchema, input, hookKeys, { cross: retryCross })
  if (Result.isFailure(decoded)) return decoded.failure
  return fromDecoded(decoded.success, input)
}

/** The plan for a decoded retry policy and the hooks that go with it. */
export const fromDecoded = <E, R>(
  policy: RetryPolicy,
  hooks: Hooks<E, R> & { readonly onRecovered?: Plan<E, R>["onRecovered"] }
): Plan<E, R> => {
  const fallback = makeClassifier({ unknown: policy.unknownErrors })
  const custom = hooks.classify
  return {
    // Backoff.fromPolicy already stretches delays to Retry-After when the policy says so.
    schedule: fromPolicy(policy),
    // Without a classifier of the user's, the default one itself (a failure asks it once per call).
    classify: custom === undefined ? fallback as (error: E) => Classified<E> : (error: E) => custom(error) ?? fallback(error) as Classified<E>,
    allowKind: kindFilter(policy),
    while: hooks.while,
    onRetry: hooks.onRetry,
    onRecovered: hooks.onRecovered,
    operation: hooks.operation ?? policy.name ?? "operation",
    maxAttempts: policy.maxRetries + 1,
    honorRetryAfter: false,
    checkHints: policy.honorRetryAfter,
    maxRetryAfterMillis: Duration.toMillis(policy.maxRetryAfter),
    totalLimitMillis: policy.timeout === undefined ? undefined : Duration.toMillis(policy.timeout),
    log: hooks.log ?? true,
    budget: hooks.budget,
    firstRetryAllowed: firstRetryAllowed(policy)
  }
}

/**
 * The policy's schedule (`Backoff.fromPolicy`) allows a first retry for a failure without a hint:
 * it recurs `maxRetries` times, and its time limit, if any, holds the first delay (at most
 * `maxDelay`, doubled for the largest jitter).
 */
const firstRetryAllowed = (policy: RetryPolicy): boolean =>
  policy.maxRetries >= 1 &&
  (policy.timeout === undefined || 2 * Duration.toMillis(policy.maxDelay) <= Duration.toMillis(policy.timeout))

/** The plan for retry options (decoded once per options object). */
export const planFor = <E, R>(input: Options<E, R>): Plan<E, R> | PolicyError => {
  const cached = planCache.get(input)
  if (cached !== undefined) return cached
  const plan = makePlan(input)
  planCache.set(input, plan)
  return plan
}
