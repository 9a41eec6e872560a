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
 * Circuit breakers on `Ref` state: trip rules, open-period backoff, half-open probes, health
 * checks, manual control, keyed circuits, transitions as a `Stream`.
 *
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.ts"
