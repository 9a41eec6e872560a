/**
 * Policy: resilience policies as data.
 *
 * A policy is a `Schema`: it decodes JSON, environment values or code into a validated policy with
 * the seeds' defaults, and rejects bad input with one `PolicyError` that names every bad field by
 * path. Retry and the CLI read only decoded policies.
 *
 * @since 0.1.0
 */
import { Data, Duration, Effect, Exit, Option, Schema, SchemaIssue, SchemaTransformation } from "effect"
import type { JitterMode } from "./internal/delays.ts"
import { type Kind, kinds } from "./internal/kind.ts"

const delayExpectation = "a non-negative finite duration, such as \"500 millis\", \"2 seconds\" or a number of milliseconds"

const toDelay = (input: number | string | Duration.Duration): Option.Option<Duration.Duration> => {
  const parsed = typeof input === "number"
    ? (Number.isFinite(input) ? Option.some(Duration.millis(input)) : Option.none())
    : typeof input === "string"
    ? Duration.fromInput(input.trim() as Duration.Input)
    : Option.some(input)
  return Option.filter(parsed, (d) => Duration.isFinite(d) && Duration.toMillis(d) >= 0)
}

/**
 * A delay or timeout: a string such as `"500 millis"` / `"2 seconds"`, a number of milliseconds,
 * or a `Duration`, decoded to a `Duration`. Negative, NaN and infinite values are rejected.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Delay)("1.5 seconds") // Duration of 1500 ms
 * ```
 * @since 0.1.0
 */
export const Delay: Schema.Codec<Duration.Duration, number | string | Duration.Duration> = Schema.Union([
  Schema.Number,
  Schema.String,
  Schema.Duration.annotate({ expected: delayExpectation })
])
  .annotate({ expected: delayExpectation })
  .pipe(
    Schema.decodeTo(
      Schema.Duration,
      SchemaTransformation.transformEffect<Duration.Duration, number | string | Duration.Duration>({
        decode: (input, options) =>
          Option.match(toDelay(input), {
            onNone: () => Effect.fail(new SchemaIssue.InvalidValue({ expected: delayExpectation }, input, options)),
            onSome: Effect.succeed
          }),
        encode: (duration) => Effect.succeed(Duration.toMillis(duration))
      })
    )
  )

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
 */
export const Strategy = Schema.Literals(["exponential", "linear", "fixed", "fibonacci", "decorrelated"])

/**
 * A backoff strategy name.
 *
 * @since 0.1.0
 */
export type Strategy = typeof Strategy.Type

