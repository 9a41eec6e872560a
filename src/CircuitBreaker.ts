/**
 * CircuitBreaker: stop calling a dependency that is failing, give it time, then test it carefully.
 *
 * Each circuit's state lives in a `Ref` and changes only through one pure transition function
 * (`internal/breaker/machine.ts`, rules written out in docs/circuit-breaker.md). Trip rules:
 * consecutive failures, failure rate and slow-call rate over a count or a time window. Open
 * periods can back off on a `Schedule` and honour `retryAfter` hints; half-open admits several
 * probes; a background health check can close the circuit without risking user calls; circuits can
 * be isolated and reset by hand, keyed per host or tenant, and observed as a `Stream`, as stats
 * and as metrics.
 *
 * A successful call through a closed circuit costs one `Effect.suspend` and one `Effect.onExit`:
 * the state is read and written synchronously, and the clock, logs and metrics are only touched
 * when something changes (metrics are counted in memory and published at transitions).
 *
 * @since 0.1.0
 */
import {
  Cause,
  Clock,
  Data,
  Duration,
  Effect,
  type Exit,
  Metric,
  PubSub,
  Ref,
  Result,
  Schedule,
  Schema,
  SchemaTransformation,
  type Scope,
  Stream
} from "effect"
import { dual } from "effect/Function"
import { delays } from "./Backoff.ts"
import { defaultClassifier } from "./Failure.ts"
import { type DecodedRule, type RuleInput, toConfig, type WindowInput } from "./internal/breaker/config.ts"
import * as M from "./internal/breaker/machine.ts"
import { applyUnsafe } from "./internal/breaker/store.ts"
import { bounds, Delay, IntBetween, NumberBetween, PositiveDelay, Ratio, toDuration, toMillis, withDefault } from "./internal/fields.ts"
import type { ClosedPath } from "./internal/fused.ts"
import type { Kind } from "./internal/kind.ts"
import { PolicyError, type PolicyIssue } from "./internal/policyError.ts"
import { decodeOptions } from "./internal/strict.ts"
import * as Telemetry from "./Telemetry.ts"

// ---------------------------------------------------------------------------------------------
// Errors and states
// ---------------------------------------------------------------------------------------------

/**
 * A call was rejected because its circuit is open, half-open with every probe slot taken, or
 * isolated. `retryAfter` says when the circuit may let calls in again, when known.
 * `Failure.defaultClassifier` treats it as `Permanent` of kind `"CircuitOpen"`, so a retry
 * outside the breaker does not hammer an open circuit.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * declare const call: Effect.Effect<string, CircuitBreaker.BreakerOpen>
 * const handled = call.pipe(Effect.catchTag("BreakerOpen", (e) => Effect.succeed(`busy: ${e.name}`)))
 * ```
 * @since 0.1.0
 */
export class BreakerOpen extends Data.TaggedError("BreakerOpen")<{
  readonly name: string
  readonly retryAfter: Duration.Duration | undefined
}> {
  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `; retry after ${Duration.format(this.retryAfter)}`
    return `Circuit breaker ${this.name} is open${after}`
  }
}

/**
 * Calls flow; failures are counted.
 *
 * @since 0.1.0
 */
export interface Closed {
  readonly _tag: "Closed"
  /** When the state was entered, in ms since the epoch (the breaker's `Clock`). */
  readonly since: number
  readonly consecutiveFailures: number
}

/**
 * Calls are rejected until `until` (ms since the epoch).
 *
 * @since 0.1.0
 */
export interface Open {
  readonly _tag: "Open"
  readonly since: number
  readonly until: number
  /** Consecutive openings, which drive an `openFor` schedule. */
  readonly openings: number
}

/**
 * A few probe calls test the dependency.
 *
 * @since 0.1.0
 */
export interface HalfOpen {
  readonly _tag: "HalfOpen"
  readonly since: number
  readonly probesInFlight: number
  readonly successes: number
}

/**
 * Forced open by `isolate` until `reset`.
 *
 * @since 0.1.0
 */
export interface Isolated {
  readonly _tag: "Isolated"
  readonly since: number
}

/**
 * A circuit's state.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * const isOpen = Effect.map(breaker.state, (s: CircuitBreaker.State) => s._tag === "Open")
 * ```
 * @since 0.1.0
 */
export type State = Closed | Open | HalfOpen | Isolated

/**
 * Why a circuit changed state.
 *
 * @since 0.1.0
 */
export type Reason = M.Reason

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
 */
export interface Transition {
  readonly name: string
  readonly from: State["_tag"]
  readonly to: State["_tag"]
  readonly at: number
  readonly reason: Reason
}

