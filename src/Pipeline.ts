/**
 * Pipeline: a decoded policy made runnable. It builds each guard the policy names and applies
 * them in one order, from the outside in: bulkhead → total timeout → retry (with budget) →
 * circuit breaker → attempt timeout → hedging. Dead letters and telemetry see every call on the way
 * out. Retry, breaker, budget and telemetry share one frame per call.
 *
 * `Resilience` provides named pipelines as a service; use `Pipeline.make` directly when one
 * pipeline in one scope is all you need.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Option, type Scope } from "effect"
import * as Backoff from "./Backoff.ts"
import * as Bulkhead from "./Bulkhead.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import * as DeadLetter from "./DeadLetter.ts"
import type { Permanent, Transient } from "./Failure.ts"
import * as Hedge from "./Hedge.ts"
import { closedPathOf } from "./internal/breaker/circuit.ts"
import { assemble } from "./internal/pipeline/assemble.ts"
import { fuse } from "./internal/pipeline/fused.ts"
import { observer } from "./internal/pipeline/observe.ts"
import { type Plan, resume } from "./internal/retry/loop.ts"
import { fromDecoded, planFor } from "./internal/retry/plan.ts"
import { PolicyError } from "./internal/policyError.ts"
import * as Policy from "./Policy.ts"
import type * as Retry from "./Retry.ts"
import * as RetryBudget from "./RetryBudget.ts"
import * as Telemetry from "./Telemetry.ts"
import * as Timeout from "./Timeout.ts"

/**
 * What a pipeline's `execute` can fail with: the retry verdicts over the call's own errors and the
 * guards' (attempt timeout, open circuit), a total timeout, or a full bulkhead.
 *
 * @since 0.1.0
 * @category models
 */
export type PipelineError<E> =
  | Retry.RetryError<E | Transient<Timeout.TimeoutExceeded> | CircuitBreaker.BreakerOpen>
  | Permanent<Timeout.TimeoutExceeded>
  | Bulkhead.BulkheadFull

/**
 * A snapshot of what a pipeline has done: its telemetry (over every tag set) plus its guards' own
 * stats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats extends Telemetry.Stats {
  readonly breaker: CircuitBreaker.Stats | undefined
  readonly budget: RetryBudget.Stats | undefined
  readonly bulkhead: Bulkhead.Stats | undefined
}

/**
 * Per-call options of `execute`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /**
   * Tags of this call (operation type, tenant, …). All of them go into the call's log annotations
   * and dead letter; only the tags the policy declares (`tags: ["tenant"]`) become metric
   * attributes, so an undeclared tag cannot multiply the metric series.
   */
  readonly tags?: Readonly<Record<string, string>> | undefined
}

/**
 * A policy made runnable.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pipeline {
  readonly name: string
  readonly policy: Policy.PipelinePolicy
  /** Runs an effect through every stage of the policy. */
  readonly execute: <A, E, R>(effect: Effect.Effect<A, E, R>, options?: CallOptions) => Effect.Effect<A, PipelineError<E>, R>
  /** Publishes telemetry, then returns a snapshot. */
  readonly stats: Effect.Effect<Stats>
  /** Pushes what was counted since the last publish to the `Metric`s. */
  readonly publish: Effect.Effect<void>
  readonly breaker: CircuitBreaker.CircuitBreaker | undefined
  readonly budget: RetryBudget.RetryBudget | undefined
  readonly bulkhead: Bulkhead.Bulkhead | undefined
  /** The recorder of calls without declared tags. */
  readonly recorder: Telemetry.Recorder
}

