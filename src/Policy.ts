/**
 * Policy: resilience policies as data.
 *
 * A policy is a `Schema`, composed from the options schemas each guard declares next to itself
 * (`Bulkhead.BulkheadPolicy`, `Hedge.HedgePolicy`, `RetryBudget.BudgetPolicy`,
 * `CircuitBreaker.BreakerPolicy`, and the retry policy here). Decoding is strict: an unknown field
 * is an error naming the nearest known one, other systems' spellings (`max_attempts`,
 * `initialBackoff`, `exponential_base`, …) are read through one alias table, and every bad field
 * of a document is reported in one `PolicyError`. Code constructors decode through the same
 * schemas, so code and data accept and reject the same values.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Result, Schema, SchemaTransformation } from "effect"
import { BulkheadPolicy } from "./Bulkhead.ts"
import { BreakerPolicy, WindowSchema } from "./CircuitBreaker.ts"
import { PipelineLetters } from "./DeadLetter.ts"
import { HedgePolicy } from "./Hedge.ts"
import { defaultMaxRetryAfterMillis, type JitterMode } from "./internal/delays.ts"
import { bounds, Delay as DelaySchema, type DelayInput, IntBetween, Ratio, toDuration, withDefault } from "./internal/fields.ts"
import { type Kind, kinds } from "./internal/kind.ts"
import {
  formatPath as formatPath_,
  normalizeKey,
  PolicyError as PolicyError_,
  type PolicyIssue as PolicyIssue_,
  prefixIssues,
  showValue
} from "./internal/policyError.ts"
import { advice as advice_, aliases as aliases_, decodeStrict, leaves as leaves_, mergeInto } from "./internal/strict.ts"
import { BudgetPolicy } from "./RetryBudget.ts"

/**
 * One bad field: where it is and what was expected.
 *
 * @since 0.1.0
 * @category errors
 */
export type PolicyIssue = PolicyIssue_

/**
 * A policy was rejected. `issues` lists every bad field; `message` has one line per issue in the
 * form `at retry.initalDelay: unknown field — did you mean initialDelay?`. Every guard's
 * constructor fails with it too.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const program = Policy.decode({ maxRetries: -1 }).pipe(
 *   Effect.catchTag("PolicyError", (e) => Effect.succeed(e.issues.map((i) => i.path.join("."))))
 * )
 * ```
 * @since 0.1.0
 * @category errors
 */
export const PolicyError = PolicyError_

/**
 * A rejected policy.
 *
 * @since 0.1.0
 * @category errors
 */
export type PolicyError = PolicyError_

/**
 * Renders a path as `a.b[0]` (`<root>` for the empty path).
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.formatPath(["retry", "retryOn", 1]) // "retry.retryOn[1]"
 * ```
 * @since 0.1.0
 * @category errors
 */
export const formatPath = formatPath_

/**
 * A delay or timeout: a number of milliseconds, Effect's `"500 millis"` / `"2 seconds"`, the
 * short forms `"500ms"`, `"1.5s"`, `"2m30s"`, `"1h"`, or a `Duration`, decoded to a `Duration`.
 * Negative, NaN and infinite values, and strings without a unit, are rejected.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Delay)("1.5s") // Duration of 1500 ms
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const Delay: Schema.Codec<Duration.Duration, DelayInput> = DelaySchema

/**
 * A rate rule's window: a whole number of calls (`100`) or a duration (`"1 minute"`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Window)(100) // 100 (calls)
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const Window = WindowSchema

/**
 * The backoff strategies a policy can name.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Strategy)("fibonacci") // "fibonacci"
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const Strategy = Schema.Literals(["exponential", "linear", "fixed", "fibonacci", "decorrelated"])

/**
 * A backoff strategy name.
 *
 * @since 0.1.0
 * @category schemas
 */
export type Strategy = typeof Strategy.Type

/**
 * How jitter may be written.
 *
 * @since 0.1.0
 * @category schemas
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
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Jitter)(0.2) // { ratio: 0.2 }
 * Schema.decodeUnknownSync(Policy.Jitter)(true) // { oneSided: 0.25 }
 * ```
 * @since 0.1.0
 * @category schemas
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
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.KindSchema)("RateLimit") // "RateLimit"
 * ```
 * @since 0.1.0
 * @category schemas
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
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Schema.decodeUnknownSync(Policy.RetryPolicy)({ maxRetries: 5, initialDelay: "200 millis" })
 * ```
 * @since 0.1.0
 * @category schemas
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
 *
 * @since 0.1.0
 * @category schemas
 */
export type RetryPolicy = typeof RetryPolicy.Type