/**
 * Counters since the breaker was made, plus the current state.
 *
 * @since 0.1.0
 */
export interface Stats {
  readonly name: string
  readonly state: State["_tag"]
  /** When the current state was entered (ms since the epoch). */
  readonly since: number
  /** Calls let in (rejections are not calls). */
  readonly calls: number
  readonly successes: number
  readonly failures: number
  readonly slowCalls: number
  /** Calls whose outcome did not count (interrupted, or excluded by the classifier). */
  readonly ignored: number
  readonly rejections: number
  /** Failures / counted calls in the current window (since the breaker was made without rate rules). */
  readonly failureRate: number
  readonly slowCallRate: number
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/**
 * A trip rule: when a closed circuit opens. Build with `consecutive`, `failureRate` and
 * `slowCallRate`; pass several (an array, or `anyOf`) to open when any one says so.
 *
 * @since 0.1.0
 */
export type Rule = RuleInput

/**
 * A rate rule's window: a number is a count of calls (`100`: the last 100 calls); a duration
 * (`"1 minute"`) is a time window kept in buckets, so each decision is O(1).
 *
 * @since 0.1.0
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
 */
export const failureRate = (options: {
  readonly threshold: number
  readonly minimumCalls?: number | undefined
  readonly window: Window
  /** Buckets of a time window (default 10). */
  readonly buckets?: number | undefined
}): Rule => ({ _tag: "FailureRate", ...options })

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
 */
export const slowCallRate = (options: {
  readonly threshold: number
  readonly slowerThan: Duration.Input
  readonly minimumCalls?: number | undefined
  readonly window: Window
  readonly buckets?: number | undefined
}): Rule => ({ _tag: "SlowCallRate", ...options })

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
 */
export const anyOf = (...rules: ReadonlyArray<Rule>): ReadonlyArray<Rule> => rules

// ---------------------------------------------------------------------------------------------
// Schemas: the one definition of every breaker option's rules and defaults
// ---------------------------------------------------------------------------------------------

const windowExpected = `a whole number of calls (1..${bounds.size}), or a positive duration such as "1 minute" or "30s"`

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
export const WindowSchema: Schema.Codec<number | Duration.Duration, WindowInput> = Schema.Unknown.check(
  Schema.makeFilter((input: unknown) => {
    if (typeof input === "number") return (Number.isInteger(input) && input >= 1 && input <= bounds.size) || `Expected ${windowExpected}`
    const d = toDuration(input)
    return (d !== undefined && Duration.isFinite(d) && Duration.toMillis(d) > 0) || `Expected ${windowExpected}`
  })
).pipe(
  Schema.decodeTo(
    Schema.Union([Schema.Number, Schema.Duration]),
    SchemaTransformation.transform<number | Duration.Duration, unknown>({
      decode: (input) => (typeof input === "number" ? input : toDuration(input) ?? Duration.zero),
      encode: (window) => window
    })
  )
).annotate({ expected: windowExpected }) as unknown as Schema.Codec<number | Duration.Duration, WindowInput>

const FailureCount = IntBetween(1, bounds.size)

const rateRuleFields = {
  /** Trips when failures (or slow calls) / calls in the window reach this (0..1). */
  threshold: Ratio,
  /** Calls the window must hold before the rate counts. */
  minimumCalls: withDefault(IntBetween(1, bounds.size), 1),
  window: WindowSchema,
  /** Buckets of a time window (its resolution). */
  buckets: withDefault(IntBetween(1, bounds.buckets), 10)
}

const slowCallFields = {
  ...rateRuleFields,
  /** A call at least this slow counts as slow, whether it succeeded or failed. */
  slowerThan: Delay
}

const HalfOpenSchema = Schema.Struct({
  /** Probes allowed at once while half-open. */
  probes: withDefault(IntBetween(1, bounds.size), 1),
  /** Successful probes that close the circuit (default: probes). */
  successesToClose: Schema.optionalKey(IntBetween(1, bounds.size))
})

const commonFields = {
  /** How long to stay open. */
  openFor: withDefault(Delay, 30_000),
  /** Caps every open period, including one stretched by a retry-after hint. */
  maxOpenFor: withDefault(Delay, "10 minutes"),
  halfOpen: withDefault(HalfOpenSchema, {})
}

const RuleSchema = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Consecutive"), failures: FailureCount }),
  Schema.Struct({ _tag: Schema.Literal("FailureRate"), ...rateRuleFields }),
  Schema.Struct({ _tag: Schema.Literal("SlowCallRate"), ...slowCallFields })
])

