/**
 * Telemetry: what resilience policies did, as Effect `Metric`s, a stats snapshot, and spans.
 *
 * Metric names: `resilience_attempts_total`, `resilience_retries_total`,
 * `resilience_retry_delay_seconds`, `resilience_retry_successes_total`, `resilience_breaker_state`,
 * `resilience_breaker_transitions_total`, `resilience_breaker_evictions_total`,
 * `resilience_rejections_total`,
 * `resilience_dead_letters_total`, `resilience_dead_letters_failed_total`,
 * `resilience_budget_exhausted_total`, with attributes
 * `{ operation, outcome | kind | from/to | reason }` plus the tags a pipeline policy declares.
 *
 * The hot path never calls `Metric.update`: a `Recorder` counts calls, successes and durations in
 * plain numbers, and `publish` pushes the counts since the last publish to the `Metric`s (a
 * pipeline layer does that periodically and whenever stats are read). Rare events (retries,
 * transitions, dead letters, budget denials) update their metrics when they happen.
 *
 * @since 0.1.0
 */
import { Effect, Metric } from "effect"
import type { Kind } from "./internal/kind.ts"
import { metrics as metrics_ } from "./internal/metrics.ts"

/**
 * The metrics every policy reports to (one series per attribute set).
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Telemetry } from "effect-resilience"
 * const retries = Metric.value(Metric.withAttributes(Telemetry.metrics.retries, { operation: "http", kind: "Server" }))
 * ```
 * @since 0.1.0
 * @category metrics
 */
export const metrics: typeof metrics_ = metrics_

/**
 * The numeric value of a circuit state on the `resilience_breaker_state` gauge.
 *
 * @example
 * ```ts
 * import { Telemetry } from "effect-resilience"
 * Telemetry.breakerStateValue("Open") // 2
 * ```
 * @since 0.1.0
 * @category utils
 */
export const breakerStateValue = (state: "Closed" | "HalfOpen" | "Open" | "Isolated"): number =>
  state === "Closed" ? 0 : state === "HalfOpen" ? 1 : state === "Open" ? 2 : 3

/**
 * What a recorder has counted: a snapshot of one operation's figures.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly operation: string
  readonly calls: number
  readonly successes: number
  readonly failures: number
  /** Attempts that ran: calls + retries − calls rejected without running (open circuit, full bulkhead). */
  readonly attempts: number
  readonly retries: number
  readonly retriesByKind: Readonly<Partial<Record<Kind, number>>>
  /** `retriesByAttempt[i]`: retries after attempt i + 1 failed. */
  readonly retriesByAttempt: ReadonlyArray<number>
  readonly failuresByKind: Readonly<Partial<Record<Kind, number>>>
  readonly rejections: Readonly<Record<string, number>>
  /** Calls whose last attempt was rejected without running (open circuit, full bulkhead). */
  readonly rejected: number
  /** Calls that succeeded after retrying. */
  readonly recovered: number
  /** Dead letters of calls that failed (rejected calls' letters are counted in `rejectedLetters`). */
  readonly deadLetters: number
  /** Dead letters of rejected calls (only with the policy's `deadLetters: { rejected: true }`). */
  readonly rejectedLetters: number
  readonly budgetDenied: number
  /** successes / finished calls, or 1 before any call finished. */
  readonly successRate: number
  /** Over the timed calls: every call, or a sample (a pipeline's `durationSampling`). */
  readonly averageDurationMs: number
  readonly maxDurationMs: number
  /** How many calls were timed. */
  readonly timedCalls: number
  readonly averageRetryDelayMs: number
}

/**
 * Counts what a policy does, in memory. One per operation; cheap to update on the hot path.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorder {
  readonly operation: string
  /**
   * A call finished; `durationMs` is given for timed (sampled) calls. `rejected`: its last attempt
   * was rejected without running, so it is not counted as an attempt.
   */
  readonly recordCall: (success: boolean, durationMs: number | undefined, kind: Kind | undefined, rejected?: boolean) => void
  /** A retry is about to wait `delayMs` after attempt `attempt` failed with `kind`. */
  readonly recordRetry: (kind: Kind, attempt: number, delayMs: number) => Effect.Effect<void>
  /** A call was rejected without running. */
  readonly recordRejection: (reason: string) => void
  readonly recordDeadLetter: Effect.Effect<void>
  /** A rejected call's letter was stored. */
  readonly recordRejectedLetter: Effect.Effect<void>
  /** A call succeeded after retrying. */
  readonly recordRecovered: Effect.Effect<void>
  /** A retry the budget denied (counted; the metric is updated by `publish`). */
  readonly recordBudgetDenied: Effect.Effect<void>
  /** Pushes what was counted since the last publish to the `Metric`s. */
  readonly publish: Effect.Effect<void>
  readonly stats: () => Stats
}