/**
 * What a retry policy looks like before decoding (JSON, or code). Aliases are accepted too.
 *
 * @since 0.1.0
 * @category schemas
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
 *
 * @internal
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

/**
 * A retry budget policy: AWS-SDK-style token bucket, or a ratio of recent requests.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.BudgetPolicy)({ type: "ratio", ratio: 0.1 })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export { BudgetPolicy }

/**
 * A circuit breaker policy (see `CircuitBreaker.BreakerPolicy`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.BreakerPolicy)({ consecutiveFailures: 5, openFor: "30s" })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export { BreakerPolicy }

/**
 * A whole pipeline: bulkhead → total timeout → retry (with budget) → circuit breaker → attempt
 * timeout → hedging, with dead letters and telemetry. Omitted `retry` means the retry defaults;
 * `false` turns a stage off; `circuitBreaker: true` means the breaker defaults.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Effect.runSync(Policy.decodePipeline({
 *   name: "payments",
 *   retry: { maxAttempts: 4, initialDelay: "200ms", jitter: "full" },
 *   circuitBreaker: { consecutiveFailures: 5, openFor: "30s" },
 *   budget: { type: "ratio", ratio: 0.1 },
 *   attemptTimeout: "2s",
 *   timeout: "10s"
 * }))
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const PipelinePolicy = Schema.Struct({
  name: Schema.optionalKey(Schema.NonEmptyString),
  /** What the policy is for, in words (shown by `explain`). */
  description: Schema.optionalKey(Schema.String),
  retry: Schema.optionalKey(Schema.Union([Schema.Literal(false), RetryPolicy])),
  circuitBreaker: Schema.optionalKey(Schema.Union([Schema.Boolean, BreakerPolicy])),
  budget: Schema.optionalKey(Schema.Union([Schema.Literal(false), BudgetPolicy])),
  /** Total time for the whole call, retries included; on expiry a Permanent Timeout. */
  timeout: Schema.optionalKey(Delay),
  /** Time for one attempt; on expiry a Transient Timeout, which may be retried. */
  attemptTimeout: Schema.optionalKey(Delay),
  bulkhead: Schema.optionalKey(BulkheadPolicy),
  hedge: Schema.optionalKey(HedgePolicy),
  /**
   * Keep a dead letter of each call that fails for good (in the `DeadLetter.DeadLetters` service):
   * `true`, or `{ rejected: true }` to keep letters of calls an open circuit or a full bulkhead
   * rejected too.
   */
  deadLetters: withDefault(Schema.Union([Schema.Boolean, PipelineLetters]), false),
  /**
   * Call tags (`execute(effect, { tags })`) that become metric attributes. Other tags still reach
   * dead letters and log annotations, but not metrics, so the series stay bounded.
   */
  tags: Schema.optionalKey(Schema.Array(Schema.NonEmptyString)),
  /** A span per protected call, with an event per retry. */
  spans: withDefault(Schema.Boolean, false),
  /**
   * Time one call in this many (1 = every call). Reading the clock twice costs about a third of a
   * bare Effect call, so by default durations are sampled; counts are always exact.
   */
  durationSampling: withDefault(IntBetween(1, bounds.size), 8)
})

/**
 * A decoded pipeline policy.
 *
 * @since 0.1.0
 * @category schemas
 */
export type PipelinePolicy = typeof PipelinePolicy.Type

/**
 * What a pipeline policy looks like before decoding.
 *
 * @since 0.1.0
 * @category schemas
 */
export type PipelinePolicyInput = Omit<typeof PipelinePolicy.Encoded, "retry"> & {
  readonly retry?: false | RetryPolicyInput
}

const pipelineCross = (value: unknown): Array<PolicyIssue> => {
  const retry = typeof value === "object" && value !== null ? (value as { retry?: unknown }).retry : undefined
  return typeof retry === "object" && retry !== null ? prefixIssues(["retry"], retryCross(retry)) : []
}

/**
 * Decodes a retry policy, synchronously.
 *
 * @internal
 */
export const decodeRetryResult = (input: unknown): Result.Result<RetryPolicy, PolicyError> =>
  decodeStrict(RetryPolicy, input, { cross: retryCross })

/**
 * Decodes a pipeline policy, synchronously.
 *
 * @internal
 */
export const decodePipelineResult = (input: unknown): Result.Result<PipelinePolicy, PolicyError> =>
  decodeStrict(PipelinePolicy, input, { cross: pipelineCross })

const toEffect = <A>(result: Result.Result<A, PolicyError>): Effect.Effect<A, PolicyError> =>
  Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(result.failure)

