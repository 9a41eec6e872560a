/**
 * Resilience: a policy, written once as data, turned into a pipeline and provided by a `Layer`.
 *
 * A pipeline applies, from the outside in: bulkhead → total timeout → retry (with budget) →
 * circuit breaker → attempt timeout → hedging. Dead letters and telemetry see every call on the
 * way out. `Resilience.layer` provides named pipelines as the `Policies` service, and
 * `Resilience.protect("http")` applies one; tests swap policies by providing another layer.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Config, Context, Data, Duration, Effect, Exit, Layer, Option, type Scope } from "effect"
import * as Backoff from "./Backoff.ts"
import * as Bulkhead from "./Bulkhead.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import * as DeadLetter from "./DeadLetter.ts"
import type { Permanent, Transient } from "./Failure.ts"
import * as Hedge from "./Hedge.ts"
import { kindOf } from "./internal/errorInfo.ts"
import { fuse } from "./internal/fused.ts"
import type { Kind } from "./internal/kind.ts"
import * as Policy from "./Policy.ts"
import * as Retry from "./Retry.ts"
import * as RetryBudget from "./RetryBudget.ts"
import * as Telemetry from "./Telemetry.ts"
import * as Timeout from "./Timeout.ts"

/**
 * What a pipeline's `execute` can fail with: the retry verdicts over the call's own errors and the
 * guards' (attempt timeout, open circuit), a total timeout, or a full bulkhead.
 *
 * @since 0.1.0
 */
export type PipelineError<E> =
  | Retry.RetryError<E | Transient<Timeout.TimeoutExceeded> | CircuitBreaker.BreakerOpen>
  | Permanent<Timeout.TimeoutExceeded>
  | Bulkhead.BulkheadFull

/**
 * A snapshot of what a pipeline has done: its telemetry plus its guards' own stats.
 *
 * @since 0.1.0
 */
export interface Stats extends Telemetry.Stats {
  readonly breaker: CircuitBreaker.Stats | undefined
  readonly budget: RetryBudget.Stats | undefined
  readonly bulkhead: Bulkhead.Stats | undefined
}

/**
 * A policy made runnable.
 *
 * @since 0.1.0
 */
export interface Pipeline {
  readonly name: string
  readonly policy: Policy.PipelinePolicy
  /** Runs an effect through every stage of the policy. */
  readonly execute: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, PipelineError<E>, R>
  /** Publishes telemetry, then returns a snapshot. */
  readonly stats: Effect.Effect<Stats>
  readonly breaker: CircuitBreaker.CircuitBreaker | undefined
  readonly budget: RetryBudget.RetryBudget | undefined
  readonly bulkhead: Bulkhead.Bulkhead | undefined
  readonly recorder: Telemetry.Recorder
}

/**
 * What `make` accepts: a pipeline policy (or a preset) as data, decoded and validated.
 *
 * @since 0.1.0
 */
export type Input = Policy.PipelinePolicyInput

/**
 * Code-only options that data cannot express.
 *
 * @since 0.1.0
 */
export interface MakeOptions {
  /** The pipeline's name (defaults to the policy's `name`, then `"default"`). */
  readonly name?: string | undefined
  /** A background health check for the circuit (see `CircuitBreaker.HealthCheck`). */
  readonly healthCheck?: CircuitBreaker.HealthCheck | undefined
  /** Tags for dead letters (service, region, …). */
  readonly tags?: Readonly<Record<string, string>> | undefined
  /** Log retries and breaker transitions. Default `true`. */
  readonly log?: boolean | undefined
  /** Where the circuit's state lives (e.g. `effect-resilience/redis`'s `CircuitBreakerStore`); default in memory. */
  readonly breakerStore?: CircuitBreaker.StoreFactory | undefined
  /** A shared retry budget (e.g. `RetryBudgetStore.tokenBucket`), used instead of the policy's `budget`. */
  readonly budget?: RetryBudget.RetryBudget | undefined
}