const Ratio = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * Jitter: `"none" | "full" | "equal"`, a ratio in 0..1 (`0.1` = ±10 %), `{ ratio }`, or a boolean
 * (`true` = ±10 %, as seed 003's `Jitter: true`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Jitter)(0.2) // { ratio: 0.2 }
 * Schema.decodeUnknownSync(Policy.Jitter)(true) // { ratio: 0.1 }
 * ```
 * @since 0.1.0
 */
export const Jitter: Schema.Codec<JitterMode, "none" | "full" | "equal" | number | boolean | { readonly ratio: number }> = Schema
  .Union([
    Schema.Literals(["none", "full", "equal"]),
    Ratio,
    Schema.Boolean,
    Schema.Struct({ ratio: Ratio })
  ])
  .pipe(
    Schema.decodeTo(
      Schema.Union([Schema.Literals(["none", "full", "equal"]), Schema.Struct({ ratio: Schema.Number })]),
      SchemaTransformation.transform<JitterMode, "none" | "full" | "equal" | number | boolean | { readonly ratio: number }>({
        decode: (input) =>
          typeof input === "number"
            ? (input === 0 ? "none" : { ratio: input })
            : typeof input === "boolean"
            ? (input ? { ratio: 0.1 } : "none")
            : input,
        encode: (mode) => mode
      })
    )
  )

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
 */
export const KindSchema = Schema.Literals(kinds)

const maxBelowInitial = (initial: Duration.Duration): string =>
  `Expected maxDelay to be at least initialDelay (${Duration.format(initial)})`

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * A retry policy. Field names follow the seeds (`maxRetries`, `initialDelay`, `maxDelay`,
 * `multiplier`, `jitter`); `Policy.decode` also accepts `maxAttempts` (= retries + 1, as seeds
 * 002–004 count) and the aliases `baseDelay`, `initialBackoff`, `maxBackoff`, `backoffFactor`.
 *
 * Defaults (seed 000): 3 retries, 1 s initial delay, 30 s cap, factor 2, ±10 % jitter, exponential.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Schema.decodeUnknownSync(Policy.RetryPolicy)({ maxRetries: 5, initialDelay: "200 millis" })
 * ```
 * @since 0.1.0
 */
export const RetryPolicy = Schema.Struct({
  /** An operation name for logs, metrics and dead letters. */
  name: Schema.optionalKey(Schema.NonEmptyString),
  strategy: withDefault(Strategy, "exponential"),
  maxRetries: withDefault(NonNegativeInt, 3),
  initialDelay: withDefault(Delay, 1000),
  maxDelay: withDefault(Delay, 30_000),
  multiplier: withDefault(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1)), 2),
  /** The increment of the linear strategy (defaults to initialDelay). */
  step: Schema.optionalKey(Delay),
  jitter: withDefault(Jitter, 0.1),
  /** Wait at least as long as a server's `Retry-After` asks. */
  honorRetryAfter: withDefault(Schema.Boolean, true),
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
 */
export type RetryPolicy = typeof RetryPolicy.Type

/**
 * What a retry policy looks like before decoding (JSON, or code).
 *
 * @since 0.1.0
 */
export type RetryPolicyInput = typeof RetryPolicy.Encoded & {
  readonly maxAttempts?: number
  readonly baseDelay?: number | string
  readonly initialBackoff?: number | string
  readonly maxBackoff?: number | string
  readonly backoffFactor?: number
}

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * A rate rule's window: a whole number of calls (`100`) or a duration string (`"1 minute"`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.Window)(100) // 100 (calls)
 * ```
 * @since 0.1.0
 */
export const Window = Schema.Union([PositiveInt, Schema.String.pipe(Schema.decodeTo(Schema.Duration, SchemaTransformation.transformEffect<Duration.Duration, string>({
  decode: (input, options) =>
    Option.match(Option.filter(toDelay(input), (d) => Duration.toMillis(d) > 0), {
      onNone: () => Effect.fail(new SchemaIssue.InvalidValue({ expected: "a whole number of calls, or a positive duration such as \"1 minute\"" }, input, options)),
      onSome: Effect.succeed
    }),
  encode: (duration) => Effect.succeed(`${Duration.toMillis(duration)} millis`)
})))])

const RateRule = {
  threshold: Ratio,
  minimumCalls: Schema.optionalKey(PositiveInt),
  window: Window
}

/**
 * A circuit breaker policy: when to open (any rule that is given trips it; with none,
 * 5 consecutive failures), how long to stay open, and how to probe.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * const breaker = Schema.decodeUnknownSync(Policy.BreakerPolicy)({
 *   failureRate: { threshold: 0.5, minimumCalls: 20, window: "1 minute" },
 *   openFor: "30 seconds",
 *   halfOpen: { probes: 3 }
 * })
 * ```
 * @since 0.1.0
 */
export const BreakerPolicy = Schema.Struct({
  consecutiveFailures: Schema.optionalKey(PositiveInt),
  failureRate: Schema.optionalKey(Schema.Struct(RateRule)),
  slowCallRate: Schema.optionalKey(Schema.Struct({ ...RateRule, slowerThan: Delay })),
  openFor: withDefault(Delay, 30_000),
  /** Each consecutive opening lasts `multiplier` times longer than the last (capped by maxOpenFor). */
  openForMultiplier: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1))),
  maxOpenFor: Schema.optionalKey(Delay),
  halfOpen: Schema.optionalKey(Schema.Struct({
    probes: Schema.optionalKey(PositiveInt),
    successesToClose: Schema.optionalKey(PositiveInt)
  }))
})

