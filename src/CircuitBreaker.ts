/**
 * CircuitBreaker: stop calling a dependency that is failing, give it time, then test it carefully.
 *
 * A circuit's state lives in a `CircuitBreakerStore` (this process's memory unless the context
 * provides another, such as the Redis store of `effect-resilience/redis`) and changes only through
 * one pure transition function, whose rules docs/circuit-breaker.md writes out. Trip rules:
 * consecutive failures, failure rate and slow-call rate over a count or a time window. Open
 * periods can back off on a `Schedule` and honour `retryAfter` hints; half-open admits several
 * probes; a background health check can close the circuit without risking user calls; circuits can
 * be isolated and reset by hand, keyed per host or tenant, and observed as a `Stream`, as stats
 * and as metrics.
 *
 * A successful call through a closed in-memory circuit costs one `Effect.suspend` and one
 * `Effect.onExit`: the state is read and written synchronously, and the clock, logs and metrics
 * are only touched when something changes. A rejection is a `BreakerOpen` built without a stack
 * trace.
 *
 * @since 0.1.0
 */
import { type Duration, Effect, type Schema, type Scope, type Stream } from "effect"
import { dual } from "effect/Function"
import { delays, exponential } from "./Backoff.ts"
import * as Store from "./CircuitBreakerStore.ts"
import { defaultClassifier } from "./Failure.ts"
import { Circuit, healthCheck } from "./internal/breaker/circuit.ts"
import type { RuleInput, WindowInput } from "./internal/breaker/schema.ts"
import * as Errors from "./internal/breaker/errors.ts"
import { makeKeyed } from "./internal/breaker/keyed.ts"
import type * as Model from "./internal/breaker/model.ts"
import { type Defaults, type HealthCheckInput, type KeyedInput, makeFamily, type OptionsInput, resolve } from "./internal/breaker/options.ts"
import { publishInitial } from "./internal/breaker/publish.ts"
import * as Schemas from "./internal/breaker/schema.ts"
import type { Kind } from "./internal/kind.ts"
import type { PolicyError } from "./internal/policyError.ts"
import * as Telemetry from "./Telemetry.ts"

// ---------------------------------------------------------------------------------------------
// Errors and states
// ---------------------------------------------------------------------------------------------

/**
 * A call was rejected because its circuit is open, half-open with every probe slot taken, or
 * isolated. `retryAfter` says when the circuit may let calls in again, when known.
 * `Failure.defaultClassifier` treats it as `Permanent` of kind `"CircuitOpen"`, so a retry
 * outside the breaker does not hammer an open circuit. It is built without a stack trace, so a
 * rejection stays cheap when callers hammer an open circuit: its `stack` names only the error.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * declare const call: Effect.Effect<string, CircuitBreaker.BreakerOpen>
 * const handled = call.pipe(Effect.catchTag("BreakerOpen", (e) => Effect.succeed(`busy: ${e.name}`)))
 * ```
 * @since 0.1.0
 * @category errors
 */
export const BreakerOpen = Errors.BreakerOpen

/**
 * A rejection by a circuit (see the `BreakerOpen` constructor).
 *
 * @since 0.1.0
 * @category errors
 */
export type BreakerOpen = Errors.BreakerOpen

// A circuit's states (`Closed`, `Open`, `HalfOpen`, `Isolated`, their union `State`) and the
// `Reason` of a change are the store's words, documented in `CircuitBreakerStore`.
export type { Closed, HalfOpen, Isolated, Open, Reason, State } from "./CircuitBreakerStore.ts"

/**
 * A change of state, as published on `breaker.changes`. `at` is in ms since the epoch.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * const log = breaker.changes.pipe(
 *   Stream.runForEach((t: CircuitBreaker.Transition) => Effect.log(`${t.name}: ${t.from} -> ${t.to} (${t.reason})`))
 * )
 * ```
 * @since 0.1.0
 * @category models
 */
export interface Transition extends Store.Change {
  readonly name: string
}

/**
 * Counters since the breaker was made, plus the current state.
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = Model.Stats

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/**
 * A trip rule: when a closed circuit opens. Build with `consecutive`, `failureRate` and
 * `slowCallRate`; pass several (an array, or `anyOf`) to open when any one says so.
 *
 * @since 0.1.0
 * @category models
 */
export type Rule = RuleInput

/**
 * A rate rule's window: a number is a count of calls (`100`: the last 100 calls); a duration
 * (`"1 minute"`) is a time window kept in buckets, so each decision is O(1).
 *
 * @since 0.1.0
 * @category models
 */
export type Window = WindowInput