const breakerOptions = (
  name: string,
  policy: true | Policy.BreakerPolicy,
  options: MakeOptions
): CircuitBreaker.Options => {
  const base = {
    name,
    log: options.log ?? true,
    ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
    ...(options.breakerStore ? { store: options.breakerStore } : {})
  }
  if (policy === true) return base
  const trip: Array<CircuitBreaker.Rule> = []
  if (policy.consecutiveFailures !== undefined) trip.push(CircuitBreaker.consecutive(policy.consecutiveFailures))
  if (policy.failureRate !== undefined) {
    trip.push(CircuitBreaker.failureRate({
      threshold: policy.failureRate.threshold,
      minimumCalls: policy.failureRate.minimumCalls,
      window: policy.failureRate.window
    }))
  }
  if (policy.slowCallRate !== undefined) {
    trip.push(CircuitBreaker.slowCallRate({
      threshold: policy.slowCallRate.threshold,
      slowerThan: policy.slowCallRate.slowerThan,
      minimumCalls: policy.slowCallRate.minimumCalls,
      window: policy.slowCallRate.window
    }))
  }
  const openFor = policy.openForMultiplier === undefined
    ? policy.openFor
    : Backoff.exponential({ initial: policy.openFor, factor: policy.openForMultiplier })
  return {
    ...base,
    ...(trip.length > 0 ? { trip } : {}),
    openFor,
    ...(policy.maxOpenFor !== undefined ? { maxOpenFor: policy.maxOpenFor } : {}),
    ...(policy.halfOpen !== undefined ? { halfOpen: policy.halfOpen } : {})
  }
}

const makeBudget = (policy: Policy.BudgetPolicy): Effect.Effect<RetryBudget.RetryBudget, Policy.PolicyError> =>
  policy.type === "tokenBucket" ? RetryBudget.tokenBucket(policy) : RetryBudget.ratio(policy)

const rejectionReason = (error: unknown): string | undefined => {
  const tag = typeof error === "object" && error !== null ? (error as { _tag?: unknown })._tag : undefined
  if (tag === "BulkheadFull") return "bulkhead_full"
  if (tag === "BreakerOpen") return "circuit_open"
  if (tag === "Permanent" && (error as Permanent<unknown>).kind === "CircuitOpen") return "circuit_open"
  return undefined
}

const NOTHING = undefined as unknown as Effect.Effect<void>

const isBudgetDenial = (error: unknown): boolean =>
  error instanceof Retry.RetriesExhausted && error.reason === "budget"

/**
 * Builds a pipeline from a policy. Needs a `Scope` (the breaker's health check and the layer's
 * telemetry live in it). With `deadLetters: true`, letters go to the `DeadLetter.DeadLetters`
 * service if one is provided, else to a bounded in-memory store of the pipeline's own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, Resilience } from "effect-resilience"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const http = yield* Resilience.make(Policy.presets.http)
 *   return yield* http.execute(Effect.succeed("ok"))
 * }))
 * ```
 * @since 0.1.0
 */
