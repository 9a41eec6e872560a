/**
 * `explain`: what a policy will do. For the retry part, a delay table (attempt, formula, delay
 * without jitter, range with jitter) and the worst-case total time; for a pipeline, every stage
 * too (timeouts, bulkhead, breaker, budget, hedging, the cap on `Retry-After` hints). Every
 * duration is printed with its unit, so a seconds-meant-as-milliseconds mistake shows. Pure
 * functions: the command-line wrapper only reads input and prints.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import * as formulas from "../internal/delays.ts"
import { defaults, type PipelinePolicy, type RetryPolicy } from "../Policy.ts"

/**
 * One row of the table: the attempt number (1 = the first call) and the wait before it.
 *
 * @since 0.1.0
 */
export interface Row {
  readonly attempt: number
  readonly calculation: string
  /** The delay before this attempt without jitter (ms); `undefined` for decorrelated backoff, which has none. */
  readonly delayMs: number | undefined
  readonly capped: boolean
  /** The range jitter spreads the delay over (ms). */
  readonly rangeMs: readonly [number, number]
}

/**
 * The whole explanation of a policy.
 *
 * @since 0.1.0
 */
export interface Explanation {
  readonly rows: ReadonlyArray<Row>
  readonly maxAttempts: number
  /** The sum of the delays without jitter, and at the top of the jitter range (ms). */
  readonly totalDelayMs: number
  readonly totalDelayMaxMs: number
  /** Seed 003: `max_time = sum of all delays + max_attempts × operation_time`, at the top of the jitter range. */
  readonly worstCaseMs: number
  /** The policy's own total timeout, which bounds the worst case, if set. */
  readonly timeoutMs: number | undefined
  /** The worst case when every retry is told by a server to wait the longest hint honoured (`maxRetryAfter`). */
  readonly worstCaseWithHintsMs: number
  /** The longest `Retry-After` hint honoured (ms), or undefined when hints are ignored. */
  readonly maxRetryAfterMs: number | undefined
}

const seconds = (ms: number): string => {
  if (ms === 0) return "0s"
  if (!Number.isFinite(ms)) return String(ms)
  if (ms < 1000) return `${+ms.toFixed(1)}ms`
  return `${+(ms / 1000).toFixed(2)}s`
}

/**
 * Formats milliseconds the way retry tables usually do (`0s`, `200ms`, `1.5s`).
 *
 * @since 0.1.0
 */
export const formatMillis = seconds

const jitterLabel = (policy: RetryPolicy): string => {
  const mode = policy.jitter
  if (policy.strategy === "decorrelated") return "decorrelated (random by construction)"
  if (mode === "none") return "none"
  if (mode === "full") return "full: uniform(0, d)"
  if (mode === "equal") return "equal: d/2 + uniform(0, d/2)"
  if (mode === "multiplicative") return "multiplicative: d·(0.5 + uniform(0, 1))"
  if ("oneSided" in mode) return `one-sided +0-${+(mode.oneSided * 100).toFixed(2)}%: d + uniform(0, ${mode.oneSided}·d)`
  return `±${+(mode.ratio * 100).toFixed(2)}%: d·uniform(${1 - mode.ratio}, ${1 + mode.ratio})`
}

/**
 * Computes the delay table for a decoded policy.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * import { explain } from "effect-resilience/cli/explain"
 * explain(Policy.defaults).rows.map((row) => row.delayMs) // [0, 1000, 2000, 4000]
 * ```
 * @since 0.1.0
 */
