/**
 * Validation of breaker options: turns user input (durations as `Duration.Input`, rules as data)
 * into the machine's `Config` in milliseconds, or lists every bad field by path. Pure: a
 * `Schedule` for `openFor` is expanded by the caller (it needs an effect to step).
 *
 * @internal
 */
import { Duration } from "effect"
import type { PolicyIssue } from "../../Policy.ts"
import type { Rule } from "./machine.ts"
import type { WindowSpec } from "./window.ts"

/** A rule as written by a user, before validation. */
export type RuleInput =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | {
    readonly _tag: "FailureRate"
    readonly threshold: number
    readonly minimumCalls?: number | undefined
    readonly window: WindowInput
    readonly buckets?: number | undefined
  }
  | {
    readonly _tag: "SlowCallRate"
    readonly threshold: number
    readonly slowerThan: Duration.Input
    readonly minimumCalls?: number | undefined
    readonly window: WindowInput
    readonly buckets?: number | undefined
  }

/** A call count (a number) or a duration (anything else `Duration` accepts). */
export type WindowInput = number | Exclude<Duration.Input, number>

/** Collects issues while reading input. */
export class Issues {
  readonly list: Array<PolicyIssue> = []
  add(path: ReadonlyArray<PropertyKey>, message: string): void {
    this.list.push({ path, message })
  }
  /** A non-negative finite duration in ms, or undefined (and an issue). */
  millis(path: ReadonlyArray<PropertyKey>, input: unknown, positive = false): number | undefined {
    const d = toMillis(input)
    if (d === undefined || !Number.isFinite(d) || d < 0 || (positive && d === 0)) {
      this.add(path, `Expected a ${positive ? "positive" : "non-negative"} finite duration, such as "500 millis" or "30 seconds"`)
      return undefined
    }
    return d
  }
  int(path: ReadonlyArray<PropertyKey>, input: unknown, minimum: number): number | undefined {
    if (typeof input !== "number" || !Number.isInteger(input) || input < minimum) {
      this.add(path, `Expected an integer of at least ${minimum}, got ${String(input)}`)
      return undefined
    }
    return input
  }
  ratio(path: ReadonlyArray<PropertyKey>, input: unknown): number | undefined {
    if (typeof input !== "number" || !(input >= 0 && input <= 1)) {
      this.add(path, `Expected a value between 0 and 1, got ${String(input)}`)
      return undefined
    }
    return input
  }
}

/** A `Duration.Input` in ms, or undefined when it is not one. */
export const toMillis = (input: unknown): number | undefined => {
  if (typeof input === "number") return Number.isNaN(input) ? undefined : input
  if (input === undefined || input === null) return undefined
  try {
    const d = Duration.fromInput(input as Duration.Input)
    return d._tag === "Some" ? Duration.toMillis(d.value) : undefined
  } catch {
    return undefined
  }
}

const DEFAULT_BUCKETS = 10

const windowSpec = (issues: Issues, path: ReadonlyArray<PropertyKey>, input: unknown, buckets: unknown): WindowSpec | undefined => {
  if (typeof input === "number") {
    const size = issues.int(path, input, 1)
    return size === undefined ? undefined : { _tag: "Count", size }
  }
  const millis = issues.millis(path, input, true)
  const n = buckets === undefined ? DEFAULT_BUCKETS : issues.int([...path.slice(0, -1), "buckets"], buckets, 1)
  return millis === undefined || n === undefined ? undefined : { _tag: "Time", millis, buckets: n }
}

/** Validates rules; `path` is where they sit in the options. */
export const rules = (issues: Issues, path: ReadonlyArray<PropertyKey>, input: ReadonlyArray<RuleInput>): Array<Rule> => {
  const out: Array<Rule> = []
  input.forEach((rule, i) => {
    const at = (field: string) => [...path, i, field]
    switch (rule._tag) {
      case "Consecutive": {
        const failures = issues.int(at("failures"), rule.failures, 1)
        if (failures !== undefined) out.push({ _tag: "Consecutive", failures })
        break
      }
      case "FailureRate":
      case "SlowCallRate": {
        const threshold = issues.ratio(at("threshold"), rule.threshold)
        const minimumCalls = rule.minimumCalls === undefined ? 1 : issues.int(at("minimumCalls"), rule.minimumCalls, 1)
        const window = windowSpec(issues, at("window"), rule.window, rule.buckets)
        if (rule._tag === "FailureRate") {
          if (threshold !== undefined && minimumCalls !== undefined && window !== undefined) {
            out.push({ _tag: "FailureRate", threshold, minimumCalls, window })
          }
        } else {
          const slowerThan = issues.millis(at("slowerThan"), rule.slowerThan)
          if (threshold !== undefined && minimumCalls !== undefined && window !== undefined && slowerThan !== undefined) {
            out.push({ _tag: "SlowCallRate", threshold, minimumCalls, window, slowerThan })
          }
        }
        break
      }
      default:
        issues.add([...path, i], "Expected a rule made by consecutive, failureRate or slowCallRate")
    }
  })
  return out
}