/**
 * Makes a recorder for one operation; `attributes` (a pipeline's declared call tags) are added to
 * every metric it updates.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Telemetry } from "effect-resilience"
 * const recorder = Telemetry.makeRecorder("payments")
 * recorder.recordCall(true, 12, undefined)
 * Effect.runSync(recorder.publish) // resilience_attempts_total{operation="payments",outcome="success"} += 1
 * recorder.stats().successRate // 1
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makeRecorder = (operation: string, attributes: Readonly<Record<string, string>> = {}): Recorder => {
  let calls = 0
  let rejected = 0
  let recovered = 0
  let rejectedLetters = 0
  let successes = 0
  let retries = 0
  let durationSum = 0
  let durationMax = 0
  let timed = 0
  let delaySum = 0
  let deadLetters = 0
  let budgetDenied = 0
  const retriesByKind: Partial<Record<Kind, number>> = {}
  const failuresByKind: Partial<Record<Kind, number>> = {}
  const retriesByAttempt: Array<number> = []
  const rejections: Record<string, number> = {}
  // What publish has already pushed, so each publish adds only the difference.
  let publishedSuccess = 0
  let publishedDenied = 0
  let publishedFailure = 0
  const publishedRejections: Record<string, number> = {}

  const base = { ...attributes, operation }
  const attemptSuccess = Metric.withAttributes(metrics.attempts, { ...base, outcome: "success" })
  const attemptFailure = Metric.withAttributes(metrics.attempts, { ...base, outcome: "failure" })
  const delay = Metric.withAttributes(metrics.retryDelay, base)
  const dead = Metric.withAttributes(metrics.deadLetters, base)
  const deadRejected = Metric.withAttributes(metrics.deadLetters, { ...base, rejected: "true" })
  const denied = Metric.withAttributes(metrics.budgetExhausted, base)
  const recoveredMetric = Metric.withAttributes(metrics.retrySuccesses, base)

  const recordRetry = (kind: Kind, attempt: number, delayMs: number) => {
    retries++
    delaySum += delayMs
    retriesByKind[kind] = (retriesByKind[kind] ?? 0) + 1
    while (retriesByAttempt.length < attempt) retriesByAttempt.push(0)
    retriesByAttempt[attempt - 1]!++
    return Effect.andThen(
      Metric.update(Metric.withAttributes(metrics.retries, { ...base, kind }), 1),
      Metric.update(delay, delayMs / 1000)
    )
  }

  return {
    operation,
    recordCall: (success, durationMs, kind, isRejected) => {
      calls++
      if (isRejected === true) rejected++
      if (success) successes++
      else if (kind !== undefined) failuresByKind[kind] = (failuresByKind[kind] ?? 0) + 1
      if (durationMs === undefined) return
      timed++
      durationSum += durationMs
      if (durationMs > durationMax) durationMax = durationMs
    },
    recordRetry,
    recordRejection: (reason) => {
      rejections[reason] = (rejections[reason] ?? 0) + 1
    },
    recordDeadLetter: Effect.suspend(() => {
      deadLetters++
      return Metric.update(dead, 1)
    }),
    recordRejectedLetter: Effect.suspend(() => {
      rejectedLetters++
      return Metric.update(deadRejected, 1)
    }),
    recordRecovered: Effect.suspend(() => {
      recovered++
      return Metric.update(recoveredMetric, 1)
    }),
    // Counted, published with the rest: a spent budget denies every call of an outage.
    recordBudgetDenied: Effect.sync(() => {
      budgetDenied++
    }),
    publish: Effect.suspend(() => {
      const attempts = calls - rejected + retries
      const failedAttempts = attempts - successes
      const updates: Array<Effect.Effect<void>> = []
      if (successes > publishedSuccess) updates.push(Metric.update(attemptSuccess, successes - publishedSuccess))
      if (failedAttempts > publishedFailure) updates.push(Metric.update(attemptFailure, failedAttempts - publishedFailure))
      publishedSuccess = successes
      publishedFailure = failedAttempts
      if (budgetDenied > publishedDenied) updates.push(Metric.update(denied, budgetDenied - publishedDenied))
      publishedDenied = budgetDenied
      for (const reason of Object.keys(rejections)) {
        // An open circuit publishes its own rejections (a standalone breaker has no recorder).
        if (reason === "circuit_open") continue
        const delta = rejections[reason]! - (publishedRejections[reason] ?? 0)
        if (delta > 0) updates.push(Metric.update(Metric.withAttributes(metrics.rejections, { ...base, reason }), delta))
        publishedRejections[reason] = rejections[reason]!
      }
      return Effect.all(updates, { discard: true })
    }),
    stats: () => ({
      operation,
      calls,
      successes,
      failures: calls - successes,
      attempts: calls - rejected + retries,
      retries,
      retriesByKind: { ...retriesByKind },
      retriesByAttempt: [...retriesByAttempt],
      failuresByKind: { ...failuresByKind },
      rejections: { ...rejections },
      rejected,
      recovered,
      deadLetters,
      rejectedLetters,
      budgetDenied,
      successRate: calls === 0 ? 1 : successes / calls,
      averageDurationMs: timed === 0 ? 0 : durationSum / timed,
      maxDurationMs: durationMax,
      timedCalls: timed,
      averageRetryDelayMs: retries === 0 ? 0 : delaySum / retries
    })
  }
}

/**
 * Adds up several recorders' stats into global figures across operations.
 *
 * @example
 * ```ts
 * import { Telemetry } from "effect-resilience"
 * const total = Telemetry.combine([Telemetry.makeRecorder("a").stats(), Telemetry.makeRecorder("b").stats()])
 * total.calls // 0
 * ```
 * @since 0.1.0
 * @category utils
 */
