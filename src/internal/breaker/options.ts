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
import { type DecodedRule, type RuleInput, toConfig } from "./config.ts"
import type { CircuitConfig, StoreService } from "./model.ts"
import type { Publisher, Sinks, Transition } from "./publish.ts"
import { OptionsSchema } from "./schema.ts"

/** How many openings of an `openFor` schedule are expanded; later openings reuse the last delay. */
const SCHEDULE_STEPS = 32

/**
 * Breaker options as written (the public `CircuitBreaker.Options` / `KeyedOptions`): only the
 * fields read here are named; the schema decodes the rest.
 */
export interface Input {
  readonly trip?: RuleInput | ReadonlyArray<RuleInput> | undefined
  readonly openFor?: Duration.Input | Schedule.Schedule<unknown, unknown> | undefined
  readonly healthCheck?: { readonly every: Duration.Input; readonly closeOnSuccess?: boolean | undefined } | undefined
  readonly classify?: ((error: unknown) => Verdict) | undefined
  readonly log?: boolean | undefined
  readonly store?: StoreService | undefined
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
export const resolve = (options: Input, defaults: Defaults): Effect.Effect<
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
export const makeFamily = (options: Input, config: CircuitConfig, defaults: Defaults): Effect.Effect<Family, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const pubsub = yield* PubSub.sliding<Transition>(1024)
    yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
    let slowerThan: number | undefined
    for (const rule of config.rules) {
      if (rule._tag === "SlowCallRate") slowerThan = Math.min(slowerThan ?? Infinity, rule.slowerThan)
    }
    const publisher: Publisher = { pubsub, log: options.log ?? true, sinks: defaults.sinks }
    return {
      config,
      clock,
      publisher,
      classify: options.classify ?? defaults.classify,
      slowerThan,
      store: options.store ?? (yield* defaults.store)
    }
  })