export const explain = (policy: RetryPolicy, operationTimeMs: number = 0): Explanation => {
  const initial = Duration.toMillis(policy.initialDelay)
  const max = Duration.toMillis(policy.maxDelay)
  const step = policy.step === undefined ? initial : Duration.toMillis(policy.step)
  const rows: Array<Row> = [{ attempt: 1, calculation: "Immediate", delayMs: 0, capped: false, rangeMs: [0, 0] }]
  let decorrelatedUpper = initial
  for (let k = 1; k <= policy.maxRetries; k++) {
    const attempt = k + 1
    if (policy.strategy === "decorrelated") {
      const upper = Math.min(max, Math.max(initial, decorrelatedUpper * 3))
      decorrelatedUpper = upper
      rows.push({ attempt, calculation: `uniform(${seconds(initial)}, previous × 3) ≤ ${seconds(max)}`, delayMs: undefined, capped: upper === max, rangeMs: [initial, upper] })
      continue
    }
    let raw: number
    let calculation: string
    switch (policy.strategy) {
      case "exponential":
        raw = formulas.exponential(initial, policy.multiplier, k)
        calculation = `${seconds(initial)} × ${policy.multiplier}^${k - 1}`
        break
      case "linear":
        raw = formulas.linear(initial, step, k)
        calculation = `${seconds(initial)} + ${k - 1} × ${seconds(step)}`
        break
      case "fixed":
        raw = initial
        calculation = seconds(initial)
        break
      case "fibonacci":
        raw = formulas.fibonacci(initial, k)
        calculation = `${seconds(initial)} × fib(${k}) = ${seconds(initial)} × ${formulas.fib(k)}`
        break
    }
    const capped = raw > max
    const delay = Math.min(raw, max)
    rows.push({ attempt, calculation, delayMs: delay, capped, rangeMs: formulas.jitterRange(delay, policy.jitter) })
  }
  const totalDelayMs = rows.reduce((sum, row) => sum + (row.delayMs ?? row.rangeMs[1]), 0)
  const totalDelayMaxMs = rows.reduce((sum, row) => sum + row.rangeMs[1], 0)
  const maxAttempts = policy.maxRetries + 1
  const timeoutMs = policy.timeout === undefined ? undefined : Duration.toMillis(policy.timeout)
  const unbounded = totalDelayMaxMs + maxAttempts * operationTimeMs
  const maxRetryAfterMs = policy.honorRetryAfter ? Duration.toMillis(policy.maxRetryAfter) : undefined
  const hinted = maxRetryAfterMs === undefined
    ? unbounded
    : rows.reduce((sum, row) => sum + (row.attempt === 1 ? 0 : Math.max(row.rangeMs[1], maxRetryAfterMs)), 0) +
      maxAttempts * operationTimeMs
  const bound = (ms: number) => (timeoutMs === undefined ? ms : Math.min(ms, timeoutMs))
  return {
    rows,
    maxAttempts,
    totalDelayMs,
    totalDelayMaxMs,
    worstCaseMs: bound(unbounded),
    timeoutMs,
    worstCaseWithHintsMs: bound(hinted),
    maxRetryAfterMs
  }
}

/**
 * Renders an explanation as text: a header describing the policy, the table of attempts and
 * delays, and the worst-case total time.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 * import { render } from "effect-resilience/cli/explain"
 * console.log(render("defaults", Policy.defaults, 2000))
 * ```
 * @since 0.1.0
 */
