/**
 * The metrics every guard reports to (public as `Telemetry.metrics`). Kept here so that internal
 * modules that count (dead letters, pipelines) need no public module.
 */
import { Metric } from "effect"

// Every counter here only grows: incremental, so a publish adds what was counted since the last one.
const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

export const metrics = {
  attempts: counter("resilience_attempts_total", "Attempts made by protected calls, by operation and outcome (success | failure)"),
  retries: counter("resilience_retries_total", "Retries started, by operation and the kind of failure retried"),
  retryDelay: Metric.histogram("resilience_retry_delay_seconds", {
    description: "Waits before retries, in seconds",
    boundaries: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
  }),
  breakerState: Metric.gauge("resilience_breaker_state", {
    description: "Circuit state: 0 closed, 1 half-open, 2 open, 3 isolated"
  }),
  breakerTransitions: counter("resilience_breaker_transitions_total", "Circuit transitions, by operation, from and to"),
  breakerEvictions: counter("resilience_breaker_evictions_total", "Keyed circuits dropped, by operation and reason (idle | capacity)"),
  rejections: counter("resilience_rejections_total", "Calls rejected without running (open circuit, full bulkhead), by operation and reason"),
  deadLetters: counter("resilience_dead_letters_total", "Calls recorded as dead letters, by operation"),
  deadLettersFailed: counter("resilience_dead_letters_failed_total", "Dead letters the store could not take (logged, not stored), by operation"),
  budgetExhausted: counter("resilience_budget_exhausted_total", "Retries denied by a retry budget, by operation"),
  retrySuccesses: counter("resilience_retry_successes_total", "Calls that succeeded after retrying, by operation")
} as const

/**
 * A metric of the same series as `metric` (a gauge or one of the counters above) with a series-key
 * cache of its own. `Metric.withAttributes` merges its attributes into the context and the wrapped
 * metric keeps the key of the last attribute set it saw: a metric shared by several attribute sets
 * (a circuit's two transitions, Open → HalfOpen → Open) serialises its attributes on every update,
 * one wrapped per attribute set does it once.
 */
export const sameSeries = (metric: Metric.Metric<number, unknown>): Metric.Metric<number, unknown> => {
  const options = metric.description === undefined ? {} : { description: metric.description }
  if (metric.type === "Gauge") return Metric.gauge(metric.id, options)
  if (metric.type === "Counter") return Metric.counter(metric.id, { ...options, incremental: true })
  return metric
}