export const make = (
  input: Input,
  options: MakeOptions = {}
): Effect.Effect<Pipeline, Policy.PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const policy = yield* Policy.decodePipeline(input)
    const name = options.name ?? policy.name ?? "default"
    const clock = yield* Clock.Clock
    const recorder = Telemetry.makeRecorder(name)
    const budget = options.budget ?? (policy.budget === undefined || policy.budget === false ? undefined : yield* makeBudget(policy.budget))
    const breaker = policy.circuitBreaker === undefined || policy.circuitBreaker === false
      ? undefined
      : yield* CircuitBreaker.make(breakerOptions(name, policy.circuitBreaker, options))
    const bulkhead = policy.bulkhead === undefined
      ? undefined
      : yield* Bulkhead.make({ ...policy.bulkhead, name })
    const deadLetters = policy.deadLetters
      ? yield* Effect.serviceOption(DeadLetter.DeadLetters).pipe(
        Effect.flatMap(Option.match({
          onSome: Effect.succeed,
          onNone: () => Layer.build(DeadLetter.layerMemory()).pipe(Effect.map(Context.get(DeadLetter.DeadLetters)))
        }))
      )
      : undefined
    const tags = { ...options.tags }
    const spans = policy.spans

    const onRetry = (event: Retry.RetryEvent<unknown>): Effect.Effect<void> => {
      const delayMs = Duration.toMillis(event.delay)
      const recorded = recorder.recordRetry(event.error.kind, event.attempt, delayMs)
      if (!spans) return recorded
      return Effect.andThen(
        recorded,
        Effect.currentSpan.pipe(
          Effect.tap((span) =>
            Effect.sync(() =>
              span.event("retry", clock.currentTimeNanosUnsafe(), {
                attempt: event.attempt,
                kind: event.error.kind,
                delayMs
              })
            )
          ),
          Effect.ignore
        )
      )
    }
    // `retry: false` still classifies: a transient failure ends as RetriesExhausted after one attempt.
    const retryOptions = policy.retry === false
      ? { schedule: Backoff.fixed(0).pipe(Backoff.recurs(0)) }
      : { ...(policy.retry ?? Policy.defaults) }
    const planned = Retry.planFor<unknown, never>({
      ...retryOptions,
      operation: name,
      onRetry,
      budget,
      log: options.log ?? true
    } as Retry.RetryPolicyOptions<unknown>)
    if (planned instanceof Policy.PolicyError) return yield* planned
    // The total timeout wraps the retry: a server hint that would outlast it ends the retries at once.
    const plan = policy.timeout === undefined ? planned : {
      ...planned,
      totalLimitMillis: Math.min(planned.totalLimitMillis ?? Infinity, Duration.toMillis(policy.timeout))
    }
    const closed = breaker === undefined ? undefined : CircuitBreaker.closedPathUnsafe(breaker)

    const hedgeOptions = policy.hedge
    const attemptTimeout = policy.attemptTimeout
    const totalTimeout = policy.timeout

    // Counts the call and, for a final failure, writes the dead letter before the failure returns.
    // Returns undefined when there is nothing to run: Effect's onExit primitive then skips the
    // finalizer step, which keeps a successful call cheap.
    const finish = (exit: Exit.Exit<unknown, unknown>, startedAt: number | undefined): Effect.Effect<void> => {
      const durationMs = startedAt === undefined ? undefined : clock.currentTimeMillisUnsafe() - startedAt
      if (Exit.isSuccess(exit)) {
        recorder.recordCall(true, durationMs, undefined)
        return NOTHING
      }
      const error = Cause.findErrorOption(exit.cause)
      if (Option.isNone(error)) {
        if (!Cause.hasInterruptsOnly(exit.cause)) recorder.recordCall(false, durationMs, "Unknown")
        return NOTHING
      }
      const failure = error.value
      const kind: Kind = kindOf(failure)
      const reason = rejectionReason(failure)
      if (reason !== undefined) recorder.recordRejection(reason)
      recorder.recordCall(false, durationMs, kind)
      const effects: Array<Effect.Effect<void>> = []
      if (isBudgetDenial(failure)) effects.push(recorder.recordBudgetDenied)
      if (deadLetters !== undefined) {
        effects.push(DeadLetter.publishOrLog(deadLetters, DeadLetter.letterFor(failure, name, tags, clock.currentTimeMillisUnsafe())))
        effects.push(recorder.recordDeadLetter)
      }
      return effects.length === 0 ? NOTHING : Effect.all(effects, { discard: true })
    }

    // Retry, breaker, budget and (when nothing wraps the retry) telemetry share one frame per call
    // (internal/fused.ts). Durations are measured for one call in `durationSampling`.
    const sampling = policy.durationSampling
    let sequence = 0
    const shouldTime = () => ++sequence % sampling === 0
    const fused = <A, R>(attempt: Effect.Effect<A, unknown, R>, observe: boolean): Effect.Effect<A, unknown, R> =>
      fuse(attempt, {
        breaker,
        closed,
        budget,
        resume: (next, error) => Retry.resume(next, plan, error),
        observer: observe ? finish : undefined,
        shouldTime,
        now: () => clock.currentTimeMillisUnsafe()
      })

    const execute = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, PipelineError<E>, R> => {
      let attempt: Effect.Effect<A, unknown, R> = effect
      if (hedgeOptions !== undefined) attempt = Hedge.hedge(attempt, hedgeOptions)
      if (attemptTimeout !== undefined) attempt = Timeout.attempt(attempt, attemptTimeout)
      let observed: Effect.Effect<A, unknown, R>
      if (totalTimeout === undefined && bulkhead === undefined) {
        observed = fused(attempt, true)
      } else {
        // The total timeout and the bulkhead wrap the retry, so telemetry needs a frame outside them.
        let call = fused(attempt, false)
        if (totalTimeout !== undefined) call = Timeout.total(call, totalTimeout)
        if (bulkhead !== undefined) call = bulkhead.execute(call)
        const outer = call
        observed = Effect.suspend(() => {
          const startedAt = shouldTime() ? clock.currentTimeMillisUnsafe() : undefined
          return Effect.onExit(outer, (exit) => finish(exit, startedAt))
        })
      }
      if (spans) observed = Effect.withSpan(observed, `resilience.${name}`, { attributes: { "resilience.operation": name } })
      return observed as Effect.Effect<A, PipelineError<E>, R>
    }

    const stats = Effect.gen(function*() {
      yield* recorder.publish
      const breakerStats = breaker === undefined ? undefined : yield* breaker.stats
      return {
        ...recorder.stats(),
        breaker: breakerStats,
        budget: budget?.statsUnsafe(),
        bulkhead: bulkhead?.statsUnsafe()
      } satisfies Stats
    })

    return { name, policy, execute, stats, breaker, budget, bulkhead, recorder } satisfies Pipeline
  })

