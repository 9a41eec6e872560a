/**
 * A breaker's options, decoded once through the schemas (every bad field named), into the
 * machine's configuration and what the circuits of one breaker share.
 *
 * @internal
 */
import { Clock, Duration, Effect, PubSub, Result, Schedule, type Scope } from "effect"
import { PolicyError, type PolicyIssue } from "../policyError.ts"
import { decodeOptions } from "../strict.ts"
import type { Family, Verdict } from "./circuit.ts"
import { toConfig } from "./config.ts"
import type { CircuitConfig, StoreService } from "./model.ts"
import type { Publisher, Sinks, Transition } from "./publish.ts"
import { type DecodedRule, OptionsSchema, type RuleInput } from "./schema.ts"

/** How many openings of an `openFor` schedule are expanded; later openings reuse the last delay. */
const SCHEDULE_STEPS = 32

// The one definition of the options as written; the public `CircuitBreaker` module names them
// `HealthCheck`, `Options` and `KeyedOptions`.

/** A background check of the dependency's health while the circuit is open. */
export interface HealthCheckInput {
  /** Succeeds when the dependency is healthy. Runs every `every` while the circuit is open. */
  readonly probe: Effect.Effect<unknown, unknown>
  readonly every: Duration.Input
  /** A passing probe closes the circuit instead of half-opening it. Default `false`. */
  readonly closeOnSuccess?: boolean | undefined
}

/** Options of `make`. */
export interface OptionsInput {
  /** For errors, logs and metrics. Default `"breaker"`. */
  readonly name?: string | undefined
  /** When to open: one rule or several (any of). Default `consecutive(5)`. */
  readonly trip?: RuleInput | ReadonlyArray<RuleInput> | undefined
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
  readonly healthCheck?: HealthCheckInput | undefined
  /**
   * Decides what a typed error means. Default: every error counts as a failure except `Permanent`
   * ones of kinds Client, Validation, NotFound and Auth (by `Failure.defaultClassifier`);
   * `Transient` errors' `retryAfter` hints stretch the open period. Defects always count;
   * interruption never does. A classifier that throws makes the call a failure (the call still
   * ends with its own error).
   */
  readonly classify?: ((error: unknown) => Verdict) | undefined
  /** Log transitions (Warn on open and isolate, Info otherwise). Default `true`. */
  readonly log?: boolean | undefined
  /**
   * Where circuit state lives, overriding the `CircuitBreakerStore` service of the context (which
   * defaults to this process's memory).
   *
   * @deprecated Provide the store as a layer instead (`CircuitBreakerStore.layer` of
   * `effect-resilience/redis`, or `CircuitBreakerStore.layerMemory`).
   */
  readonly store?: StoreService | undefined
}

/** Options of `keyed`: a breaker's options (without health checks, which are per dependency). */
export interface KeyedInput extends Omit<OptionsInput, "healthCheck"> {
  /**
   * A circuit unused this long is dropped when its state no longer matters: closed, with no
   * failures counted. Open, half-open and isolated circuits are kept. Default 10 minutes.
   */
  readonly idleTimeToLive?: Duration.Input | undefined
  /**
   * At most this many circuits are kept (default 100 000). At the cap the oldest circuits whose
   * state no longer matters make room (counted on `resilience_breaker_evictions_total`).
   */
  readonly maxCircuits?: number | undefined
}

/** What the public modules supply: the default classifier, the metrics, the store, schedule expansion. */
export interface Defaults {
  readonly classify: (error: unknown) => Verdict
  readonly sinks: Sinks
  /** The store of the context (the `CircuitBreakerStore` service, else memory). */
  readonly store: Effect.Effect<StoreService>
  readonly expand: (schedule: Schedule.Schedule<unknown, unknown>, n: number) => Effect.Effect<Array<Duration.Duration>, unknown>
}

/** Decodes options (every bad field named) into the machine's configuration and the breaker's settings. */
export const resolve = (options: KeyedInput & Pick<OptionsInput, "healthCheck">, defaults: Defaults): Effect.Effect<
  { readonly config: CircuitConfig; readonly healthEvery: number | undefined; readonly idleTimeToLive: number; readonly maxCircuits: number },
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
      const ds = (yield* Effect.orDie(defaults.expand(schedule, SCHEDULE_STEPS))).map(Duration.toMillis)
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
      idleTimeToLive: Duration.toMillis(policy.idleTimeToLive),
      maxCircuits: policy.maxCircuits
    }
  })

/** What every circuit of a breaker shares, from its options (the store: the option, else the context's, else memory). */
export const makeFamily = (options: OptionsInput | KeyedInput, config: CircuitConfig, defaults: Defaults): Effect.Effect<Family, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const pubsub = yield* PubSub.sliding<Transition>(1024)
    yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
    let slowerThan: number | undefined
    for (const rule of config.rules) {
      if (rule._tag === "SlowCallRate") slowerThan = Math.min(slowerThan ?? Infinity, rule.slowerThan)
    }
    const publisher: Publisher = { pubsub, log: options.log ?? true, sinks: defaults.sinks, attributed: new Map() }
    const store = options.store ?? (yield* defaults.store)
    if (store.retain !== undefined) yield* store.retain
    return {
      config,
      clock,
      publisher,
      classify: options.classify ?? defaults.classify,
      slowerThan,
      store,
      lastRejection: undefined
    }
  })