/**
 * Decodes and validates a pipeline policy (retry, breaker, budget, timeouts, bulkhead, hedging,
 * dead letters). Fails with a `PolicyError` naming every bad field, e.g. `at retry.maxRetries`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Effect.runSync(Policy.decodePipeline({ retry: { maxRetries: 2 }, circuitBreaker: true }))
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodePipeline = (input: unknown): Effect.Effect<PipelinePolicy, PolicyError> =>
  Effect.suspend(() => toEffect(decodePipelineResult(input)))

/**
 * Decodes and validates a retry policy from unknown input (JSON, env, code). Fails with a
 * `PolicyError` naming every bad field.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Effect.runSync(Policy.decode({ maxAttempts: 5, initialDelay: "200 millis", jitter: "full" }))
 * policy.maxRetries // 4
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown): Effect.Effect<RetryPolicy, PolicyError> =>
  Effect.suspend(() => toEffect(decodeRetryResult(input)))

/**
 * Builds a retry policy from typed code input, filling the defaults. Values the types cannot rule
 * out (a negative number, say) fail with a `PolicyError`, as with `decode`.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * const policy = Policy.make({ maxRetries: 5, initialDelay: "200 millis" })
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const make = (input: RetryPolicyInput = {}): Effect.Effect<RetryPolicy, PolicyError> => decode(input)

const fromCode = (input: RetryPolicyInput): RetryPolicy => {
  const result = decodeRetryResult(input)
  if (Result.isFailure(result)) throw new globalThis.Error(`Invalid built-in policy: ${result.failure.message}`)
  return result.success
}

/**
 * The retry defaults: 3 retries (4 attempts), 1 s initial delay, 30 s cap, factor 2, ±10 % jitter.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.defaults.maxRetries // 3
 * ```
 * @since 0.1.0
 * @category presets
 */
export const defaults: RetryPolicy = fromCode({})

/**
 * A named, ready-made policy: the retry part plus which other guards it is paired with. It is a
 * pipeline policy, so it can be passed to `Resilience.make` or spread and overridden.
 *
 * @since 0.1.0
 * @category presets
 */
export interface Preset {
  readonly name: string
  readonly description: string
  readonly retry: RetryPolicy
  readonly circuitBreaker: boolean
  readonly deadLetters: boolean
}

const preset = (
  name: string,
  description: string,
  retry: RetryPolicyInput,
  guards: { readonly circuitBreaker: boolean; readonly deadLetters: boolean }
): Preset => ({ name, description, retry: fromCode({ name, ...retry }), ...guards })

/**
 * Ready-made policies: `database`, `http`, `s3`, `cache`, `inference` (an HTTP inference client,
 * 60 s cap), `llm` (the retry defaults), `cloudStorage` (one-sided jitter: `d + uniform(0, d/4)`)
 * and `kafka` (multiplicative jitter: `d · (0.5 + uniform(0, 1))`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, Retry } from "effect-resilience"
 * const call = Effect.fail({ status: 503 }).pipe(Retry.retry(Policy.presets.http.retry))
 * ```
 * @since 0.1.0
 * @category presets
 */