/**
 * A policy name that no layer provides.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resilience } from "effect-resilience"
 * const safe = Resilience.protect("http")(Effect.succeed(1)).pipe(
 *   Effect.catchTag("UnknownPolicy", (e) => Effect.die(`no policy ${e.name}; have ${e.available.join(", ")}`))
 * )
 * ```
 * @since 0.1.0
 */
export class UnknownPolicy extends Data.TaggedError("UnknownPolicy")<{
  readonly name: string
  readonly available: ReadonlyArray<string>
}> {
  override get message(): string {
    return `No resilience policy named "${this.name}" (available: ${this.available.join(", ") || "none"})`
  }
}

/**
 * Named pipelines, provided by `layer` / `layerConfig` / `layerJson`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resilience } from "effect-resilience"
 * const names = Effect.map(Resilience.Policies, (policies) => policies.names)
 * ```
 * @since 0.1.0
 */
export class Policies extends Context.Service<Policies, {
  readonly names: ReadonlyArray<string>
  readonly get: (name: string) => Effect.Effect<Pipeline, UnknownPolicy>
  readonly getUnsafe: (name: string) => Pipeline | undefined
}>()("effect-resilience/Resilience/Policies") {}

/**
 * Applies the named pipeline from the `Policies` service. An unknown name fails with
 * `UnknownPolicy`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resilience } from "effect-resilience"
 * declare const fetchUser: Effect.Effect<string, { readonly status: number }>
 * const user = fetchUser.pipe(Resilience.protect("http")) // requires Resilience.Policies
 * ```
 * @since 0.1.0
 */
export const protect = (name: string) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, PipelineError<E> | UnknownPolicy, R | Policies> =>
  Effect.flatMap(Policies, (policies): Effect.Effect<A, PipelineError<E> | UnknownPolicy, R> => {
    const pipeline = policies.getUnsafe(name)
    return pipeline === undefined
      ? Effect.fail(new UnknownPolicy({ name, available: policies.names }))
      : pipeline.execute(effect)
  })

/**
 * The stats of a named pipeline (publishing its telemetry first).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resilience } from "effect-resilience"
 * const report = Resilience.stats("http").pipe(Effect.map((s) => `${s.calls} calls, ${s.retries} retries`))
 * ```
 * @since 0.1.0
 */