/**
 * A decoded breaker policy.
 *
 * @since 0.1.0
 */
export type BreakerPolicy = typeof BreakerPolicy.Type

/**
 * A retry budget policy: AWS-SDK-style token bucket, or a ratio of recent requests (SRE book).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Policy } from "effect-resilience"
 * Schema.decodeUnknownSync(Policy.BudgetPolicy)({ type: "ratio", ratio: 0.1 })
 * ```
 * @since 0.1.0
 */
export const BudgetPolicy = Schema.Union([
  Schema.Struct({
    type: Schema.Literal("tokenBucket"),
    capacity: Schema.optionalKey(PositiveInt),
    retryCost: Schema.optionalKey(PositiveInt),
    timeoutRetryCost: Schema.optionalKey(PositiveInt),
    successRefund: Schema.optionalKey(NonNegativeInt)
  }),
  Schema.Struct({
    type: Schema.Literal("ratio"),
    ratio: Schema.optionalKey(Ratio),
    minPerSecond: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
    window: Schema.optionalKey(Delay)
  })
])

/**
 * A decoded budget policy.
 *
 * @since 0.1.0
 */
export type BudgetPolicy = typeof BudgetPolicy.Type

/**
 * A whole pipeline: bulkhead → total timeout → retry (with budget) → circuit breaker → attempt
 * timeout → hedging, with dead letters and telemetry. Omitted `retry` means seed 000's defaults;
 * `false` turns a stage off; `circuitBreaker: true` means the breaker defaults.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * const policy = Effect.runSync(Policy.decodePipeline({
 *   name: "payments",
 *   retry: { maxAttempts: 4, initialDelay: "200 millis", jitter: "full" },
 *   circuitBreaker: { consecutiveFailures: 5, openFor: "30 seconds" },
 *   budget: { type: "ratio", ratio: 0.1 },
 *   attemptTimeout: "2 seconds",
 *   timeout: "10 seconds"
 * }))
 * ```
 * @since 0.1.0
 */
export const PipelinePolicy = Schema.Struct({
  name: Schema.optionalKey(Schema.NonEmptyString),
  retry: Schema.optionalKey(Schema.Union([Schema.Literal(false), RetryPolicy])),
  circuitBreaker: Schema.optionalKey(Schema.Union([Schema.Boolean, BreakerPolicy])),
  budget: Schema.optionalKey(Schema.Union([Schema.Literal(false), BudgetPolicy])),
  /** Total time for the whole call, retries included; on expiry a Permanent Timeout. */
  timeout: Schema.optionalKey(Delay),
  /** Time for one attempt; on expiry a Transient Timeout, which may be retried. */
  attemptTimeout: Schema.optionalKey(Delay),
  bulkhead: Schema.optionalKey(Schema.Struct({
    maxConcurrent: PositiveInt,
    maxQueue: Schema.optionalKey(NonNegativeInt)
  })),
  hedge: Schema.optionalKey(Schema.Struct({
    delay: Delay,
    maxAttempts: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)))
  })),
  deadLetters: withDefault(Schema.Boolean, false),
  /** A span per protected call, with an event per retry. */
  spans: withDefault(Schema.Boolean, false),
  /**
   * Time one call in this many (1 = every call). Reading the clock twice costs about a third of a
   * bare Effect call, so by default durations are sampled; counts are always exact.
   */
  durationSampling: withDefault(PositiveInt, 8)
})

/**
 * A decoded pipeline policy.
 *
 * @since 0.1.0
 */
export type PipelinePolicy = typeof PipelinePolicy.Type

/**
 * What a pipeline policy looks like before decoding.
 *
 * @since 0.1.0
 */
export type PipelinePolicyInput = Omit<typeof PipelinePolicy.Encoded, "retry"> & {
  readonly retry?: false | RetryPolicyInput
}

