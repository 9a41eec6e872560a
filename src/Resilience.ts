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
import { type Config, ConfigProvider, Context, Data, Duration, Effect, Layer, Result, Scope } from "effect"
import { documentDecoder } from "./internal/document.ts"
import { runAbortable } from "./internal/abort.ts"
import { envFieldsOf, readEnv, sourceOf } from "./internal/env.ts"
import { wrapWith } from "./internal/wrap.ts"
import { buildPolicies } from "./internal/policies.ts"
import { prefixIssues } from "./internal/policyError.ts"
import { readPolicyFile } from "./internal/policyFile.ts"
import * as P from "./Pipeline.ts"
import * as Policy from "./Policy.ts"

/**
 * What a pipeline's `execute` can fail with (see `Pipeline.PipelineError`).
 *
 * @since 0.1.0
 * @category models
 */
export type PipelineError<E> = P.PipelineError<E>

/**
 * A snapshot of what a pipeline has done (see `Pipeline.Stats`).
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = P.Stats

/**
 * A policy made runnable (see `Pipeline.Pipeline`).
 *
 * @since 0.1.0
 * @category models
 */
export type Pipeline = P.Pipeline

/**
 * What `make` and the layers accept: a pipeline policy (or a preset) as data.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = P.Input

/**
 * Code-only options of a pipeline (see `Pipeline.MakeOptions`).
 *
 * @since 0.1.0
 * @category models
 */
export type MakeOptions = P.MakeOptions

/**
 * Builds a pipeline from a policy; the same as `Pipeline.make`.
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
 * @category constructors
 */
export const make: (input: Input, options?: MakeOptions) => Effect.Effect<Pipeline, Policy.PolicyError, Scope.Scope> = P.make

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
 * @category errors
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
 * @category services
 */
export class Policies extends Context.Service<Policies, {
  readonly names: ReadonlyArray<string>
  readonly get: (name: string) => Effect.Effect<Pipeline, UnknownPolicy>
  readonly getUnsafe: (name: string) => Pipeline | undefined
}>()("effect-resilience/Resilience/Policies") {}

/**
 * Applies the named pipeline from the `Policies` service. An unknown name fails with
 * `UnknownPolicy`. `options.tags` are the call's tags (see `Pipeline.CallOptions`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resilience } from "effect-resilience"
 * declare const fetchUser: Effect.Effect<string, { readonly status: number }>
 * const user = fetchUser.pipe(Resilience.protect("http")) // requires Resilience.Policies
 * const forTenant = fetchUser.pipe(Resilience.protect("http", { tags: { tenant: "acme" } }))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const protect = (name: string, options?: P.CallOptions) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, PipelineError<E> | UnknownPolicy, R | Policies> =>
  Effect.flatMap(Policies, (policies): Effect.Effect<A, PipelineError<E> | UnknownPolicy, R> => {
    const pipeline = policies.getUnsafe(name)
    return pipeline === undefined
      ? Effect.fail(new UnknownPolicy({ name, available: policies.names }))
      : pipeline.execute(effect, options)
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
 * @category accessors
 */
export const stats = (name: string): Effect.Effect<Stats, UnknownPolicy, Policies> =>
  Effect.flatMap(Policies, (policies) => Effect.flatMap(policies.get(name), (pipeline) => pipeline.stats))

/**
 * Options of the layers.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions {
  /** How often telemetry is published to the `Metric`s: at least 100 millis. Default 10 seconds. */
  readonly publishEvery?: Duration.Input | string | undefined
  /** Code-only options per pipeline name. */
  readonly options?: Readonly<Record<string, MakeOptions>> | undefined
}