export const stats = (name: string): Effect.Effect<Stats, UnknownPolicy, Policies> =>
  Effect.flatMap(Policies, (policies) => Effect.flatMap(policies.get(name), (pipeline) => pipeline.stats))

/**
 * Options of the layers.
 *
 * @since 0.1.0
 */
export interface LayerOptions {
  /** How often telemetry is published to the `Metric`s. Default 10 seconds. */
  readonly publishEvery?: Duration.Input | undefined
  /** Code-only options per pipeline name. */
  readonly options?: Readonly<Record<string, MakeOptions>> | undefined
}

const prefixIssues = (name: string) => (error: Policy.PolicyError) =>
  new Policy.PolicyError({ issues: error.issues.map((issue) => ({ path: [name, ...issue.path], message: issue.message })) })

const build = (
  inputs: Readonly<Record<string, Input>>,
  options: LayerOptions
): Effect.Effect<Policies["Service"], Policy.PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const pipelines = new Map<string, Pipeline>()
    const issues: Array<Policy.PolicyIssue> = []
    for (const [name, input] of Object.entries(inputs)) {
      const made = yield* Effect.result(
        make(input, { name, ...options.options?.[name] }).pipe(Effect.mapError(prefixIssues(name)))
      )
      if (made._tag === "Success") pipelines.set(name, made.success)
      else issues.push(...made.failure.issues)
    }
    if (issues.length > 0) return yield* new Policy.PolicyError({ issues })
    const names = [...pipelines.keys()]
    const publishAll = Effect.forEach(pipelines.values(), (p) => p.recorder.publish, { discard: true })
    yield* Effect.forkScoped(
      Effect.forever(Effect.andThen(Effect.sleep(options.publishEvery ?? "10 seconds"), publishAll))
    )
    yield* Effect.addFinalizer(() => publishAll)
    return {
      names,
      getUnsafe: (name: string) => pipelines.get(name),
      get: (name: string) => {
        const pipeline = pipelines.get(name)
        return pipeline === undefined ? Effect.fail(new UnknownPolicy({ name, available: names })) : Effect.succeed(pipeline)
      }
    }
  })

/**
 * Provides named pipelines from code (policies or presets). Every bad field of every policy is
 * reported at once, prefixed with the policy's name (`at http.retry.maxRetries: …`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, Resilience } from "effect-resilience"
 *
 * const Live = Resilience.layer({
 *   http: Policy.presets.http,
 *   database: { ...Policy.presets.database, circuitBreaker: { consecutiveFailures: 3, openFor: "10 seconds" } }
 * })
 * const program = Effect.succeed("row").pipe(Resilience.protect("database"), Effect.provide(Live))
 * ```
 * @since 0.1.0
 */
export const layer = (
  policies: Readonly<Record<string, Input>>,
  options: LayerOptions = {}
): Layer.Layer<Policies, Policy.PolicyError> => Layer.effect(Policies, build(policies, options))

type FieldType = "number" | "boolean" | "text" | "list"