/**
 * One bad field: where it is and what was expected.
 *
 * @since 0.1.0
 */
export interface PolicyIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/**
 * A policy was rejected. `issues` lists every bad field; `message` has one line per issue in the
 * form `at maxRetries: Expected an integer`.
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
 */
export class PolicyError extends Data.TaggedError("PolicyError")<{
  readonly issues: ReadonlyArray<PolicyIssue>
}> {
  override get message(): string {
    return this.issues.map((issue) => `at ${formatPath(issue.path)}: ${issue.message}`).join("\n")
  }
}

/**
 * Renders a path as `a.b[0]` (`<root>` for the empty path).
 *
 * @internal
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  if (path.length === 0) return "<root>"
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else out += out === "" ? String(segment) : `.${String(segment)}`
  }
  return out
}

const aliases: ReadonlyArray<readonly [alias: string, canonical: string]> = [
  ["baseDelay", "initialDelay"],
  ["initialBackoff", "initialDelay"],
  ["maxBackoff", "maxDelay"],
  ["backoffFactor", "multiplier"],
  ["exponentialBase", "multiplier"]
]

const showValue = (value: unknown): string => {
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value === undefined) return "undefined"
  try {
    const json = JSON.stringify(value)
    return json.length > 60 ? `${json.slice(0, 57)}...` : json
  } catch {
    return String(value)
  }
}

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current = input
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[segment]
  }
  return current
}

/**
 * Flattens a Schema issue into one `PolicyIssue` per bad field, each message ending with the value
 * that was given, so a reader of a log line can see what to fix without the input at hand.
 *
 * @internal
 */
export const toIssues = (issue: SchemaIssue.Issue, input: unknown): Array<PolicyIssue> =>
  SchemaIssue.makeFormatterStandardSchemaV1()(issue).issues.map((i) => {
    const path = (i.path ?? []).map((segment) =>
      typeof segment === "object" && segment !== null ? (segment as { key: PropertyKey }).key : segment
    )
    return { path, message: `${i.message}, got ${showValue(valueAt(input, path))}` }
  })

/**
 * Rewrites seed-style field names to the canonical ones, and `maxAttempts` to `maxRetries`,
 * reporting conflicts instead of guessing.
 */
const normalizeRetryInput = (input: unknown): { readonly value: unknown; readonly issues: Array<PolicyIssue> } => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return { value: input, issues: [] }
  const value: Record<string, unknown> = { ...(input as Record<string, unknown>) }
  const issues: Array<PolicyIssue> = []
  for (const [alias, canonical] of aliases) {
    if (alias in value) {
      if (canonical in value) issues.push({ path: [alias], message: `Give either ${alias} or ${canonical}, not both` })
      else value[canonical] = value[alias]
      delete value[alias]
    }
  }
  if ("maxAttempts" in value) {
    const attempts = value.maxAttempts
    delete value.maxAttempts
    if ("maxRetries" in value) {
      issues.push({ path: ["maxAttempts"], message: "Give either maxAttempts or maxRetries, not both" })
    } else if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 1) {
      issues.push({
        path: ["maxAttempts"],
        message: `Expected an integer of at least 1 (attempts include the first call), got ${showValue(attempts)}`
      })
    } else {
      value.maxRetries = attempts - 1
    }
  }
  return { value, issues }
}

const decodeRetryExit = Schema.decodeUnknownExit(RetryPolicy)

/**
 * Decodes a retry policy, synchronously, into either the policy or every issue found.
 *
 * @internal
 */
export const decodeRetryPolicyResult = (
  input: unknown
): { readonly _tag: "Ok"; readonly policy: RetryPolicy } | { readonly _tag: "Err"; readonly error: PolicyError } => {
  const { issues, value } = normalizeRetryInput(input)
  const exit = decodeRetryExit(value, { errors: "all" })
  if (Exit.isSuccess(exit) && issues.length === 0) return { _tag: "Ok", policy: exit.value }
  if (Exit.isFailure(exit)) {
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    if (error !== undefined && error._tag === "Fail") issues.push(...toIssues(error.error.issue, value))
    issues.push(...crossFieldIssues(value, issues))
  }
  return { _tag: "Err", error: new PolicyError({ issues: dedupe(issues) }) }
}

