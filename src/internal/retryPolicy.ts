/**
 * The retry policy's schema: strategies, jitter, kinds, and the cross-field check that names a
 * `maxDelay` below `initialDelay`. Decoded strictly by `Policy.decode` and `Retry.retry`.
 */
import { Duration, Result, Schema, SchemaTransformation } from "effect"
import { defaultMaxRetryAfterMillis, type JitterMode } from "./delays.ts"
import { bounds, Delay, type DelayInput, IntBetween, Ratio, toDuration, withDefault } from "./fields.ts"
import { kinds } from "./kind.ts"
import { type PolicyError, type PolicyIssue, prefixIssues, showValue } from "./policyError.ts"
import { decodeStrict } from "./strict.ts"

/**
 * The backoff strategies a policy can name.
 */
export const Strategy = Schema.Literals(["exponential", "linear", "fixed", "fibonacci", "decorrelated"])

/**
 * A backoff strategy name.
 */
export type Strategy = typeof Strategy.Type

/**
 * How jitter may be written.
 */
export type JitterInput =
  | "none"
  | "full"
  | "equal"
  | "multiplicative"
  | "oneSided"
  | number
  | boolean
  | { readonly ratio: number }
  | { readonly oneSided: number }

const jitterModes = ["none", "full", "equal", "multiplicative"] as const

/**
 * Jitter: `"none"`; `"full"` (`uniform(0, d)`); `"equal"` (`d/2 + uniform(0, d/2)`);
 * `"multiplicative"` (`d · (0.5 + uniform(0, 1))`, 50–150 %); a ratio in 0..1 or `{ ratio }`
 * (`0.1` = ±10 %); `"oneSided"` or `{ oneSided }` (`d + uniform(0, r·d)`, r = 0.25 for the
 * string). `true` means `"oneSided"` (`d + uniform(0, d/4)`), `false` and `0` mean `"none"`.
 */
export const Jitter: Schema.Codec<JitterMode, JitterInput> = (Schema
  .Union([
    Schema.Literals([...jitterModes, "oneSided"]),
    Ratio,
    Schema.Boolean,
    // One struct, not two: a bad `{ ratio: 2 }` then gets one message, not one per member.
    Schema.Struct({ ratio: Schema.optionalKey(Ratio), oneSided: Schema.optionalKey(Ratio) }).check(
      Schema.makeFilter((o) => ((o.ratio === undefined) !== (o.oneSided === undefined)) || "Expected exactly one of ratio, oneSided")
    )
  ])
  .pipe(
    Schema.decodeTo(
      Schema.Union([
        Schema.Literals(jitterModes),
        Schema.Struct({ ratio: Schema.Number }),
        Schema.Struct({ oneSided: Schema.Number })
      ]),
      SchemaTransformation.transform<JitterMode, any>({
        decode: (input: JitterInput): JitterMode =>
          typeof input === "number"
            ? (input === 0 ? "none" : { ratio: input })
            : typeof input === "boolean"
            ? (input ? { oneSided: 0.25 } : "none")
            : input === "oneSided"
            ? { oneSided: 0.25 }
            : typeof input === "object"
            ? (input as { readonly ratio?: number }).ratio !== undefined
              ? { ratio: (input as { readonly ratio: number }).ratio }
              : { oneSided: (input as { readonly oneSided: number }).oneSided }
            : input,
        encode: (mode) => mode
      })
    )
  )) as unknown as Schema.Codec<JitterMode, JitterInput>

/**
 * A failure kind, as a schema.
 */
export const KindSchema = Schema.Literals(kinds)

const maxBelowInitial = (initial: Duration.Duration): string =>
  `Expected maxDelay to be at least initialDelay (${Duration.format(initial)})`

const retryDefaults = { initialDelay: 1000, maxDelay: 30_000 } as const

/**
 * A retry policy. Field names: `maxRetries`, `initialDelay`, `maxDelay`, `multiplier`, `jitter`,
 * … Other systems' spellings are aliases (`maxAttempts` = retries + 1, `max_attempts`,
 * `initialBackoff`, `baseDelay`, `initial_delay`, `maxBackoff`, `backoffFactor`,
 * `exponentialBase`, `jitterFraction`, `jitterType`, …; see `Policy.aliases`).
 *
 * Defaults: 3 retries, 1 s initial delay, 30 s cap, factor 2, ±10 % jitter, exponential, a
 * server's `Retry-After` honoured up to 5 minutes. `maxRetries` is at most 1000.
 */