/** Environment fields: `<PREFIX>_<NAME>_<FIELD>` → a path in the pipeline policy. */
const envFields: ReadonlyArray<readonly [env: string, path: ReadonlyArray<string>, type: FieldType]> = [
  ["MAX_RETRIES", ["retry", "maxRetries"], "number"],
  ["MAX_ATTEMPTS", ["retry", "maxAttempts"], "number"],
  ["INITIAL_DELAY", ["retry", "initialDelay"], "text"],
  ["MAX_DELAY", ["retry", "maxDelay"], "text"],
  ["MULTIPLIER", ["retry", "multiplier"], "number"],
  ["STRATEGY", ["retry", "strategy"], "text"],
  ["JITTER", ["retry", "jitter"], "text"],
  ["HONOR_RETRY_AFTER", ["retry", "honorRetryAfter"], "boolean"],
  ["RETRY_ON", ["retry", "retryOn"], "list"],
  ["NEVER_RETRY_ON", ["retry", "neverRetryOn"], "list"],
  ["UNKNOWN_ERRORS", ["retry", "unknownErrors"], "text"],
  ["TIMEOUT", ["timeout"], "text"],
  ["ATTEMPT_TIMEOUT", ["attemptTimeout"], "text"],
  ["BREAKER_CONSECUTIVE_FAILURES", ["circuitBreaker", "consecutiveFailures"], "number"],
  ["BREAKER_FAILURE_RATE", ["circuitBreaker", "failureRate", "threshold"], "number"],
  ["BREAKER_MINIMUM_CALLS", ["circuitBreaker", "failureRate", "minimumCalls"], "number"],
  ["BREAKER_WINDOW", ["circuitBreaker", "failureRate", "window"], "text"],
  ["BREAKER_OPEN_FOR", ["circuitBreaker", "openFor"], "text"],
  ["BREAKER_PROBES", ["circuitBreaker", "halfOpen", "probes"], "number"],
  ["BUDGET_RATIO", ["budget", "ratio"], "number"],
  ["BUDGET_CAPACITY", ["budget", "capacity"], "number"],
  ["BULKHEAD_MAX_CONCURRENT", ["bulkhead", "maxConcurrent"], "number"],
  ["BULKHEAD_MAX_QUEUE", ["bulkhead", "maxQueue"], "number"],
  ["DEAD_LETTERS", ["deadLetters"], "boolean"],
  ["SPANS", ["spans"], "boolean"]
]

const coerce = (text: string, type: FieldType): unknown => {
  const trimmed = text.trim()
  switch (type) {
    case "number":
      return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed
    case "boolean":
      return trimmed === "true" ? true : trimmed === "false" ? false : trimmed
    case "list":
      return trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "")
    case "text":
      return trimmed !== "" && /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed
  }
}

const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): void => {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    node = (node[key] = typeof next === "object" && next !== null ? { ...(next as object) } : {}) as Record<string, unknown>
  }
  node[path[path.length - 1]!] = value
}

/**
 * Starts from a preset when the input names one (`{ preset: "http", retry: { maxRetries: 5 } }`),
 * overriding its fields; `retry` and `circuitBreaker` objects merge one level deep.
 */
const resolvePreset = (name: string, input: unknown): { readonly value: unknown; readonly issues: Array<Policy.PolicyIssue> } => {
  if (typeof input !== "object" || input === null || !("preset" in input)) return { value: input, issues: [] }
  const { preset, ...rest } = input as { preset: unknown } & Record<string, unknown>
  if (typeof preset !== "string" || !Policy.isPresetName(preset)) {
    return {
      value: rest,
      issues: [{ path: [name, "preset"], message: `Expected one of ${Object.keys(Policy.presets).join(", ")}, got ${JSON.stringify(preset)}` }]
    }
  }
  const base = Policy.presets[preset] as unknown as Record<string, unknown>
  const merged: Record<string, unknown> = { ...base, ...rest }
  for (const key of ["retry", "circuitBreaker"]) {
    const a = base[key]
    const b = rest[key]
    if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
      const both: Record<string, unknown> = { ...a, ...b }
      // An override of the attempt count replaces the preset's, whichever way it is counted.
      if ("maxAttempts" in b && !("maxRetries" in b)) delete both.maxRetries
      merged[key] = both
    }
  }
  return { value: merged, issues: [] }
}

const fromData = (
  entries: ReadonlyArray<readonly [name: string, input: unknown]>,
  options: LayerOptions,
  annotate: (name: string, issue: Policy.PolicyIssue) => Policy.PolicyIssue = (_, issue) => issue
): Effect.Effect<Policies["Service"], Policy.PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const issues: Array<Policy.PolicyIssue> = []
    const inputs: Record<string, Input> = {}
    for (const [name, raw] of entries) {
      const resolved = resolvePreset(name, raw)
      issues.push(...resolved.issues)
      const decoded = Policy.decodePipelinePolicyResult(resolved.value)
      if (decoded._tag === "Err") {
        issues.push(...decoded.error.issues.map((issue) => annotate(name, { path: [name, ...issue.path], message: issue.message })))
      } else {
        inputs[name] = resolved.value as Input
      }
    }
    if (issues.length > 0) return yield* new Policy.PolicyError({ issues })
    return yield* build(inputs, options)
  })

