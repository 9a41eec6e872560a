/**
 * The metrics every guard reports to (public as `Telemetry.metrics`). Kept here so that internal
 * modules that count (dead letters, pipelines) need no public module.
 */
import { Metric } from "effect"

export const metrics = {
  attempts: Metric.counter("resilience_attempts_total", {
    description: "Attempts made by protected calls, by operation and outcome (success | failure)",
    incremental: true
  }),
  retries: Metric.counter("resilience_retries_total", {
    description: "Retries started, by operation and the kind of failure retried",
    incremental: true
  }),
  retryDelay: Metric.histogram("resilience_retry_delay_seconds", {
    description: "Waits before retries, in seconds",
    boundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
  }),
  breakerState: Metric.gauge("resilience_breaker_state", {
    description: "Circuit state: 0 closed, 1 half-open, 2 open, 3 isolated"
  }),
  breakerTransitions: Metric.counter("resilience_breaker_transitions_total", {
    description: "Circuit transitions, by operation, from and to",
    incremental: true
  }),
  breakerEvictions: Metric.counter("resilience_breaker_evictions_total", {
    description: "Keyed circuits dropped, by operation and reason (idle | capacity)",
    incremental: true
  }),
  rejections: Metric.counter("resilience_rejections_total", {
    description: "Calls rejected without running (open circuit, full bulkhead), by operation and reason",
    incremental: true
  }),
  deadLetters: Metric.counter("resilience_dead_letters_total", {
    description: "Calls recorded as dead letters, by operation",
    incremental: true
  }),
  deadLettersFailed: Metric.counter("resilience_dead_letters_failed_total", {
    description: "Dead letters the store could not take (logged, not stored), by operation",
    incremental: true
  }),
  budgetExhausted: Metric.counter("resilience_budget_exhausted_total", {
    description: "Retries denied by a retry budget, by operation",
    incremental: true
  }),
  retrySuccesses: Metric.counter("resilience_retry_successes_total", {
    description: "Calls that succeeded after retrying, by operation",
    incremental: true
  })
} as const