export const RetryPolicy = Schema.Struct({
  /** An operation name for logs, metrics and dead letters. */
  name: Schema.optionalKey(Schema.NonEmptyString),
  strategy: withDefault(Strategy, "exponential"),
  maxRetries: withDefault(IntBetween(0, bounds.retries), 3),
  initialDelay: withDefault(Delay, retryDefaults.initialDelay),
  maxDelay: withDefault(Delay, retryDefaults.maxDelay),
  multiplier: withDefault(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1)), 2),
  /** The increment of the linear strategy (defaults to initialDelay). */
  step: Schema.optionalKey(Delay),
  jitter: withDefault(Jitter, 0.1),
  /** Wait at least as long as a server's `Retry-After` asks. */
  honorRetryAfter: withDefault(Schema.Boolean, true),
  /** The longest `Retry-After` hint that is waited for: a longer one ends the retries at once (reason `"retryAfter"`). */
  maxRetryAfter: withDefault(Delay, defaultMaxRetryAfterMillis),
  /** Total time for all attempts and delays; retries that would end later are not started. */
  timeout: Schema.optionalKey(Delay),
  /** Retry only transient failures of these kinds. */
  retryOn: Schema.optionalKey(Schema.Array(KindSchema)),
  /** Never retry failures of these kinds, even when transient. */
  neverRetryOn: Schema.optionalKey(Schema.Array(KindSchema)),
  /** The verdict for errors the classifier does not recognise. */
  unknownErrors: withDefault(Schema.Literals(["Transient", "Permanent"]), "Permanent")
}).check(Schema.makeFilter((policy) =>
  Duration.isLessThan(policy.maxDelay, policy.initialDelay)
    ? { path: ["maxDelay"], issue: maxBelowInitial(policy.initialDelay) }
    : undefined
))

/**
 * A decoded retry policy.
 */
export type RetryPolicy = typeof RetryPolicy.Type

/**
 * What a retry policy looks like before decoding (JSON, or code). Aliases are accepted too.
 */
export type RetryPolicyInput = typeof RetryPolicy.Encoded & {
  readonly maxAttempts?: number
  readonly baseDelay?: DelayInput
  readonly initialBackoff?: DelayInput
  readonly maxBackoff?: DelayInput
  readonly backoffFactor?: number
  readonly exponentialBase?: number
  readonly jitterFraction?: number
}

/**
 * The struct's own check runs only once every field decodes; this reports it anyway when the two
 * fields it compares are themselves valid, so one pass names every problem.
 */
export const retryCross = (value: unknown): Array<PolicyIssue> => {
  if (typeof value !== "object" || value === null) return []
  const record = value as Record<string, unknown>
  const initial = toDuration(record.initialDelay ?? retryDefaults.initialDelay)
  const max = toDuration(record.maxDelay ?? retryDefaults.maxDelay)
  if (initial === undefined || max === undefined || !Duration.isFinite(max) || !Duration.isFinite(initial)) return []
  if (Duration.toMillis(initial) < 0 || Duration.toMillis(max) < 0) return []
  return Duration.isLessThan(max, initial)
    ? [{ path: ["maxDelay"], message: `${maxBelowInitial(initial)}, got ${showValue(record.maxDelay ?? retryDefaults.maxDelay)}` }]
    : []
}


/** Decodes a retry policy, synchronously. */
export const decodeRetryResult = (input: unknown): Result.Result<RetryPolicy, PolicyError> =>
  decodeStrict(RetryPolicy, input, { cross: retryCross })

/** A pipeline policy's cross-field checks: its retry part's, under `retry`. */
export const pipelineCross = (value: unknown): Array<PolicyIssue> => {
  const retry = typeof value === "object" && value !== null ? (value as { retry?: unknown }).retry : undefined
  return typeof retry === "object" && retry !== null ? prefixIssues(["retry"], retryCross(retry)) : []
}