/**
 * What `make` accepts: a pipeline policy (or a preset) as data, decoded and validated.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = Policy.PipelinePolicyInput

/**
 * Code-only options that data cannot express.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** The pipeline's name (defaults to the policy's `name`, then `"default"`). */
  readonly name?: string | undefined
  /** A background health check for the circuit (see `CircuitBreaker.HealthCheck`). */
  readonly healthCheck?: CircuitBreaker.HealthCheck | undefined
  /** Tags for every dead letter of this pipeline (service, region, …). */
  readonly tags?: Readonly<Record<string, string>> | undefined
  /** Log retries and breaker transitions. Default `true`. */
  readonly log?: boolean | undefined
  /** Where the circuit's state lives (e.g. `effect-resilience/redis`'s `CircuitBreakerStore`); default in memory. */
  readonly breakerStore?: CircuitBreaker.StoreFactory | undefined
  /** A shared retry budget (e.g. `RetryBudgetStore.tokenBucket`), used instead of the policy's `budget`. */
  readonly budget?: RetryBudget.RetryBudget | undefined
  /** Where this pipeline's dead letters go, instead of the `DeadLetter.DeadLetters` service. */
  readonly deadLetters?: DeadLetter.DeadLetters["Service"] | undefined
}

const makeBudget = (policy: Policy.BudgetPolicy): Effect.Effect<RetryBudget.RetryBudget, PolicyError> => {
  if (policy.type === "tokenBucket") {
    const { type: _, ...options } = policy
    return RetryBudget.tokenBucket(options)
  }
  const { type: _, ...options } = policy
  return RetryBudget.ratio(options)
}

const noLetterStore = new PolicyError({
  issues: [{
    path: ["deadLetters"],
    message: "This pipeline keeps dead letters, but no DeadLetter.DeadLetters service is provided to it. " +
      "Provide one to the pipeline's layer (`Resilience.layer(…).pipe(Layer.provide(DeadLetter.layerMemory()))`, " +
      "not `Layer.mergeAll`, which hides it) or pass `deadLetters` in the pipeline's options"
  }]
})

// Distinct declared-tag sets a pipeline keeps metrics for; calls beyond it count under no tags.
const MAX_TAG_SETS = 1000

/** The per-call state the retry loop's hooks read: which recorder counts this call. */
const CallRecorder = Context.Reference<Telemetry.Recorder | undefined>("effect-resilience/Pipeline/CallRecorder", {
  defaultValue: () => undefined
})