/**
 * What `make` decodes its data options through: `trip` (rules; default `consecutive(5)`),
 * `openFor` (30 seconds, unless a `Schedule` is given), `maxOpenFor` (10 minutes), `halfOpen`
 * (`probes` 1, `successesToClose` = probes) and the health check's `every`. The same field
 * schemas make `BreakerPolicy`, so code and data accept and reject the same values.
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
export const OptionsSchema = Schema.Struct({
  name: Schema.optionalKey(Schema.NonEmptyString),
  trip: withDefault(Schema.Array(RuleSchema).check(Schema.isMinLength(1)), [{ _tag: "Consecutive", failures: 5 }]),
  ...commonFields,
  healthCheck: Schema.optionalKey(Schema.Struct({ every: PositiveDelay, closeOnSuccess: withDefault(Schema.Boolean, false) })),
  /** Keyed breakers: a circuit unused this long (and not open or isolated) is dropped. */
  idleTimeToLive: withDefault(PositiveDelay, "10 minutes")
})

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
export const BreakerPolicy = Schema.Struct({
  consecutiveFailures: Schema.optionalKey(FailureCount),
  failureRate: Schema.optionalKey(Schema.Struct(rateRuleFields)),
  slowCallRate: Schema.optionalKey(Schema.Struct(slowCallFields)),
  ...commonFields,
  /** Each consecutive opening lasts `multiplier` times longer than the last (capped by maxOpenFor). */
  openForMultiplier: Schema.optionalKey(NumberBetween(1, 1000))
})

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
 */
export type Outcome = "success" | "failure" | "ignored" | { readonly retryAfter: Duration.Input }

/**
 * A background check of the dependency's health while the circuit is open.
 *
 * @since 0.1.0
 */
export interface HealthCheck {
  /** Succeeds when the dependency is healthy. Runs every `every` while the circuit is open. */
  readonly probe: Effect.Effect<unknown, unknown>
  readonly every: Duration.Input
  /** A passing probe closes the circuit instead of half-opening it. Default `false`. */
  readonly closeOnSuccess?: boolean | undefined
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** For errors, logs and metrics. Default `"breaker"`. */
  readonly name?: string | undefined
  /** When to open: one rule or several (any of). Default `consecutive(5)`. */
  readonly trip?: Rule | ReadonlyArray<Rule> | undefined
  /**
   * How long to stay open: a duration, or a `Schedule` whose k-th delay is the k-th consecutive
   * opening's period (the count resets once the circuit stays closed as long as it was last
   * open). Default 30 seconds.
   */
  readonly openFor?: Duration.Input | Schedule.Schedule<unknown, unknown> | undefined
  /** Caps every open period, including one stretched by a failure's `retryAfter`. Default 10 minutes. */
  readonly maxOpenFor?: Duration.Input | undefined
  /** Probes allowed at once while half-open (default 1) and successes that close it (default = probes). */
  readonly halfOpen?: { readonly probes?: number | undefined; readonly successesToClose?: number | undefined } | undefined
  readonly healthCheck?: HealthCheck | undefined
  /**
   * Decides what a typed error means. Default: every error counts as a failure except `Permanent`
   * ones of kinds Client, Validation, NotFound and Auth (by `Failure.defaultClassifier`);
   * `Transient` errors' `retryAfter` hints stretch the open period. Defects always count;
   * interruption never does.
   */
  readonly classify?: ((error: unknown) => Outcome) | undefined
  /** Log transitions (Warn on open and isolate, Info otherwise). Default `true`. */
  readonly log?: boolean | undefined
  /**
   * Where circuit state lives. Default: in this process's memory (a `Ref`). A shared store, such
   * as `effect-resilience/redis`'s `CircuitBreakerStore.make`, lets every process of a fleet use
   * one circuit: each admission and each outcome is one atomic store call.
   */
  readonly store?: StoreFactory | undefined
}

/**
 * One event applied by a shared store: the machine's step (next state, transition if any, ticket)
 * and the store's time in ms.
 *
 * @since 0.1.0
 */
export interface StoreStep {
  readonly step: M.Step
  readonly now: number
}

/**
 * One circuit's state in a shared store. `apply` runs the breaker's transition function on the
 * stored state atomically; it answers `undefined` when the store is unavailable (it handles its
 * own timeouts and logging). Then `onUnavailable` decides: `"allow"` lets this process's
 * in-memory circuit decide (fail open, counting locally), `"reject"` fails calls with
 * `BreakerOpen` (fail closed).
 *
 * @since 0.1.0
 */
export interface Store {
  readonly apply: (event: M.Event) => Effect.Effect<StoreStep | undefined>
  readonly onUnavailable: "allow" | "reject"
}

/**
 * Makes the shared store of a circuit from its name and resolved configuration. Build one with
 * `effect-resilience/redis` (`CircuitBreakerStore.make`) and pass it as the `store` option.
 *
 * @since 0.1.0
 */
