/**
 * effect-resilience: retry policies as Effect `Schedule`s, typed `Transient`/`Permanent` failures,
 * and policies as validated data.
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
 * Retry budgets shared by all calls of a policy: a token bucket (AWS) or a ratio of requests (Finagle, SRE book).
 *
 * @since 0.1.0
 */
export * as RetryBudget from "./RetryBudget.ts"

/**
 * Timeouts: per attempt (transient, retried) and for the whole call (permanent).
 *
 * @since 0.1.0
 */
export * as Timeout from "./Timeout.ts"

/**
 * Bulkheads: at most N concurrent calls and M waiting, the rest rejected at once.
 *
 * @since 0.1.0
 */
export * as Bulkhead from "./Bulkhead.ts"

/**
 * Hedging: start another attempt when the first is slow; the first success wins.
 *
 * @since 0.1.0
 */
export * as Hedge from "./Hedge.ts"

/**
 * Fallbacks: a value or an effect when everything else failed, chosen by the failure's kind.
 *
 * @since 0.1.0
 */
export * as Fallback from "./Fallback.ts"

/**
 * Dead letters: calls that gave up, kept in memory or in an append-only JSON-lines file.
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