/**
 * Provides named pipelines from Effect `Config` (by default the environment): for each name,
 * `<PREFIX>_<NAME>_<FIELD>` variables such as `RESILIENCE_HTTP_MAX_RETRIES=5`,
 * `RESILIENCE_HTTP_INITIAL_DELAY="200 millis"`, `RESILIENCE_HTTP_BREAKER_CONSECUTIVE_FAILURES=5`,
 * `RESILIENCE_HTTP_BUDGET_RATIO=0.1`, `RESILIENCE_S3_DEAD_LETTERS=true`. A name that is a preset
 * starts from the preset; `<PREFIX>_<NAME>_PRESET` picks one for another name. Bad values are
 * reported with the variable they came from.
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect, Layer } from "effect"
 * import { Resilience } from "effect-resilience"
 *
 * const Live = Resilience.layerConfig({ names: ["http", "payments"] }).pipe(
 *   Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { RESILIENCE_PAYMENTS_PRESET: "http", RESILIENCE_PAYMENTS_MAX_RETRIES: "2" } })))
 * )
 * ```
 * @since 0.1.0
 */
export const layerConfig = (
  config: { readonly names: ReadonlyArray<string>; readonly prefix?: string | undefined } & LayerOptions
): Layer.Layer<Policies, Policy.PolicyError | Config.ConfigError> =>
  Layer.effect(
    Policies,
    Effect.gen(function*() {
      const prefix = config.prefix ?? "RESILIENCE"
      const sources = new Map<string, string>()
      const entries: Array<readonly [string, unknown]> = []
      for (const name of config.names) {
        const NAME = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()
        const read = (field: string) =>
          Config.option(Config.String(field).pipe(Config.nested(NAME), Config.nested(prefix)))
        const presetName = Option.getOrUndefined(yield* read("PRESET")) ?? (Policy.isPresetName(name) ? name : undefined)
        const input: Record<string, unknown> = presetName === undefined ? {} : { preset: presetName }
        for (const [env, path, type] of envFields) {
          const value = yield* read(env)
          if (Option.isNone(value)) continue
          setPath(input, path, coerce(value.value, type))
          sources.set(`${name}.${path.join(".")}`, `${prefix}_${NAME}_${env}`)
          if (path[0] === "budget") {
            setPath(input, ["budget", "type"], path[1] === "ratio" ? "ratio" : "tokenBucket")
          }
        }
        entries.push([name, input])
      }
      return yield* fromData(entries, config, (_name, issue) => {
        const source = sources.get(Policy.formatPath(issue.path))
        return source === undefined ? issue : { ...issue, message: `${issue.message} (from ${source})` }
      })
    })
  )

/**
 * Provides named pipelines from a JSON file: an object of `name → pipeline policy`, where an
 * entry may start from a preset (`{ "preset": "http", "retry": { "maxRetries": 5 } }`).
 *
 * @example
 * ```ts
 * import { Resilience } from "effect-resilience"
 * const Live = Resilience.layerJson("./resilience.json")
 * ```
 * @since 0.1.0
 */
export const layerJson = (
  path: string,
  options: LayerOptions = {}
): Layer.Layer<Policies, Policy.PolicyError> =>
  Layer.effect(
    Policies,
    Effect.gen(function*() {
      const text = yield* Effect.tryPromise({
        try: () => import("node:fs/promises").then((fs) => fs.readFile(path, "utf8")),
        catch: (error) =>
          new Policy.PolicyError({ issues: [{ path: [], message: `Cannot read ${path}: ${(error as Error).message ?? String(error)}` }] })
      })
      const json = yield* Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (error) => new Policy.PolicyError({ issues: [{ path: [], message: `${path} is not valid JSON: ${(error as Error).message}` }] })
      })
      if (typeof json !== "object" || json === null || Array.isArray(json)) {
        return yield* new Policy.PolicyError({ issues: [{ path: [], message: `${path}: expected an object of named policies` }] })
      }
      return yield* fromData(Object.entries(json), options)
    })
  )