export interface StoreFactory {
  readonly circuit: (name: string, config: M.Config) => Store
}

/**
 * A circuit breaker.
 *
 * @since 0.1.0
 */
export interface CircuitBreaker {
  readonly name: string
  /** Runs an effect through the circuit; rejected calls fail with `BreakerOpen`. */
  readonly execute: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  /** The current state (an open circuit whose period has passed reads as half-open). */
  readonly state: Effect.Effect<State>
  readonly stats: Effect.Effect<Stats>
  /** Transitions from now on. */
  readonly changes: Stream.Stream<Transition>
  /** Forces the circuit open until `reset`. */
  readonly isolate: Effect.Effect<void>
  /** Forces the circuit closed and clears its counts and backoff. */
  readonly reset: Effect.Effect<void>
}

// ---------------------------------------------------------------------------------------------
// Telemetry
// ---------------------------------------------------------------------------------------------

// The metrics are Telemetry's, so a pipeline and a standalone breaker report to the same series.
const stateGauge = Telemetry.metrics.breakerState
const transitionsTotal = Telemetry.metrics.breakerTransitions
const rejectionsTotal = Telemetry.metrics.rejections

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

/** Closed calls carry this ticket: it never names a half-open generation. */
const CLOSED_TICKET = -2
const ADMIT: M.Event = { _tag: "Admit" }
const TICK: M.Event = { _tag: "Tick" }
const CLOSED_SUCCESS: M.Event = { _tag: "Success", ticket: CLOSED_TICKET }
// Effect's onExit primitive accepts a handler that returns undefined (no finalizer effect to run);
// returning it instead of Effect.void saves a step per successful call on the hot path.
const NOTHING = undefined as unknown as Effect.Effect<void>

const neutralKinds: ReadonlySet<Kind> = new Set<Kind>(["Client", "Validation", "NotFound", "Auth"])

const defaultOutcome = (error: unknown): Outcome => {
  const verdict = defaultClassifier(error)
  if (verdict._tag === "Permanent") return neutralKinds.has(verdict.kind) ? "ignored" : "failure"
  return verdict.retryAfter === undefined ? "failure" : { retryAfter: verdict.retryAfter }
}

/** What every circuit of one breaker (or one keyed family) shares. */
interface Shared {
  readonly name: string
  readonly config: M.Config
  readonly clock: Clock.Clock
  readonly pubsub: PubSub.PubSub<Transition>
  readonly classify: (error: unknown) => Outcome
  /** Slow-call threshold in ms, when a slow-call rule exists. */
  readonly slowerThan: number | undefined
  /** Some rule keeps a window, so successes must be recorded. */
  readonly windows: boolean
  readonly log: boolean
  readonly store: StoreFactory | undefined
}

class Circuit implements CircuitBreaker {
  calls = 0
  successes = 0
  failures = 0
  slowCalls = 0
  ignored = 0
  rejections = 0
  publishedRejections = 0
  /** Used since the last eviction sweep. */
  touched = true
  idleSince = 0
  readonly ref: Ref.Ref<M.State>
  readonly shared: Shared
  readonly name: string

  constructor(shared: Shared, name: string, now: number) {
    this.shared = shared
    this.name = name
    this.ref = Ref.makeUnsafe<M.State>(M.initial(now))
    this.idleSince = now
  }

