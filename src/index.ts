/**
 * effect-resilience: retry policies as Effect `Schedule`s, typed `Transient`/`Permanent` failures,
 * circuit breakers over a store (in memory or Redis), and policies as validated data provided by `Layer`s.
 *
 * @since 0.1.0
 */

/**
 * Typed failures: `Transient` / `Permanent`, classifiers, `Retry-After`.
 *
 * @since 0.1.0
 */
export * as Failure from "./Failure.ts"

/**
 * Backoff schedules: exponential, linear, fixed, fibonacci, decorrelated, jitter, caps and limits.
 *
 * @since 0.1.0
 */
export * as Backoff from "./Backoff.ts"

/**
 * Retrying effects on a schedule or a policy.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.ts"

/**
 * Policies as data: schemas, decoding, defaults and presets.
 *
 * @since 0.1.0
 */
export * as Policy from "./Policy.ts"

/**
 * Circuit breakers over a store (in memory by default): trip rules, half-open probes, health
 * checks, keyed circuits.
 *
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.ts"

/**
 * Where circuit breakers keep their circuits: the store service, its in-memory default, and the
 * words a store speaks (admissions with fencing tokens, outcomes, changes).
 *
 * @since 0.1.0
 */
export * as CircuitBreakerStore from "./CircuitBreakerStore.ts"

/**
 * Retry budgets shared by all calls of a policy, so retries cannot amplify an outage.
 *
 * @since 0.1.0
 */
export * as RetryBudget from "./RetryBudget.ts"

/**
 * Per-attempt and total timeouts as typed, classified failures.
 *
 * @since 0.1.0
 */
export * as Timeout from "./Timeout.ts"

/**
 * The call's deadline: set by a total timeout or an incoming request, read by attempt timeouts,
 * the retry loop and `effect-resilience/http`.
 *
 * @since 0.1.0
 */
export * as Deadline from "./Deadline.ts"

/**
 * Bulkheads: at most N calls at once, at most M waiting, then an immediate typed rejection.
 *
 * @since 0.1.0
 */
export * as Bulkhead from "./Bulkhead.ts"

/**
 * Hedging: a second attempt when the first is slow; the first success wins.
 *
 * @since 0.1.0
 */
export * as Hedge from "./Hedge.ts"

/**
 * Fallbacks chosen by failure kind when everything else failed.
 *
 * @since 0.1.0
 */
export * as Fallback from "./Fallback.ts"

/**
 * Dead letters: calls that failed for good, kept for review in memory or an append-only file.
 *
 * @since 0.1.0
 */
export * as DeadLetter from "./DeadLetter.ts"

/**
 * Metrics, stats and spans of resilience policies.
 *
 * @since 0.1.0
 */
export * as Telemetry from "./Telemetry.ts"

/**
 * Pipelines from policies, provided to programs as named `Layer`s.
 *
 * @since 0.1.0
 */
export * as Resilience from "./Resilience.ts"

/**
 * A decoded policy made runnable: its guards in one order, with a fused fast path.
 *
 * @since 0.1.0
 */
export * as Pipeline from "./Pipeline.ts"