/**
 * Builds a pipeline from a decoded policy (`Policy.decodePipeline`, a layer's document). Needs a
 * `Scope` (the breaker's health check lives in it). With dead letters on, letters go to
 * `options.deadLetters` or the `DeadLetter.DeadLetters` service of the context; with neither, the
 * build fails with a `PolicyError` at `deadLetters` that says so.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Pipeline, Policy } from "effect-resilience"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const policy = yield* Policy.decodePipeline({ retry: { maxRetries: 2 }, circuitBreaker: true })
 *   const pipeline = yield* Pipeline.fromPolicy(policy, { name: "users" })
 *   return yield* pipeline.execute(Effect.succeed("ok"))
 * }))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const fromPolicy = (
  policy: Policy.PipelinePolicy,
  options: MakeOptions = {}
): Effect.Effect<Pipeline, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const name = options.name ?? policy.name ?? "default"
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const recorder = Telemetry.makeRecorder(name)
    const budget = options.budget ?? (policy.budget === undefined || policy.budget === false ? undefined : yield* makeBudget(policy.budget))
    const breaker = policy.circuitBreaker === undefined || policy.circuitBreaker === false
      ? undefined
      : yield* CircuitBreaker.make({
        ...CircuitBreaker.optionsFromPolicy(name, policy.circuitBreaker),
        log: options.log ?? true,
        ...(options.healthCheck ? { healthCheck: options.healthCheck } : {}),
        ...(options.breakerStore ? { store: options.breakerStore } : {})
      })
    const bulkhead = policy.bulkhead === undefined ? undefined : yield* Bulkhead.make({ ...policy.bulkhead, name })
    const letters = policy.deadLetters === false ? undefined : policy.deadLetters === true ? { rejected: false } : policy.deadLetters
    const deadLetters = letters === undefined
      ? undefined
      : options.deadLetters ?? Option.getOrUndefined(yield* Effect.serviceOption(DeadLetter.DeadLetters))
    if (letters !== undefined && deadLetters === undefined) return yield* noLetterStore
    const spans = policy.spans

    // Calls with declared tags count in a recorder of their own (metric attributes); others in `recorder`.
    const declared = policy.tags ?? []
    const tagged = new Map<string, Telemetry.Recorder>()
    const recorderFor = (tags: Readonly<Record<string, string>>): Telemetry.Recorder => {
      const attributes: Record<string, string> = {}
      let any = false
      for (const key of declared) {
        const value = tags[key]
        if (value !== undefined) {
          attributes[key] = value
          any = true
        }
      }
      if (!any) return recorder
      const key = JSON.stringify(declared.map((k) => attributes[k] ?? null))
      const found = tagged.get(key)
      if (found !== undefined) return found
      if (tagged.size >= MAX_TAG_SETS) return recorder
      const made = Telemetry.makeRecorder(name, attributes)
      tagged.set(key, made)
      return made
    }
    const callRecorder = Effect.map(Effect.service(CallRecorder), (r) => r ?? recorder)

    const onRetry = (event: Retry.RetryEvent<unknown>): Effect.Effect<void> => {
      const delayMs = Duration.toMillis(event.delay)
      const recorded = Effect.flatMap(callRecorder, (r) => r.recordRetry(event.error.kind, event.attempt, delayMs))
      if (!spans) return recorded
      return Effect.andThen(
        recorded,
        Effect.currentSpan.pipe(
          Effect.tap((span) =>
            Effect.sync(() =>
              span.event("retry", clock.currentTimeNanosUnsafe(), { attempt: event.attempt, kind: event.error.kind, delayMs })
            )
          ),
          Effect.ignore
        )
      )
    }
    const hooks = {
      operation: name,
      onRetry,
      onRecovered: () => Effect.flatMap(callRecorder, (r) => r.recordRecovered),
      budget,
      log: options.log ?? true
    }
    // `retry: false` still classifies: a transient failure ends as RetriesExhausted after one attempt.
    const planned = policy.retry === false
      ? { ...(planFor<unknown, never>({ ...hooks, schedule: noRetries }) as Plan<unknown, never>), onRecovered: undefined }
      : fromDecoded<unknown, never>(policy.retry ?? Policy.defaults, hooks)
    // The total timeout wraps the retry: a server hint that would outlast it ends the retries at once.
    const plan: Plan<unknown, never> = policy.timeout === undefined ? planned : {
      ...planned,
      totalLimitMillis: Math.min(planned.totalLimitMillis ?? Infinity, Duration.toMillis(policy.timeout))
    }

    const { attemptTimeout, hedge } = policy
    const totalTimeout = policy.timeout
    // Durations are measured for one call in `durationSampling`.
    const sampling = policy.durationSampling
    let sequence = 0
    const run = assemble({
      breaker,
      closed: breaker === undefined ? undefined : closedPathOf(breaker),
      budget,
      plan,
      attemptStages: [
        ...(hedge === undefined ? [] : [<A, R>(e: Effect.Effect<A, unknown, R>) => Hedge.hedge(e, hedge)]),
        ...(attemptTimeout === undefined ? [] : [<A, R>(e: Effect.Effect<A, unknown, R>) => Timeout.attempt(e, attemptTimeout)])
      ],
      outerStages: totalTimeout === undefined ? [] : [<A, R>(e: Effect.Effect<A, unknown, R>) => Timeout.total(e, totalTimeout)],
      bulkhead,
      shouldTime: () => ++sequence % sampling === 0,
      now
    })
    const observeOptions = {
      name,
      now,
      deadLetters,
      letterRejected: letters !== undefined && letters.rejected,
      tags: { ...options.tags }
    }
    const untagged = observer(observeOptions, recorder, undefined)

    const execute = <A, E, R>(effect: Effect.Effect<A, E, R>, call?: CallOptions): Effect.Effect<A, PipelineError<E>, R> => {
      const tags = call?.tags
      let observed: Effect.Effect<A, unknown, R>
      if (tags === undefined) {
        observed = run(effect, untagged)
      } else {
        const counted = recorderFor(tags)
        observed = run(effect, observer(observeOptions, counted, tags)).pipe(
          Effect.provideService(CallRecorder, counted),
          Effect.annotateLogs(tags)
        )
      }
      if (spans) observed = Effect.withSpan(observed, `resilience.${name}`, { attributes: { "resilience.operation": name } })
      return observed as Effect.Effect<A, PipelineError<E>, R>
    }

    const publish = Effect.suspend(() => Effect.forEach([recorder, ...tagged.values()], (r) => r.publish, { discard: true }))
    const stats = Effect.gen(function*() {
      yield* publish
      const breakerStats = breaker === undefined ? undefined : yield* breaker.stats
      const all = [recorder, ...tagged.values()].map((r) => r.stats())
      return {
        ...(all.length === 1 ? all[0]! : Telemetry.combine(all, name)),
        breaker: breakerStats,
        budget: budget?.statsUnsafe(),
        bulkhead: bulkhead?.statsUnsafe()
      } satisfies Stats
    })

    return { name, policy, execute, stats, publish, breaker, budget, bulkhead, recorder } satisfies Pipeline
  })

/**
 * Builds a pipeline from a policy given as data (or a preset): decodes it strictly, then
 * `fromPolicy`. Fails with a `PolicyError` naming every bad field.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Pipeline, Policy } from "effect-resilience"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const http = yield* Pipeline.make(Policy.presets.http)
 *   return yield* http.execute(Effect.succeed("ok"), { tags: { tenant: "acme" } })
 * }))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input, options: MakeOptions = {}): Effect.Effect<Pipeline, PolicyError, Scope.Scope> =>
  Effect.flatMap(Policy.decodePipeline(input), (policy) => fromPolicy(policy, options))

/**
 * Retries an effect with every attempt going through a circuit breaker (retry outside, breaker
 * inside), in one frame: an open circuit's `BreakerOpen` is a Permanent `CircuitOpen` failure, so
 * it ends the retries. The same as `Retry.retry(breaker.execute(effect), options)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type CircuitBreaker, Pipeline } from "effect-resilience"
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * declare const fetchUser: Effect.Effect<string, { readonly status: number }>
 * const guarded = fetchUser.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 3 }))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const retryThroughBreaker: {
  <E, R2 = never>(
    breaker: CircuitBreaker.CircuitBreaker,
    options: Retry.RetryOptions<NoInfer<E | CircuitBreaker.BreakerOpen>, R2> | Retry.RetryPolicyOptions<NoInfer<E | CircuitBreaker.BreakerOpen>, R2>
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, Retry.RetryError<E | CircuitBreaker.BreakerOpen>, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    breaker: CircuitBreaker.CircuitBreaker,
    options: Retry.RetryOptions<NoInfer<E | CircuitBreaker.BreakerOpen>, R2> | Retry.RetryPolicyOptions<NoInfer<E | CircuitBreaker.BreakerOpen>, R2>
  ): Effect.Effect<A, Retry.RetryError<E | CircuitBreaker.BreakerOpen>, R | R2>
} = function(this: unknown) {
  // Written out instead of `dual` so the data-last form decodes the policy once.
  if (arguments.length === 2) {
    const breaker = arguments[0] as CircuitBreaker.CircuitBreaker
    const plan = planFor(arguments[1])
    return (self: Effect.Effect<unknown, unknown, unknown>) => throughBreaker(self, breaker, plan)
  }
  return throughBreaker(arguments[0], arguments[1], planFor(arguments[2]))
} as typeof retryThroughBreaker

const never = () => false
const noRetries = Backoff.fixed(0).pipe(Backoff.recurs(0))

const throughBreaker = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  breaker: CircuitBreaker.CircuitBreaker,
  plan: Plan<unknown, unknown> | PolicyError
): Effect.Effect<A, unknown, unknown> => {
  if (plan instanceof PolicyError) return Effect.die(plan)
  return fuse(self, {
    breaker,
    closed: closedPathOf(breaker),
    budget: plan.budget,
    classify: plan.classify,
    resume: (next, error) => resume(next, plan as Plan<unknown, never>, error),
    observer: undefined,
    shouldTime: never
  })
}