  /** The exit handler of calls admitted while closed, without a slow-call rule (the hot path). */
  readonly onClosedExit = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
    if (exit._tag === "Success") {
      this.successes++
      const state = this.ref.ref.current
      // The machine returns a closed state with no failures and no windows unchanged on success.
      if (state._tag === "Closed" && state.failures === 0 && !this.shared.windows) return NOTHING
      return this.apply(CLOSED_SUCCESS)
    }
    return this.onFailureExit(exit.cause, CLOSED_TICKET, false)
  }

  /** Applies an outcome: to the shared store when the call was admitted by it, else in memory. */
  outcome(event: M.Event, remote: boolean): Effect.Effect<void> {
    return remote ? this.applyRemote(event) : this.apply(event)
  }

  /** Applies an event to the shared store (a plain circuit has none). */
  applyRemote(event: M.Event): Effect.Effect<void> {
    return this.apply(event)
  }

  onFailureExit(cause: Cause.Cause<unknown>, ticket: number, slow: boolean, remote = false): Effect.Effect<void> {
    let outcome: Outcome | undefined
    for (const reason of cause.reasons) {
      if (reason._tag === "Fail") {
        outcome = this.shared.classify(reason.error)
        break
      }
    }
    if (outcome === undefined) outcome = Cause.hasDies(cause) ? "failure" : "ignored"
    if (outcome === "ignored") {
      this.ignored++
      return this.outcome({ _tag: "Ignored", ticket }, remote)
    }
    if (outcome === "success") {
      this.successes++
      if (slow) this.slowCalls++
      return this.outcome(slow ? { _tag: "Slow", ticket } : { _tag: "Success", ticket }, remote)
    }
    this.failures++
    if (slow) this.slowCalls++
    const retryAfter = outcome === "failure" ? undefined : toMillis(outcome.retryAfter)
    return this.outcome({ _tag: "Failure", ticket, slow, retryAfter }, remote)
  }

  record(exit: Exit.Exit<unknown, unknown>, ticket: number, start: number, remote = false): Effect.Effect<void> {
    const slowerThan = this.shared.slowerThan
    const slow = slowerThan !== undefined && this.shared.clock.currentTimeMillisUnsafe() - start >= slowerThan
    if (exit._tag === "Success") {
      this.successes++
      if (slow) this.slowCalls++
      return this.outcome(slow ? { _tag: "Slow", ticket } : { _tag: "Success", ticket }, remote)
    }
    return this.onFailureExit(exit.cause, ticket, slow, remote)
  }

  apply(event: M.Event): Effect.Effect<void> {
    const shared = this.shared
    const transition = applyUnsafe(this.ref, event, shared.clock.currentTimeMillisUnsafe(), shared.config)[1]
    return transition === undefined ? NOTHING : this.publish(transition)
  }

  /** Publishes a transition: the stream, the metrics (with the rejections counted so far) and a log line. */
  publish(t: M.Transition): Effect.Effect<void> {
    const shared = this.shared
    const transition: Transition = { name: this.name, from: t.from, to: t.to, at: t.at, reason: t.reason }
    const attributes = { operation: this.name }
    const effects: Array<Effect.Effect<unknown>> = [
      PubSub.publish(shared.pubsub, transition),
      Metric.update(Metric.withAttributes(stateGauge, attributes), Telemetry.breakerStateValue(t.to)),
      Metric.update(Metric.withAttributes(transitionsTotal, { ...attributes, from: t.from, to: t.to }), 1),
      this.flushRejections
    ]
    if (shared.log) {
      const line = `Circuit breaker ${this.name}: ${t.from} -> ${t.to} (${t.reason})`
      const log = t.to === "Open" || t.to === "Isolated" ? Effect.logWarning(line) : Effect.logInfo(line)
      effects.push(log.pipe(Effect.annotateLogs({ breaker: this.name, from: t.from, to: t.to, reason: t.reason })))
    }
    return Effect.asVoid(Effect.all(effects, { discard: true }))
  }

  get flushRejections(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const delta = this.rejections - this.publishedRejections
      if (delta === 0) return Effect.void
      this.publishedRejections = this.rejections
      return Metric.update(Metric.withAttributes(rejectionsTotal, { operation: this.name, reason: "circuit_open" }), delta)
    })
  }

  /** The breaker's clock, for the fused path. */
  now(): number {
    return this.shared.clock.currentTimeMillisUnsafe()
  }

  /** The fused path must time every call: a slow-call rule needs each call's start. */
  get needsStart(): boolean {
    return this.shared.slowerThan !== undefined
  }

  /** Fused-path admission (see `closedPathUnsafe`): counts the call if the circuit is closed. */
  admitClosed(): boolean {
    this.touched = true
    if (this.ref.ref.current._tag !== "Closed") return false
    this.calls++
    return true
  }

  /** Fused-path outcome of a call that `admitClosed` let through. */
  closedExit(exit: Exit.Exit<unknown, unknown>, start: number): Effect.Effect<void> | undefined {
    return this.shared.slowerThan === undefined ? this.onClosedExit(exit) : this.record(exit, CLOSED_TICKET, start)
  }

  execute<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> {
    return Effect.suspend(() => {
      this.touched = true
      const state = this.ref.ref.current
      // The machine admits every call while closed and changes nothing, so the hot path skips it.
      if (state._tag === "Closed") {
        this.calls++
        if (this.shared.slowerThan === undefined) return Effect.onExit(effect, this.onClosedExit)
        const start = this.shared.clock.currentTimeMillisUnsafe()
        return Effect.onExit(effect, (exit) => this.record(exit, CLOSED_TICKET, start))
      }
      return this.guarded(effect)
    })
  }

  /** Admission through the machine, uninterruptible up to the call, so a probe's slot is always freed. */
  guarded<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend((): Effect.Effect<A, E | BreakerOpen, R> => {
        const shared = this.shared
        const now = shared.clock.currentTimeMillisUnsafe()
        const [next, transition, ticket] = applyUnsafe(this.ref, ADMIT, now, shared.config)
        const announce = transition === undefined ? NOTHING : this.publish(transition)
        if (ticket === -1) {
          this.rejections++
          const after = M.retryAfter(next, now)
          const error = new BreakerOpen({ name: this.name, retryAfter: after === undefined ? undefined : Duration.millis(after) })
          return announce === NOTHING ? Effect.fail(error) : Effect.andThen(announce, Effect.fail(error))
        }
        this.calls++
        const run = Effect.onExit(restore(effect), (exit) => this.record(exit, ticket, now))
        return announce === NOTHING ? run : Effect.andThen(announce, run)
      })
    )
  }

  get state(): Effect.Effect<State> {
    return Effect.suspend(() => {
      const announce = this.apply(TICK)
      const view = toPublic(this.ref.ref.current)
      return announce === NOTHING ? Effect.succeed(view) : Effect.as(announce, view)
    })
  }

  get stats(): Effect.Effect<Stats> {
    return Effect.suspend(() => this.statsOf(this.ref.ref.current, this.shared.clock.currentTimeMillisUnsafe()))
  }

  /** Stats of this process's counters with a circuit state (local, or as read from the store). */
  statsOf(state: M.State, now: number): Effect.Effect<Stats> {
    return Effect.suspend(() => {
      const shared = this.shared
      const rates = M.rates(state, shared.config, now)
      const counted = this.successes + this.failures
      const stats: Stats = {
        name: this.name,
        state: state._tag,
        since: state.since,
        calls: this.calls,
        successes: this.successes,
        failures: this.failures,
        slowCalls: this.slowCalls,
        ignored: this.ignored,
        rejections: this.rejections,
        failureRate: rates?.failureRate ?? (counted === 0 ? 0 : this.failures / counted),
        slowCallRate: rates?.slowCallRate ?? (counted === 0 ? 0 : this.slowCalls / counted)
      }
      return Effect.as(this.flushRejections, stats)
    })
  }

  get changes(): Stream.Stream<Transition> {
    const name = this.name
    return Stream.filter(Stream.fromPubSub(this.shared.pubsub), (t) => t.name === name)
  }

  get isolate(): Effect.Effect<void> {
    return Effect.suspend(() => this.apply({ _tag: "Isolate" }))
  }

  get reset(): Effect.Effect<void> {
    return Effect.suspend(() => this.apply({ _tag: "Reset" }))
  }
}