const build = (policies: Policy.Document, options: LayerOptions) =>
  buildPolicies(policies, options, {
    make: P.fromPolicy,
    unknown: (name, available) => new UnknownPolicy({ name, available })
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
 * @category layers
 */
export const layer = (
  policies: Readonly<Record<string, Input>>,
  options: LayerOptions = {}
): Layer.Layer<Policies, Policy.PolicyError> =>
  Layer.effect(
    Policies,
    Effect.gen(function*() {
      const decoded: Array<readonly [string, Policy.PipelinePolicy]> = []
      const issues: Array<Policy.PolicyIssue> = []
      for (const name of Object.keys(policies)) {
        const result = Policy.decodePipelineResult(policies[name]!)
        if (Result.isSuccess(result)) decoded.push([name, result.success])
        else issues.push(...prefixIssues([name], result.failure.issues))
      }
      if (issues.length > 0) return yield* new Policy.PolicyError({ issues })
      return yield* build(decoded, options)
    })
  )

const envFields = envFieldsOf(Policy.PipelinePolicy.ast)

const documents = documentDecoder(Policy.PipelinePolicy.ast, Policy.decodePipelineResult, Policy.presets)

const fromData = (
  entries: ReadonlyArray<readonly [name: string, input: unknown]>,
  options: LayerOptions,
  annotate: (issue: Policy.PolicyIssue) => Policy.PolicyIssue = (issue) => issue
): Effect.Effect<Policies["Service"], Policy.PolicyError, Scope.Scope> =>
  Effect.suspend(() => {
    const decoded = documents.decodeEntries(entries)
    return Result.isFailure(decoded)
      ? Effect.fail(new Policy.PolicyError({ issues: decoded.failure.issues.map(annotate) }))
      : build(decoded.success, options)
  })

/**
 * Provides named pipelines from Effect `Config` (by default the environment). Every field of a
 * pipeline policy is a variable `<PREFIX>_<NAME>_<FIELD_PATH>`, its path in UPPER_SNAKE_CASE:
 * `RESILIENCE_HTTP_RETRY_MAX_RETRIES=5`, `RESILIENCE_HTTP_CIRCUIT_BREAKER_HALF_OPEN_PROBES=3`,
 * `RESILIENCE_HTTP_BUDGET_RATIO=0.1`, `RESILIENCE_HTTP_HEDGE_DELAY=200ms`. Retry fields may leave
 * out `RETRY_` (`RESILIENCE_HTTP_MAX_ATTEMPTS`), `CIRCUIT_BREAKER_` may be `BREAKER_`, and every
 * alias of a field is a variable too. A name that is a preset starts from the preset;
 * `<PREFIX>_<NAME>_PRESET` picks one for another name. An unknown variable under a policy's
 * prefix is an error, and every bad value is reported with the variable it came from. With
 * `prefix: ""` the variables are `<NAME>_<FIELD_PATH>`.
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
 * @category layers
 */
export const layerConfig = (
  config: { readonly names: ReadonlyArray<string>; readonly prefix?: string | undefined } & LayerOptions
): Layer.Layer<Policies, Policy.PolicyError | Config.ConfigError> =>
  Layer.effect(
    Policies,
    Effect.gen(function*() {
      const provider = yield* ConfigProvider.ConfigProvider
      const { entries, issues, sources } = yield* readEnv(provider, config.names, config.prefix ?? "RESILIENCE", envFields, Policy.isPresetName)
      if (issues.length > 0) return yield* new Policy.PolicyError({ issues })
      return yield* fromData(entries, config, (issue) => {
        const source = sourceOf(sources, issue.path)
        return source === undefined ? issue : { ...issue, message: `${issue.message} (from ${source})` }
      })
    })
  )

/**
 * Provides named pipelines from a JSON or YAML file (by extension; otherwise JSON, then YAML): an
 * object of `name → pipeline policy`, where an entry may start from a preset
 * (`{ "preset": "http", "retry": { "maxRetries": 5 } }`). A missing or unreadable file, bad syntax
 * and every bad field fail the layer with one `PolicyError`.
 *
 * @example
 * ```ts
 * import { Resilience } from "effect-resilience"
 * const Live = Resilience.layerFile("./resilience.yaml")
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (
  path: string,
  options: LayerOptions = {}
): Layer.Layer<Policies, Policy.PolicyError> =>
  Layer.effect(
    Policies,
    Effect.gen(function*() {
      const document = yield* readPolicyFile(path)
      if (typeof document !== "object" || document === null || Array.isArray(document)) {
        return yield* new Policy.PolicyError({ issues: [{ path: [], message: `${path}: expected an object of named policies` }] })
      }
      return yield* fromData(Object.keys(document).map((name) => [name, (document as Record<string, unknown>)[name]] as const), options)
    })
  )

/**
 * Provides named pipelines from a JSON file; the same as `layerFile`.
 *
 * @example
 * ```ts
 * import { Resilience } from "effect-resilience"
 * const Live = Resilience.layerJson("./resilience.json")
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerJson: (path: string, options?: LayerOptions) => Layer.Layer<Policies, Policy.PolicyError> = layerFile

/**
 * Wraps a promise-returning function (code not written with Effect) in a pipeline, keeping its
 * signature, like a decorator. Failures reject with the pipeline's typed errors
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
 * @category promises
 */
export const toAsync = <Args extends ReadonlyArray<unknown>, A>(
  pipeline: Pipeline,
  fn: (...args: Args) => Promise<A>
): ((...args: Args) => Promise<A>) & { readonly withSignal: (signal: AbortSignal) => (...args: Args) => Promise<A> } =>
  Object.assign(
    (...args: Args) => runAbortable(pipeline.execute(Effect.tryPromise({ try: () => fn(...args), catch: (e) => e })), undefined),
    {
      withSignal: (signal: AbortSignal) => (...args: Args) =>
        runAbortable(pipeline.execute(Effect.tryPromise({ try: () => fn(...args), catch: (e) => e })), signal)
    }
  )

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
 * @category promises
 */
export const toAsyncWithSignal = <Args extends ReadonlyArray<unknown>, A>(
  pipeline: Pipeline,
  fn: (signal: AbortSignal, ...args: Args) => Promise<A>
): ((...args: Args) => Promise<A>) & { readonly withSignal: (signal: AbortSignal) => (...args: Args) => Promise<A> } => {
  const call = (args: Args) => pipeline.execute(Effect.tryPromise({ try: (signal) => fn(signal, ...args), catch: (e) => e }))
  return Object.assign((...args: Args) => runAbortable(call(args), undefined), {
    withSignal: (signal: AbortSignal) => (...args: Args) => runAbortable(call(args), signal)
  })
}

/**
 * Options of `wrap`: a pipeline's code-only options; `name` defaults to the function's name.
 *
 * @since 0.1.0
 * @category models
 */
export interface WrapOptions extends MakeOptions {
  /** How often telemetry is pushed to the `Metric`s, checked when calls finish. Default 10 seconds. */
  readonly publishEvery?: Duration.Input | undefined
}

/**
 * A promise-returning function wrapped in a pipeline: call it like the original; `withSignal`
 * gives a version the caller can cancel; `dispose()` (or `await using`) releases the pipeline.
 *
 * @since 0.1.0
 * @category models
 */
export type Wrapped<Args extends ReadonlyArray<unknown>, A> = ((...args: Args) => Promise<A>) & {
  readonly withSignal: (signal: AbortSignal) => (...args: Args) => Promise<A>
  /** The pipeline's stats (telemetry published first). */
  readonly stats: () => Promise<Stats>
  /** Publishes telemetry and releases the pipeline; later calls reject with a `Disposed` error. */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

/**
 * The rejection of a call to a wrapped function after `dispose()`.
 *
 * @example
 * ```ts
 * import { Resilience } from "effect-resilience"
 * const error = new Resilience.Disposed({ name: "getUser" })
 * error.message // "getUser was disposed"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class Disposed extends Data.TaggedError("Disposed")<{ readonly name: string }> {
  override get message(): string {
    return `${this.name} was disposed`
  }
}

/**
 * Wraps an async function in a pipeline made from `policy`, in one call: no scope, layer or
 * runtime to manage. Its operation name (in logs, metrics and dead letters) is the function's
 * name unless `options.name` says otherwise. A bad policy does not throw: every call rejects with
 * the `PolicyError` naming every bad field. Release it with `dispose()` or `await using`. The
 * pipeline is built at once, synchronously: a guard whose construction waits (a Redis store)
 * needs `Pipeline.make` in a scope and `toAsync` instead.
 *
 * @example
 * ```ts
 * import { Policy, Resilience } from "effect-resilience"
 *
 * async function getUser(id: string) {
 *   const response = await fetch(`https://api.example.com/users/${id}`)
 *   if (!response.ok) throw Object.assign(new Error(response.statusText), { status: response.status })
 *   return response.json() as Promise<{ readonly id: string }>
 * }
 *
 * const resilientGetUser = Resilience.wrap(Policy.presets.http, getUser)
 * const user = resilientGetUser("42") // retried, through a circuit breaker, as "getUser"
 * await resilientGetUser.dispose()
 * ```
 * @since 0.1.0
 * @category promises
 */
export const wrap = <Args extends ReadonlyArray<unknown>, A>(
  policy: Input,
  fn: (...args: Args) => Promise<A>,
  options: WrapOptions = {}
): Wrapped<Args, A> => {
  const { publishEvery, ...makeOptions } = options
  const name = makeOptions.name ?? (fn.name === "" ? undefined : fn.name)
  const scope = Scope.makeUnsafe()
  const made = Effect.runSyncExit(Scope.provide(P.make(policy, { ...makeOptions, ...(name === undefined ? {} : { name }) }), scope))
  return wrapWith(made, scope, fn, {
    label: (pipeline) => name ?? pipeline?.name ?? "wrapped function",
    publishEveryMillis: publishEvery === undefined ? 10_000 : Duration.toMillis(Duration.fromInputUnsafe(publishEvery)),
    disposed: (label) => new Disposed({ name: label })
  })
}