const decodePipelineExit = Schema.decodeUnknownExit(PipelinePolicy)

const prefixed = (prefix: PropertyKey, issues: ReadonlyArray<PolicyIssue>): Array<PolicyIssue> =>
  issues.map((issue) => ({ path: [prefix, ...issue.path], message: issue.message }))

/**
 * Decodes a pipeline policy, synchronously, into either the policy or every issue found.
 *
 * @internal
 */
export const decodePipelinePolicyResult = (
  input: unknown
): { readonly _tag: "Ok"; readonly policy: PipelinePolicy } | { readonly _tag: "Err"; readonly error: PolicyError } => {
  let value = input
  const issues: Array<PolicyIssue> = []
  const retryInput = typeof input === "object" && input !== null ? (input as { retry?: unknown }).retry : undefined
  if (typeof retryInput === "object" && retryInput !== null) {
    const normalized = normalizeRetryInput(retryInput)
    issues.push(...prefixed("retry", normalized.issues))
    value = { ...(input as object), retry: normalized.value }
  }
  const exit = decodePipelineExit(value, { errors: "all" })
  if (Exit.isSuccess(exit) && issues.length === 0) return { _tag: "Ok", policy: exit.value }
  if (Exit.isFailure(exit)) {
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    if (error !== undefined && error._tag === "Fail") issues.push(...toIssues(error.error.issue, value))
    const retryValue = (value as { retry?: unknown } | null)?.retry
    if (typeof retryValue === "object" && retryValue !== null) {
      const retryIssues = issues.filter((issue) => issue.path[0] === "retry").map((issue) => ({ ...issue, path: issue.path.slice(1) }))
      issues.push(...prefixed("retry", crossFieldIssues(retryValue, retryIssues)))
    }
  }
  return { _tag: "Err", error: new PolicyError({ issues: dedupe(issues) }) }
}

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
 */
export const decodePipeline = (input: unknown): Effect.Effect<PipelinePolicy, PolicyError> =>
  Effect.suspend(() => {
    const result = decodePipelinePolicyResult(input)
    return result._tag === "Ok" ? Effect.succeed(result.policy) : Effect.fail(result.error)
  })