/**
 * A circuit whose state lives in a shared store: every admission and every counted outcome is
 * one store call. While the store is unavailable, calls go through this process's in-memory
 * circuit (`onUnavailable: "allow"`) or are rejected (`"reject"`). Transitions are published by
 * the process whose event caused them.
 */
class RemoteCircuit extends Circuit {
  readonly store: Store
  /** The state last read from the store. */
  view: M.State | undefined

  constructor(shared: Shared, name: string, now: number, store: Store) {
    super(shared, name, now)
    this.store = store
  }

  /** After an admission while closed, a success changes nothing when there are no failures to clear and nothing to record. */
  successIsNoop(state: M.State): boolean {
    return state._tag === "Closed" && state.failures === 0 && !this.shared.windows && this.shared.slowerThan === undefined
  }

  override execute<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(this.store.apply(ADMIT), (reply): Effect.Effect<A, E | BreakerOpen, R> => {
        this.touched = true
        if (reply === undefined) {
          if (this.store.onUnavailable === "allow") return restore(super.execute(effect))
          this.rejections++
          return Effect.fail(new BreakerOpen({ name: this.name, retryAfter: undefined }))
        }
        const [next, transition, ticket] = reply.step
        this.view = next
        const announce = transition === undefined ? NOTHING : this.publish(transition)
        if (ticket === -1) {
          this.rejections++
          const after = M.retryAfter(next, reply.now)
          const error = new BreakerOpen({ name: this.name, retryAfter: after === undefined ? undefined : Duration.millis(after) })
          return announce === NOTHING ? Effect.fail(error) : Effect.andThen(announce, Effect.fail(error))
        }
        this.calls++
        const noop = this.successIsNoop(next)
        const start = this.shared.clock.currentTimeMillisUnsafe()
        const run = Effect.onExit(restore(effect), (exit) => {
          if (noop && exit._tag === "Success") {
            this.successes++
            return NOTHING
          }
          return this.record(exit, ticket, start, true)
        })
        return announce === NOTHING ? run : Effect.andThen(announce, run)
      })
    )
  }

  override applyRemote(event: M.Event): Effect.Effect<void> {
    return Effect.flatMap(this.store.apply(event), (reply) => {
      if (reply === undefined) return Effect.void
      this.view = reply.step[0]
      const transition = reply.step[1]
      return transition === undefined ? Effect.void : this.publish(transition)
    })
  }

  /** The stored state after a tick (time-driven transitions applied), or the local one while the store is unavailable. */
  get current(): Effect.Effect<readonly [M.State, number]> {
    return Effect.flatMap(this.store.apply(TICK), (reply) => {
      if (reply === undefined) return Effect.succeed([this.ref.ref.current, this.shared.clock.currentTimeMillisUnsafe()] as const)
      this.view = reply.step[0]
      const transition = reply.step[1]
      const result = [reply.step[0], reply.now] as const
      return transition === undefined ? Effect.succeed(result) : Effect.as(this.publish(transition), result)
    })
  }

  override get state(): Effect.Effect<State> {
    return Effect.map(this.current, ([state]) => toPublic(state))
  }

  override get stats(): Effect.Effect<Stats> {
    return Effect.flatMap(this.current, ([state, now]) => this.statsOf(state, now))
  }

  override get isolate(): Effect.Effect<void> {
    return this.applyRemote({ _tag: "Isolate" })
  }

  override get reset(): Effect.Effect<void> {
    return Effect.andThen(this.applyRemote({ _tag: "Reset" }), Effect.suspend(() => this.apply({ _tag: "Reset" })))
  }
}