export const presets = {
  database: preset("database", "Database calls: 3 attempts, 100 ms exponential, circuit breaker", {
    maxAttempts: 3,
    initialDelay: 100,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  http: preset("http", "HTTP requests: 5 attempts, 200 ms exponential with full jitter, circuit breaker", {
    maxAttempts: 5,
    initialDelay: 200,
    maxDelay: "30 seconds",
    jitter: "full",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  s3: preset("s3", "Object storage: 4 attempts, 500 ms exponential, dead letters", {
    maxAttempts: 4,
    initialDelay: 500,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: false, deadLetters: true }),
  cache: preset("cache", "Cache calls: 2 attempts, 50 ms fixed, no breaker", {
    maxAttempts: 2,
    initialDelay: 50,
    maxDelay: 50,
    strategy: "fixed",
    jitter: "none"
  }, { circuitBreaker: false, deadLetters: false }),
  inference: preset("inference", "HTTP inference client: 3 retries, 1 s exponential to 60 s, ±10 %", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "60 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  llm: preset("llm", "LLM API calls: 3 retries, 1 s exponential to 30 s, ±10 %", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  cloudStorage: preset("cloudStorage", "Cloud storage uploads: 3 attempts, 1 s exponential to 30 s, +0-25 % jitter", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: "oneSided"
  }, { circuitBreaker: false, deadLetters: false }),
  kafka: preset("kafka", "Kafka publishing: 3 attempts, 1 s exponential to 10 s, 50-150 % jitter", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "10 seconds",
    multiplier: 2,
    jitter: "multiplicative"
  }, { circuitBreaker: true, deadLetters: false })
} as const satisfies Record<string, Preset>

/**
 * The name of a preset.
 *
 * @since 0.1.0
 * @category presets
 */
export type PresetName = keyof typeof presets

/**
 * Is this string a preset name?
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.isPresetName("http") // true
 * ```
 * @since 0.1.0
 * @category presets
 */
export const isPresetName = (name: string): name is PresetName => Object.prototype.hasOwnProperty.call(presets, name)

/**
 * Every alias a field accepts, by the field's own name: decoding, `layerConfig`, the docs and
 * `explain` read this one table. Field names also match ignoring case, `_` and `-`
 * (`max_retries`, `MaxRetries`).
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.aliases.initialDelay?.flatMap((a) => a.names) // ["baseDelay", "initialBackoff", "initialInterval"]
 * ```
 * @since 0.1.0
 * @category aliases
 */
export const aliases = aliases_

/**
 * Settings of other retry libraries that have no field here, with what to do instead; an error
 * for such a field carries this advice.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.advice.customConditions // "conditions are code: pass Retry.retry's `while` option"
 * ```
 * @since 0.1.0
 * @category aliases
 */
export const advice = advice_

/**
 * Every field a pipeline policy reaches, as paths (`["retry", "maxRetries"]`), with the spellings
 * its last segment accepts. `layerConfig` derives its variable names from this list.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.fields().some((f) => f.path.join(".") === "circuitBreaker.halfOpen.probes") // true
 * ```
 * @since 0.1.0
 * @category aliases
 */
export const fields = (): ReadonlyArray<{ readonly path: ReadonlyArray<string>; readonly names: ReadonlyArray<string> }> =>
  leaves_(PipelinePolicy.ast)

/**
 * A document of named pipeline policies, decoded: its entries in order.
 *
 * @since 0.1.0
 * @category decoding
 */
export type Document = ReadonlyArray<readonly [name: string, policy: PipelinePolicy]>

/**
 * Starts a pipeline policy from a preset when it names one (`{ preset: "http", retry: { maxRetries: 5 } }`):
 * the preset's fields, overridden field by field (nested objects merge, and an alias overrides
 * the field it stands for: `maxAttempts` replaces the preset's `maxRetries`).
 *
 * @internal
 */
export const resolvePreset = (input: unknown): { readonly value: unknown; readonly issues: Array<PolicyIssue> } => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { value: input, issues: [] }
  const key = Object.keys(input).find((k) => normalizeKey(k) === "preset")
  if (key === undefined) return { value: input, issues: [] }
  const { [key]: name, ...rest } = input as Record<string, unknown>
  if (typeof name !== "string" || !isPresetName(name)) {
    return {
      value: rest,
      issues: [{ path: [key], message: `Expected one of ${Object.keys(presets).join(", ")}, got ${showValue(name)}` }]
    }
  }
  return { value: mergeInto(PipelinePolicy.ast, presets[name], rest), issues: [] }
}

/**
 * Decodes a document of named pipeline policies (`{ "http": {…}, "payments": { "preset": "http" } }`),
 * each of which may start from a preset. Every bad field of every policy is reported at once,
 * prefixed with the policy's name. Any name is a name, `__proto__` included.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const doc = Effect.runSync(Policy.decodeDocument({ http: { preset: "http" }, db: { retry: { maxRetries: 1 } } }))
 * doc.map(([name]) => name) // ["http", "db"]
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeDocument = (input: unknown): Effect.Effect<Document, PolicyError> =>
  Effect.suspend(() => toEffect(decodeDocumentResult(input)))

/**
 * `decodeDocument`, synchronously.
 *
 * @internal
 */
export const decodeDocumentResult = (input: unknown): Result.Result<Document, PolicyError> => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Result.fail(new PolicyError({ issues: [{ path: [], message: `Expected an object of named policies, got ${showValue(input)}` }] }))
  }
  return decodeEntriesResult(Object.keys(input).map((name) => [name, (input as Record<string, unknown>)[name]] as const))
}

/**
 * Decodes named policies given as entries (so that any name, `__proto__` included, stays a name).
 *
 * @internal
 */
export const decodeEntriesResult = (
  entries: ReadonlyArray<readonly [name: string, input: unknown]>
): Result.Result<Document, PolicyError> => {
  const issues: Array<PolicyIssue> = []
  const out: Array<readonly [string, PipelinePolicy]> = []
  const seen = new Set<string>()
  for (const [name, input] of entries) {
    if (name.trim() === "") {
      issues.push({ path: [name], message: "Expected a policy name that is not empty" })
      continue
    }
    if (seen.has(name)) {
      issues.push({ path: [name], message: "Expected each policy name once" })
      continue
    }
    seen.add(name)
    const resolved = resolvePreset(input)
    issues.push(...prefixIssues([name], resolved.issues))
    const decoded = decodePipelineResult(resolved.value)
    if (Result.isFailure(decoded)) issues.push(...prefixIssues([name], decoded.failure.issues))
    else out.push([name, decoded.success])
  }
  return issues.length > 0 ? Result.fail(new PolicyError({ issues })) : Result.succeed(out)
}

/**
 * Re-exported for convenience.
 *
 * @since 0.1.0
 */
export type { Kind }