// A union reports the same expectation once per member that failed the same way.
const dedupe = (issues: ReadonlyArray<PolicyIssue>): Array<PolicyIssue> => {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    const key = `${formatPath(issue.path)}\u0000${issue.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

// The struct-level check runs only when every field decodes; report it anyway when the two
// fields it compares are themselves valid, so one pass names every problem.
const crossFieldIssues = (value: unknown, found: ReadonlyArray<PolicyIssue>): Array<PolicyIssue> => {
  if (typeof value !== "object" || value === null) return []
  if (found.some((issue) => issue.path.length === 1 && issue.path[0] === "maxDelay")) return []
  const record = value as Record<string, unknown>
  const initial = toDelayUnknown(record.initialDelay ?? 1000)
  const max = toDelayUnknown(record.maxDelay ?? 30_000)
  if (initial !== undefined && max !== undefined && Duration.isLessThan(max, initial)) {
    return [{ path: ["maxDelay"], message: `${maxBelowInitial(initial)}, got ${showValue(record.maxDelay ?? 30_000)}` }]
  }
  return []
}

const toDelayUnknown = (u: unknown): Duration.Duration | undefined =>
  typeof u === "number" || typeof u === "string" || Duration.isDuration(u) ? Option.getOrUndefined(toDelay(u)) : undefined

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
 */
export const decode = (input: unknown): Effect.Effect<RetryPolicy, PolicyError> =>
  Effect.suspend(() => {
    const result = decodeRetryPolicyResult(input)
    return result._tag === "Ok" ? Effect.succeed(result.policy) : Effect.fail(result.error)
  })

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
 */
export const make = (input: RetryPolicyInput = {}): Effect.Effect<RetryPolicy, PolicyError> => decode(input)

const fromCode = (input: RetryPolicyInput): RetryPolicy => {
  const result = decodeRetryPolicyResult(input)
  if (result._tag === "Err") throw new globalThis.Error(`Invalid built-in policy: ${result.error.message}`)
  return result.policy
}

/**
 * Seed 000's defaults: 3 retries (4 attempts), 1 s initial delay, 30 s cap, factor 2, ±10 % jitter.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * Policy.defaults.maxRetries // 3
 * ```
 * @since 0.1.0
 */
export const defaults: RetryPolicy = fromCode({})

/**
 * A named, ready-made policy: the retry part plus which other guards the seeds pair it with.
 *
 * @since 0.1.0
 */
export interface Preset {
  readonly name: string
  readonly description: string
  readonly retry: RetryPolicy
  readonly circuitBreaker: boolean
  readonly deadLetters: boolean
  /** The seed that defines it. */
  readonly source: string
}

const preset = (
  name: string,
  description: string,
  source: string,
  retry: RetryPolicyInput,
  guards: { readonly circuitBreaker: boolean; readonly deadLetters: boolean }
): Preset => ({ name, description, source, retry: fromCode({ name, ...retry }), ...guards })

/**
 * Ready-made policies from the seeds: `database`, `http`, `s3`, `cache` (seed 002), `inference`
 * (seed 001's HTTP inference client, 60 s cap), `llm` (seed 000's defaults), `cloudStorage`
 * (seed 003) and `kafka` (seed 004).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, Retry } from "effect-resilience"
 * const call = Effect.fail({ status: 503 }).pipe(Retry.retry(Policy.presets.http.retry))
 * ```
 * @since 0.1.0
 */
export const presets = {
  database: preset("database", "Database calls: 3 attempts, 100 ms exponential, circuit breaker", "seed 002", {
    maxAttempts: 3,
    initialDelay: 100,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  http: preset("http", "HTTP requests: 5 attempts, 200 ms exponential with full jitter, circuit breaker", "seed 002", {
    maxAttempts: 5,
    initialDelay: 200,
    maxDelay: "30 seconds",
    jitter: "full",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  s3: preset("s3", "Object storage: 4 attempts, 500 ms exponential, dead letters", "seed 002", {
    maxAttempts: 4,
    initialDelay: 500,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: false, deadLetters: true }),
  cache: preset("cache", "Cache calls: 2 attempts, 50 ms fixed, no breaker", "seed 002", {
    maxAttempts: 2,
    initialDelay: 50,
    maxDelay: 50,
    strategy: "fixed",
    jitter: "none"
  }, { circuitBreaker: false, deadLetters: false }),
  inference: preset("inference", "HTTP inference client: 3 retries, 1 s exponential to 60 s, ±10 %", "seed 001", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "60 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  llm: preset("llm", "LLM API calls: 3 retries, 1 s exponential to 30 s, ±10 %", "seed 000", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  cloudStorage: preset("cloudStorage", "Cloud storage uploads: 3 attempts, 1 s exponential to 30 s, jittered", "seed 003", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: { ratio: 0.25 }
  }, { circuitBreaker: false, deadLetters: false }),
  kafka: preset("kafka", "Kafka publishing: 3 attempts, 1 s exponential to 10 s, ±50 %", "seed 004", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "10 seconds",
    multiplier: 2,
    jitter: { ratio: 0.5 }
  }, { circuitBreaker: true, deadLetters: false })
} as const satisfies Record<string, Preset>

/**
 * The name of a preset.
 *
 * @since 0.1.0
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
 */
export const isPresetName = (name: string): name is PresetName => Object.prototype.hasOwnProperty.call(presets, name)

/**
 * Re-exported for convenience.
 *
 * @since 0.1.0
 */
export type { Kind }