/**
 * Opens after `n` consecutive failures.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 * const rule = CircuitBreaker.consecutive(5)
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const consecutive = (n: number): Rule => ({ _tag: "Consecutive", failures: n })

/**
 * Opens when failures / calls in the window reach `threshold` (0..1), once the window holds at
 * least `minimumCalls` (default 1) calls.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 * const byCount = CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: 100 })
 * const byTime = CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: "1 minute" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const failureRate = (options: Omit<Extract<Rule, { readonly _tag: "FailureRate" }>, "_tag">): Rule => ({
  _tag: "FailureRate",
  ...options
})

/**
 * Opens when calls slower than `slowerThan` make up `threshold` (0..1) of the window, once it
 * holds `minimumCalls` calls. A slow call counts whether it succeeded or failed.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 * const rule = CircuitBreaker.slowCallRate({ threshold: 0.8, slowerThan: "2 seconds", minimumCalls: 10, window: "1 minute" })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const slowCallRate = (options: Omit<Extract<Rule, { readonly _tag: "SlowCallRate" }>, "_tag">): Rule => ({
  _tag: "SlowCallRate",
  ...options
})

/**
 * Combines rules: the circuit opens when any one of them says so.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 * const trip = CircuitBreaker.anyOf(
 *   CircuitBreaker.consecutive(5),
 *   CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: "30 seconds" })
 * )
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const anyOf = (...rules: ReadonlyArray<Rule>): ReadonlyArray<Rule> => rules

// ---------------------------------------------------------------------------------------------
// Schemas: the one definition of every breaker option's rules and defaults
// ---------------------------------------------------------------------------------------------

/**
 * A rate rule's window as data: a whole number of calls (`100`, at most 1 000 000) or a positive
 * duration (`"1 minute"`, `"30s"`), decoded to a number or a `Duration`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * Schema.decodeUnknownSync(CircuitBreaker.WindowSchema)(100) // 100 (calls)
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const WindowSchema: Schema.Codec<number | Duration.Duration, WindowInput> = Schemas.WindowSchema

/**
 * What `make` decodes its data options through: `trip` (rules; default `consecutive(5)`),
 * `openFor` (30 seconds, unless a `Schedule` is given), `maxOpenFor` (10 minutes), `halfOpen`
 * (`probes` 1, `successesToClose` = probes), the health check's `every`, and for keyed breakers
 * `idleTimeToLive` (10 minutes) and `maxCircuits` (100 000). The same field schemas make
 * `BreakerPolicy`, so code and data accept and reject the same values.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * Schema.decodeUnknownSync(CircuitBreaker.OptionsSchema)({ trip: [CircuitBreaker.consecutive(3)] })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const OptionsSchema = Schemas.OptionsSchema

/**
 * A circuit breaker policy as data: when to open (any rule that is given trips it; with none,
 * 5 consecutive failures), how long to stay open, and how to probe. Built from the same field
 * schemas as `make`'s options.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * const breaker = Schema.decodeUnknownSync(CircuitBreaker.BreakerPolicy)({
 *   failureRate: { threshold: 0.5, minimumCalls: 20, window: "1 minute" },
 *   openFor: "30 seconds",
 *   halfOpen: { probes: 3 }
 * })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const BreakerPolicy = Schemas.BreakerPolicy

/**
 * A decoded breaker policy.
 *
 * @since 0.1.0
 * @category schemas
 */
export type BreakerPolicy = typeof BreakerPolicy.Type

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/**
 * What a call's typed error means for the circuit: `"failure"` counts against it (an object with
 * `retryAfter` is a failure with a hint for the open period), `"success"` counts for it, and
 * `"ignored"` does not count.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "success" | "failure" | "ignored" | { readonly retryAfter: Duration.Input }

/**
 * A background check of the dependency's health while the circuit is open.
 *
 * @since 0.1.0
 * @category models
 */
export interface HealthCheck extends HealthCheckInput {}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OptionsInput {}

/**
 * A circuit breaker store (the `CircuitBreakerStore` service's shape).
 *
 * @deprecated Provide a `CircuitBreakerStore` layer instead of the `store` option.
 * @since 0.1.0
 * @category models
 */
export type StoreFactory = Store.CircuitBreakerStore["Service"]

/**
 * A circuit breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  readonly name: string
  /** Runs an effect through the circuit; rejected calls fail with `BreakerOpen`. */
  readonly execute: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  /** The current state (an open circuit whose period has passed reads as half-open). */
  readonly state: Effect.Effect<Store.State>
  readonly stats: Effect.Effect<Stats>
  /** Transitions from now on. */
  readonly changes: Stream.Stream<Transition>
  /** Forces the circuit open until `reset`. */
  readonly isolate: Effect.Effect<void>
  /** Forces the circuit closed and clears its counts and backoff. */
  readonly reset: Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

const neutralKinds: ReadonlySet<Kind> = new Set<Kind>(["Client", "Validation", "NotFound", "Auth"])

const defaultOutcome = (error: unknown): Outcome => {
  const verdict = defaultClassifier(error)
  if (verdict._tag === "Permanent") return neutralKinds.has(verdict.kind) ? "ignored" : "failure"
  return verdict.retryAfter === undefined ? "failure" : { retryAfter: verdict.retryAfter }
}

