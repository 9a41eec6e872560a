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
import { Duration, Effect, Result, Schema } from "effect"
import { BulkheadPolicy } from "./Bulkhead.ts"
import { BreakerPolicy, WindowSchema } from "./CircuitBreaker.ts"
import { PipelineLetters } from "./DeadLetter.ts"
import { HedgePolicy } from "./Hedge.ts"
import { bounds, Delay as DelaySchema, type DelayInput, IntBetween, withDefault } from "./internal/fields.ts"
import {
  formatPath as formatPath_,
  PolicyError as PolicyError_,
  type PolicyIssue as PolicyIssue_
} from "./internal/policyError.ts"
import { advice as advice_, aliases as aliases_, decodeStrict, leaves as leaves_ } from "./internal/strict.ts"
import { documentDecoder } from "./internal/document.ts"
import * as presets_ from "./internal/presets.ts"
import * as retryPolicy from "./internal/retryPolicy.ts"
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
export const Strategy: typeof retryPolicy.Strategy = retryPolicy.Strategy

/**
 * A backoff strategy name.
 *
 * @since 0.1.0
 * @category schemas
 */
export type Strategy = retryPolicy.Strategy

/**
 * How jitter may be written.
 *
 * @since 0.1.0
 * @category schemas
 */
export type JitterInput = retryPolicy.JitterInput

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
export const Jitter: typeof retryPolicy.Jitter = retryPolicy.Jitter

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
export const KindSchema: typeof retryPolicy.KindSchema = retryPolicy.KindSchema

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
export const RetryPolicy: typeof retryPolicy.RetryPolicy = retryPolicy.RetryPolicy

/**
 * A decoded retry policy.
 *
 * @since 0.1.0
 * @category schemas
 */
export type RetryPolicy = retryPolicy.RetryPolicy

/**
 * What a retry policy looks like before decoding (JSON, or code). Aliases are accepted too.
 *
 * @since 0.1.0
 * @category schemas
 */
export type RetryPolicyInput = retryPolicy.RetryPolicyInput

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

/**
 * Decodes a retry policy synchronously: `decode` as a `Result`.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { Policy } from "effect-resilience"
 * Result.isSuccess(Policy.decodeRetryResult({ maxRetries: 2 })) // true
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeRetryResult: (input: unknown) => Result.Result<RetryPolicy, PolicyError> = retryPolicy.decodeRetryResult

/**
 * Decodes a pipeline policy synchronously: `decodePipeline` as a `Result`.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { Policy } from "effect-resilience"
 * Result.isFailure(Policy.decodePipelineResult({ retry: { maxRetries: -1 } })) // true
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodePipelineResult = (input: unknown): Result.Result<PipelinePolicy, PolicyError> =>
  decodeStrict(PipelinePolicy, input, { cross: retryPolicy.pipelineCross })

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
 * const policy = Policy.makeRetry({ maxRetries: 5, initialDelay: "200 millis" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makeRetry = (input: RetryPolicyInput = {}): Effect.Effect<RetryPolicy, PolicyError> => decode(input)

/**
 * The old name of `makeRetry`.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * const policy = Policy.makeRetry({ maxRetries: 5 }) // rather than Policy.make
 * ```
 * @deprecated Use `makeRetry`: it builds a retry policy, not a pipeline.
 * @since 0.1.0
 * @category constructors
 */
export const make: (input?: RetryPolicyInput) => Effect.Effect<RetryPolicy, PolicyError> = makeRetry

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
export const defaults: typeof presets_.defaults = presets_.defaults

/**
 * A named, ready-made policy: the retry part plus which other guards it is paired with. It is a
 * pipeline policy, so it can be passed to `Resilience.make` or spread and overridden.
 *
 * @since 0.1.0
 * @category presets
 */
export type Preset = presets_.Preset

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
export const presets: typeof presets_.presets = presets_.presets

/**
 * The name of a preset.
 *
 * @since 0.1.0
 * @category presets
 */
export type PresetName = presets_.PresetName

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
export const isPresetName: typeof presets_.isPresetName = presets_.isPresetName

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

const documents = documentDecoder(PipelinePolicy.ast, decodePipelineResult, presets)

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
 * Decodes a document of named pipeline policies synchronously: `decodeDocument` as a `Result`.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import { Policy } from "effect-resilience"
 * Result.isSuccess(Policy.decodeDocumentResult({ http: { preset: "http" } })) // true
 * ```
 * @since 0.1.0
 * @category decoding
 */
export const decodeDocumentResult = (input: unknown): Result.Result<Document, PolicyError> => documents.decodeDocument(input)