const newCircuit = (shared: Shared, name: string, now: number): Circuit =>
  shared.store === undefined ? new Circuit(shared, name, now) : new RemoteCircuit(shared, name, now, shared.store.circuit(name, shared.config))

const toPublic = (state: M.State): State => {
  switch (state._tag) {
    case "Closed":
      return { _tag: "Closed", since: state.since, consecutiveFailures: state.failures }
    case "Open":
      return { _tag: "Open", since: state.since, until: state.until, openings: state.openings }
    case "HalfOpen":
      return { _tag: "HalfOpen", since: state.since, probesInFlight: state.inFlight, successes: state.successes }
    case "Isolated":
      return { _tag: "Isolated", since: state.since }
  }
}

/** How many openings of an `openFor` schedule are expanded; later openings reuse the last delay. */
const SCHEDULE_STEPS = 32

const resolve = (options: KeyedOptions & Pick<Options, "healthCheck">): Effect.Effect<
  { readonly config: M.Config; readonly healthEvery: number | undefined; readonly idleTimeToLive: number },
  PolicyError
> =>
  Effect.gen(function*() {
    const issues: Array<PolicyIssue> = []
    const openForInput = options.openFor
    const schedule = Schedule.isSchedule(openForInput) ? openForInput : undefined
    const trip = options.trip === undefined ? undefined : Array.isArray(options.trip) ? options.trip : [options.trip]
    const health = options.healthCheck
    const data = {
      ...options,
      trip,
      openFor: schedule === undefined ? openForInput : undefined,
      healthCheck: health === undefined
        ? undefined
        : { every: health.every, ...(health.closeOnSuccess === undefined ? {} : { closeOnSuccess: health.closeOnSuccess }) }
    }
    const decoded = decodeOptions(OptionsSchema, data, ["classify", "log", "store"])
    if (Result.isFailure(decoded)) issues.push(...decoded.failure.issues)
    let openFor: ((opening: number) => number) | undefined
    if (schedule !== undefined) {
      const ds = (yield* delays(schedule, SCHEDULE_STEPS)).map(Duration.toMillis)
      if (ds.length === 0) issues.push({ path: ["openFor"], message: "Expected a schedule that recurs at least once" })
      else if (ds.some((d) => !(d >= 0 && Number.isFinite(d)))) issues.push({ path: ["openFor"], message: "Expected a schedule of non-negative finite delays" })
      else openFor = (k) => ds[Math.min(k, ds.length) - 1]!
    }
    if (issues.length > 0 || Result.isFailure(decoded)) return yield* Effect.fail(new PolicyError({ issues }))
    const policy = decoded.success
    const fixed = Duration.toMillis(policy.openFor)
    const config = toConfig({
      rules: policy.trip as ReadonlyArray<DecodedRule>,
      openFor: openFor ?? (() => fixed),
      maxOpenFor: policy.maxOpenFor,
      probes: policy.halfOpen.probes,
      successesToClose: policy.halfOpen.successesToClose,
      closeOnHealthy: policy.healthCheck?.closeOnSuccess ?? false
    })
    return {
      config,
      healthEvery: policy.healthCheck === undefined ? undefined : Duration.toMillis(policy.healthCheck.every),
      idleTimeToLive: Duration.toMillis(policy.idleTimeToLive)
    }
  })