// The metrics are Telemetry's, so a pipeline and a standalone breaker report to the same series.
const sinks = {
  state: Telemetry.metrics.breakerState,
  transitions: Telemetry.metrics.breakerTransitions,
  rejections: Telemetry.metrics.rejections,
  evictions: Telemetry.metrics.breakerEvictions,
  stateValue: Telemetry.breakerStateValue
}

const defaults: Defaults = { classify: defaultOutcome, sinks, store: Store.current, expand: (schedule, n) => delays(schedule, n) }

/**
 * Makes a circuit breaker. Bad options fail with a `Policy.PolicyError` naming every bad field
 * (`trip[0].threshold`, `halfOpen.probes`, …). The breaker's clock is the `Clock` of the fiber
 * running `make` (so `TestClock` drives it in tests); its health check runs in the `Scope`. Its
 * state lives in the `CircuitBreakerStore` of the context, by default in memory.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const callPayments: Effect.Effect<string, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({
 *     name: "payments",
 *     trip: [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: "1 minute" })],
 *     openFor: Schedule.exponential("5 seconds"),
 *     maxOpenFor: "2 minutes",
 *     halfOpen: { probes: 3, successesToClose: 3 }
 *   })
 *   return yield* breaker.execute(callPayments)
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, healthEvery } = yield* resolve(options, defaults)
    const family = yield* makeFamily(options, config, defaults)
    const circuit = new Circuit(family, options.name ?? "breaker")
    const health = options.healthCheck
    if (health !== undefined && healthEvery !== undefined) {
      yield* Effect.forkScoped(healthCheck(circuit, health.probe, healthEvery))
    }
    yield* publishInitial(family.publisher, circuit.name)
    return circuit
  })

/**
 * Runs an effect through a breaker (pipeable form of `breaker.execute`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * const guarded = Effect.succeed(1).pipe(CircuitBreaker.protect(breaker))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (breaker: CircuitBreaker): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | BreakerOpen, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | BreakerOpen, R> =>
    breaker.execute(self)
)

// ---------------------------------------------------------------------------------------------
// Keyed
// ---------------------------------------------------------------------------------------------

/**
 * Options of `keyed`: a breaker's options (without health checks, which are per dependency) plus
 * how long an unused circuit is kept.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyedOptions extends KeyedInput {}

/**
 * One circuit per key (host, tenant, model), created on first use and evicted when idle.
 *
 * @since 0.1.0
 * @category models
 */
export interface Keyed<in K> {
  /** The circuit for a key, created if needed. */
  readonly get: (key: K) => Effect.Effect<CircuitBreaker>
  /** Runs an effect through the key's circuit. */
  readonly execute: <A, E, R>(key: K, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  /** Transitions of every key's circuit; `name` is `<name>/<key>`. */
  readonly changes: Stream.Stream<Transition>
  /** How many circuits are held. */
  readonly size: Effect.Effect<number>
}

/**
 * Makes a keyed breaker: one circuit per key, sharing options, created on first use and dropped
 * after `idleTimeToLive` without calls once their state no longer matters, at most `maxCircuits`
 * of them. An idle key costs a few hundred bytes (its closed state and counters; windows are
 * allocated on first use).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const fetchFrom: (host: string) => Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const perHost = yield* CircuitBreaker.keyed<string>({ name: "hosts", trip: CircuitBreaker.consecutive(3) })
 *   return yield* perHost.execute("api.example.com", fetchFrom("api.example.com"))
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const keyed = <K = string>(options: KeyedOptions = {}): Effect.Effect<Keyed<K>, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, idleTimeToLive, maxCircuits } = yield* resolve(options, defaults)
    const family = yield* makeFamily(options, config, defaults)
    return yield* makeKeyed<K>(family, options.name ?? "breaker", { idleTimeToLive, maxCircuits })
  })

/**
 * The options a data policy (`Policy.BreakerPolicy`, or `true` for the defaults) stands for: its
 * trip rules, open period (backing off by `openForMultiplier`) and half-open settings. `Pipeline`
 * and `effect-resilience/http`'s per-host circuits build their breakers from it.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 * const options = CircuitBreaker.optionsFromPolicy("payments", true) // { name: "payments" }
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const optionsFromPolicy = (name: string, policy: true | typeof Schemas.BreakerPolicy.Type): Options => {
  if (policy === true) return { name }
  const trip = Schemas.policyRules(policy)
  const openFor = policy.openForMultiplier === undefined
    ? policy.openFor
    : exponential({ initial: policy.openFor, factor: policy.openForMultiplier })
  return {
    name,
    ...(trip.length > 0 ? { trip } : {}),
    openFor,
    maxOpenFor: policy.maxOpenFor,
    halfOpen: policy.halfOpen
  }
}