export const combine = (all: ReadonlyArray<Stats>, operation = "all"): Stats => {
  const sumRecord = <K extends string>(records: ReadonlyArray<Readonly<Partial<Record<K, number>>>>) => {
    const out: Partial<Record<K, number>> = {}
    for (const record of records) {
      for (const key of Object.keys(record) as Array<K>) out[key] = (out[key] ?? 0) + (record[key] ?? 0)
    }
    return out
  }
  const calls = all.reduce((n, s) => n + s.calls, 0)
  const successes = all.reduce((n, s) => n + s.successes, 0)
  const retries = all.reduce((n, s) => n + s.retries, 0)
  const rejected = all.reduce((n, s) => n + s.rejected, 0)
  const timedCalls = all.reduce((n, s) => n + s.timedCalls, 0)
  const retriesByAttempt: Array<number> = []
  for (const s of all) s.retriesByAttempt.forEach((n, i) => (retriesByAttempt[i] = (retriesByAttempt[i] ?? 0) + n))
  return {
    operation,
    calls,
    successes,
    failures: calls - successes,
    attempts: calls - rejected + retries,
    retries,
    retriesByKind: sumRecord(all.map((s) => s.retriesByKind)),
    retriesByAttempt,
    failuresByKind: sumRecord(all.map((s) => s.failuresByKind)),
    rejections: sumRecord(all.map((s) => s.rejections)) as Record<string, number>,
    rejected,
    recovered: all.reduce((n, s) => n + s.recovered, 0),
    deadLetters: all.reduce((n, s) => n + s.deadLetters, 0),
    rejectedLetters: all.reduce((n, s) => n + s.rejectedLetters, 0),
    budgetDenied: all.reduce((n, s) => n + s.budgetDenied, 0),
    successRate: calls === 0 ? 1 : successes / calls,
    averageDurationMs: timedCalls === 0 ? 0 : all.reduce((n, s) => n + s.averageDurationMs * s.timedCalls, 0) / timedCalls,
    maxDurationMs: all.reduce((n, s) => Math.max(n, s.maxDurationMs), 0),
    timedCalls,
    averageRetryDelayMs: retries === 0 ? 0 : all.reduce((n, s) => n + s.averageRetryDelayMs * s.retries, 0) / retries
  }
}