const makeShared = (options: Options, config: M.Config): Effect.Effect<Shared, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const pubsub = yield* PubSub.sliding<Transition>(1024)
    yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
    let slowerThan: number | undefined
    for (const rule of config.rules) {
      if (rule._tag === "SlowCallRate") slowerThan = Math.min(slowerThan ?? Infinity, rule.slowerThan)
    }
    return {
      name: options.name ?? "breaker",
      config,
      clock,
      pubsub,
      classify: options.classify ?? defaultOutcome,
      slowerThan,
      windows: M.hasWindows(config),
      log: options.log ?? true,
      store: options.store
    }
  })

/**
 * Makes a circuit breaker. Bad options fail with a `Policy.PolicyError` naming every bad field
 * (`trip[0].threshold`, `halfOpen.probes`, …). The breaker's clock is the `Clock` of the fiber
 * running `make` (so `TestClock` drives it in tests); its health check runs in the `Scope`.
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
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, healthEvery } = yield* resolve(options)
    const shared = yield* makeShared(options, config)
    const circuit = newCircuit(shared, shared.name, shared.clock.currentTimeMillisUnsafe())
    const health = options.healthCheck
    if (health !== undefined && healthEvery !== undefined) {
      const probe = Effect.flatMap(Effect.exit(health.probe), (exit) =>
        exit._tag === "Success" ? Effect.suspend(() => circuit.apply({ _tag: "Healthy" })) : Effect.void)
      const check = circuit instanceof RemoteCircuit
        ? Effect.flatMap(circuit.current, ([state]) =>
          state._tag !== "Open" ? Effect.void : Effect.flatMap(Effect.exit(health.probe), (exit) =>
            exit._tag === "Success" ? circuit.applyRemote({ _tag: "Healthy" }) : Effect.void))
        : Effect.suspend(() => circuit.ref.ref.current._tag !== "Open" ? Effect.void : probe)
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(healthEvery), check)))
    }
    // Dashboards see a closed circuit from the start, not only after its first transition.
    yield* Metric.update(Metric.withAttributes(stateGauge, { operation: circuit.name }), Telemetry.breakerStateValue("Closed"))
    return circuit
  })

/**
 * The closed-state hot path of a breaker made by `make` (undefined for other implementations), for
 * callers that observe the call's exit themselves (see `internal/fused.ts`).
 *
 * @internal
 */
export const closedPathUnsafe = (breaker: CircuitBreaker): ClosedPath | undefined =>
  // A store-backed circuit decides admission in its store, so it has no local fast path.
  breaker instanceof Circuit && !(breaker instanceof RemoteCircuit) ? breaker : undefined

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
 */
export interface KeyedOptions extends Omit<Options, "healthCheck"> {
  /** A circuit unused this long (and not open or isolated) is dropped. Default 10 minutes. */
  readonly idleTimeToLive?: Duration.Input | undefined
}

/**
 * One circuit per key (host, tenant, model), created on first use and evicted when idle.
 *
 * @since 0.1.0
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
 * after `idleTimeToLive` without calls (open and isolated circuits are kept). An idle key costs a
 * few hundred bytes (a `Ref`, its closed state and counters; windows are allocated on first use).
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
 */
export const keyed = <K = string>(options: KeyedOptions = {}): Effect.Effect<Keyed<K>, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, idleTimeToLive: ttl } = yield* resolve(options)
    const shared = yield* makeShared(options, config)
    const circuits = new Map<K, Circuit>()
    const circuitFor = (key: K): Circuit => {
      let circuit = circuits.get(key)
      if (circuit === undefined) {
        circuit = newCircuit(shared, `${shared.name}/${String(key)}`, shared.clock.currentTimeMillisUnsafe())
        circuits.set(key, circuit)
      }
      return circuit
    }
    const sweep = Effect.sync(() => {
      const now = shared.clock.currentTimeMillisUnsafe()
      for (const [key, circuit] of circuits) {
        if (circuit.touched) {
          circuit.touched = false
          circuit.idleSince = now
          continue
        }
        const state = circuit.ref.ref.current
        const keep = state._tag === "Isolated" || (state._tag === "Open" && now < state.until) ||
          (state._tag === "HalfOpen" && state.inFlight > 0)
        if (!keep && now - circuit.idleSince >= ttl) circuits.delete(key)
      }
    })
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Math.max(1, ttl / 2)), sweep)))
    return {
      get: (key) => Effect.sync(() => circuitFor(key)),
      execute: (key, effect) => Effect.suspend(() => circuitFor(key).execute(effect)),
      changes: Stream.fromPubSub(shared.pubsub),
      size: Effect.sync(() => circuits.size)
    }
  })