/**
 * Wraps a promise-returning function (code not written with Effect) in a pipeline, keeping its
 * signature, like seed 004's decorator. Failures reject with the pipeline's typed errors
 * (`RetriesExhausted`, `Permanent`, …, all `Error`s). `.withSignal(signal)` gives a version the
 * caller can cancel.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, Resilience } from "effect-resilience"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const pipeline = yield* Resilience.make(Policy.presets.http)
 *   const getUser = Resilience.toAsync(pipeline, async (id: string) => ({ id }))
 *   return yield* Effect.promise(() => getUser("42"))
 * }))
 * ```
 * @since 0.1.0
 */
export const toAsync = <Args extends ReadonlyArray<unknown>, A>(
  pipeline: Pipeline,
  fn: (...args: Args) => Promise<A>
): ((...args: Args) => Promise<A>) & { readonly withSignal: (signal: AbortSignal) => (...args: Args) => Promise<A> } =>
  Object.assign(
    (...args: Args) => Effect.runPromise(pipeline.execute(Effect.tryPromise({ try: () => fn(...args), catch: (e) => e }))),
    {
      withSignal: (signal: AbortSignal) => (...args: Args) =>
        runAbortable(pipeline.execute(Effect.tryPromise({ try: () => fn(...args), catch: (e) => e })), signal)
    }
  )

/**
 * The rejection of a call its caller aborted, as fetch and Node report one: an `Error` named
 * `"AbortError"` whose `cause` is the signal's reason.
 */
const abortError = (signal: AbortSignal): Error => {
  const error = new Error("The operation was aborted", { cause: signal.reason })
  error.name = "AbortError"
  return error
}

/**
 * Runs a call the caller may abort. An abort interrupts the call; the promise then rejects with an
 * `AbortError`, not Effect's "All fibers interrupted without error".
 */
const runAbortable = <A, E>(effect: Effect.Effect<A, E>, signal: AbortSignal | undefined): Promise<A> => {
  if (signal === undefined) return Effect.runPromise(effect)
  if (signal.aborted) return Promise.reject(abortError(signal))
  return Effect.runPromiseExit(effect, { signal }).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    if (signal.aborted && Cause.hasInterruptsOnly(exit.cause)) throw abortError(signal)
    throw Cause.squash(exit.cause)
  })
}

/**
 * Like `toAsync`, for functions that take an `AbortSignal` first: each attempt gets its own
 * signal, aborted when the attempt times out or is interrupted. `.withSignal(signal)` gives a
 * version the caller can cancel: an aborted call rejects with an `AbortError` (name
 * `"AbortError"`, the signal's reason as `cause`), like fetch.
 *
 * @example
 * ```ts
 * import { Resilience } from "effect-resilience"
 * declare const pipeline: Resilience.Pipeline
 * const get = Resilience.toAsyncWithSignal(pipeline, (signal, url: string) => fetch(url, { signal }))
 * const controller = new AbortController()
 * const pending = get.withSignal(controller.signal)("https://example.com")
 * ```
 * @since 0.1.0
 */
export const toAsyncWithSignal = <Args extends ReadonlyArray<unknown>, A>(
  pipeline: Pipeline,
  fn: (signal: AbortSignal, ...args: Args) => Promise<A>
): ((...args: Args) => Promise<A>) & { readonly withSignal: (signal: AbortSignal) => (...args: Args) => Promise<A> } => {
  const call = (args: Args) => pipeline.execute(Effect.tryPromise({ try: (signal) => fn(signal, ...args), catch: (e) => e }))
  return Object.assign((...args: Args) => Effect.runPromise(call(args)), {
    withSignal: (signal: AbortSignal) => (...args: Args) => runAbortable(call(args), signal)
  })
}