export const render = (title: string, policy: RetryPolicy, operationTimeMs: number = 0): string => {
  const e = explain(policy, operationTimeMs)
  const lines: Array<string> = []
  lines.push(`Policy: ${title}`)
  lines.push(
    `  strategy ${policy.strategy}, ${policy.maxRetries} retries (${e.maxAttempts} attempts), initial ${seconds(Duration.toMillis(policy.initialDelay))}` +
      (policy.strategy === "exponential" ? `, factor ${policy.multiplier}` : "") +
      `, cap ${seconds(Duration.toMillis(policy.maxDelay))}`
  )
  lines.push(
    `  jitter ${jitterLabel(policy)}${
      policy.honorRetryAfter ? `; waits at least as long as a Retry-After asks, up to ${seconds(Duration.toMillis(policy.maxRetryAfter))}` : ""
    }`
  )
  if (policy.retryOn !== undefined) lines.push(`  retries only: ${policy.retryOn.join(", ")}`)
  if (policy.neverRetryOn !== undefined) lines.push(`  never retries: ${policy.neverRetryOn.join(", ")}`)
  lines.push(`  unknown errors are ${policy.unknownErrors}`)
  lines.push("")
  const header = ["Attempt", "Calculation", "Backoff (no jitter)", "With jitter"]
  const body = e.rows.map((row) => [
    String(row.attempt),
    row.calculation,
    row.delayMs === undefined ? "random" : row.capped ? `${seconds(row.delayMs)} (capped)` : seconds(row.delayMs),
    row.rangeMs[0] === row.rangeMs[1] ? seconds(row.rangeMs[0]) : `${seconds(row.rangeMs[0])} - ${seconds(row.rangeMs[1])}`
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  lines.push(line(header))
  lines.push(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`)
  for (const row of body) lines.push(line(row))
  lines.push("")
  lines.push("Worst-case total time: max_time = sum of all delays + max_attempts × operation_time")
  lines.push(
    `  = ${seconds(e.totalDelayMaxMs)} + ${e.maxAttempts} × ${seconds(operationTimeMs)} = ${seconds(e.totalDelayMaxMs + e.maxAttempts * operationTimeMs)}` +
      (e.totalDelayMaxMs !== e.totalDelayMs ? `  (delays without jitter: ${seconds(e.totalDelayMs)})` : "")
  )
  if (e.timeoutMs !== undefined) {
    lines.push(
      e.worstCaseMs < e.totalDelayMaxMs + e.maxAttempts * operationTimeMs
        ? `  bounded by the policy's total timeout: ${seconds(e.timeoutMs)}`
        : `  within the policy's total timeout of ${seconds(e.timeoutMs)}`
    )
  }
  if (e.maxRetryAfterMs !== undefined && e.worstCaseWithHintsMs > e.worstCaseMs) {
    lines.push(
      `  if a server asks each retry to wait (Retry-After, honoured up to ${seconds(e.maxRetryAfterMs)}): up to ${seconds(e.worstCaseWithHintsMs)}`
    )
  }
  return lines.join("\n")
}

const breakerLines = (breaker: true | Exclude<PipelinePolicy["circuitBreaker"], boolean | undefined>): Array<string> => {
  if (breaker === true) return ["  circuit breaker: the defaults (opens after 5 consecutive failures, open 30s, 1 probe)"]
  const rules: Array<string> = []
  if (breaker.consecutiveFailures !== undefined) rules.push(`${breaker.consecutiveFailures} consecutive failures`)
  const windowText = (w: number | Duration.Duration) => (typeof w === "number" ? `the last ${w} calls` : seconds(Duration.toMillis(w)))
  if (breaker.failureRate !== undefined) {
    const r = breaker.failureRate
    rules.push(`failure rate >= ${+(r.threshold * 100).toFixed(2)}% over ${windowText(r.window)} (at least ${r.minimumCalls} calls)`)
  }
  if (breaker.slowCallRate !== undefined) {
    const r = breaker.slowCallRate
    rules.push(
      `calls slower than ${seconds(Duration.toMillis(r.slowerThan))} >= ${+(r.threshold * 100).toFixed(2)}% over ${windowText(r.window)} (at least ${r.minimumCalls} calls)`
    )
  }
  if (rules.length === 0) rules.push("5 consecutive failures")
  const growth = breaker.openForMultiplier === undefined ? "" : `, x${breaker.openForMultiplier} each consecutive opening`
  const probes = breaker.halfOpen.probes
  const toClose = breaker.halfOpen.successesToClose ?? probes
  return [
    `  circuit breaker: opens on ${rules.join(" or ")}`,
    `    open ${seconds(Duration.toMillis(breaker.openFor))}${growth}, at most ${seconds(Duration.toMillis(breaker.maxOpenFor))}; half-open: ${probes} probe${probes === 1 ? "" : "s"}, ${toClose} success${toClose === 1 ? "" : "es"} close it`
  ]
}

const budgetLine = (budget: Exclude<PipelinePolicy["budget"], false | undefined>): string =>
  budget.type === "tokenBucket"
    ? `  retry budget: token bucket of ${budget.capacity}; a retry costs ${budget.retryCost} (after a timeout ${budget.timeoutRetryCost}), a first-try success refunds ${budget.successRefund}`
    : `  retry budget: ${+(budget.ratio * 100).toFixed(2)}% of requests + ${budget.minPerSecond}/s, over ${seconds(Duration.toMillis(budget.window))}`

/**
 * The whole pipeline's explanation: every stage, then the retry table, then the worst case of a
 * call (attempts bounded by the attempt timeout, the call by the total timeout).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * import { renderPipeline } from "effect-resilience/cli/explain"
 * const policy = Effect.runSync(Policy.decodePipeline({ retry: { maxRetries: 2 }, attemptTimeout: "2s", timeout: "10s" }))
 * console.log(renderPipeline("payments", policy))
 * ```
 * @since 0.1.0
 */
export const renderPipeline = (title: string, policy: PipelinePolicy, operationTimeMs: number = 0): string => {
  const lines: Array<string> = [`Pipeline: ${title}`]
  if (policy.description !== undefined) lines.push(`  ${policy.description}`)
  const attemptMs = policy.attemptTimeout === undefined ? undefined : Duration.toMillis(policy.attemptTimeout)
  const totalMs = policy.timeout === undefined ? undefined : Duration.toMillis(policy.timeout)
  lines.push(`  total timeout: ${totalMs === undefined ? "none" : `${seconds(totalMs)} for the whole call, retries included`}`)
  lines.push(`  attempt timeout: ${attemptMs === undefined ? "none" : `${seconds(attemptMs)} per attempt (a timed-out attempt may be retried)`}`)
  lines.push(
    policy.bulkhead === undefined
      ? "  bulkhead: none"
      : `  bulkhead: ${policy.bulkhead.maxConcurrent} at once, ${policy.bulkhead.maxQueue} waiting`
  )
  if (policy.circuitBreaker === undefined || policy.circuitBreaker === false) lines.push("  circuit breaker: none")
  else lines.push(...breakerLines(policy.circuitBreaker))
  lines.push(policy.budget === undefined || policy.budget === false ? "  retry budget: none" : budgetLine(policy.budget))
  lines.push(
    policy.hedge === undefined
      ? "  hedging: none"
      : `  hedging: another attempt after ${seconds(Duration.toMillis(policy.hedge.delay))}, at most ${policy.hedge.maxAttempts} in flight`
  )
  lines.push(`  dead letters: ${policy.deadLetters ? "on" : "off"}`)
  lines.push("")
  // An attempt that hangs lasts until its timeout: that is the worst case of one attempt.
  const perAttempt = attemptMs === undefined ? operationTimeMs : operationTimeMs === 0 ? attemptMs : Math.min(operationTimeMs, attemptMs)
  if (policy.retry === false) {
    lines.push("Retry: off (one attempt)")
    const worst = totalMs === undefined ? perAttempt : Math.min(perAttempt, totalMs)
    lines.push(`Worst-case total time: ${seconds(worst)}`)
    return lines.join("\n")
  }
  const retry = policy.retry ?? defaults
  lines.push(render(retry.name ?? title, retry, perAttempt))
  if (totalMs !== undefined) {
    const e = explain(retry, perAttempt)
    lines.push(`Whole call: at most ${seconds(Math.min(e.worstCaseWithHintsMs, totalMs))} (the total timeout of ${seconds(totalMs)} bounds it)`)
  }
  return lines.join("\n")
}
