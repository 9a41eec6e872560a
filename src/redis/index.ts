/**
 * effect-resilience/redis: state shared by every process of a fleet, kept in Redis through
 * Effect's own `Redis` service (for Node, `NodeRedis.layer` from `@effect/platform-node`).
 *
 * @since 0.1.0
 */

/**
 * Circuit breakers shared across processes: one Lua script call per event, probe leases.
 *
 * @since 0.1.0
 */
export * as CircuitBreakerStore from "./CircuitBreakerStore.ts"

/**
 * A retry token bucket shared across processes.
 *
 * @since 0.1.0
 */
export * as RetryBudgetStore from "./RetryBudgetStore.ts"

/**
 * Dead letters in a Redis stream, with a reader.
 *
 * @since 0.1.0
 */
export * as DeadLetterStream from "./DeadLetterStream.ts"
