/**
 * `explain`: what a retry policy will do, as the seeds' delay tables (attempt, formula, delay
 * without jitter, range with jitter) and seed 003's worst-case total time. Pure functions: the
 * command-line wrapper only reads input and prints.
 *
 * @since 0.1.0
 */
import { Duration } from "effect"
import * as formulas from "../internal/delays.ts"
import type { RetryPolicy } from "../Policy.ts"

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
}

const seconds = (ms: number): string => {
  if (ms === 0) return "0s"
  if (ms < 1000) return `${+ms.toFixed(1)}ms`
  return `${+(ms / 1000).toFixed(2)}s`
}

/**
 * Formats milliseconds the way the seeds' tables do (`0s`, `200ms`, `1.5s`).
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
  return {
    rows,
    maxAttempts,
    totalDelayMs,
    totalDelayMaxMs,
    worstCaseMs: timeoutMs === undefined ? unbounded : Math.min(unbounded, timeoutMs),
    timeoutMs
  }
}

/**
 * Renders an explanation as text: a header describing the policy, the table in seed 001's layout,
 * and the worst-case total time in seed 003's form.
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
  lines.push(`  jitter ${jitterLabel(policy)}${policy.honorRetryAfter ? "; waits at least as long as a Retry-After asks" : ""}`)
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
  lines.push("Worst-case total time (seed 003): max_time = sum of all delays + max_attempts × operation_time")
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
  return lines.join("\n")
}
