/**
 * Validation of constructor options for the guards (budgets, bulkhead, dead letters, timeouts):
 * collects every bad field as a `PolicyIssue` instead of throwing.
 *
 * @internal
 */
import { Duration, Option } from "effect"
import { PolicyError, type PolicyIssue } from "../Policy.ts"

/** Collects issues; `error()` is `undefined` when there are none. */
export class Issues {
  readonly list: Array<PolicyIssue> = []

  /** A number that must be finite and at least `min` (an integer when `int`). */
  number(path: string, value: number, min: number, int = false): number {
    if (!Number.isFinite(value) || value < min || (int && !Number.isInteger(value))) {
      this.list.push({ path: [path], message: `Expected ${int ? "an integer" : "a finite number"} >= ${min}, got ${value}` })
    }
    return value
  }

  /** A duration that must be finite and positive (or zero, when allowed); returns its milliseconds (NaN when bad). */
  positiveDuration(path: string, value: Duration.Input, allowZero = false): number {
    const parsed = typeof value === "number" && Number.isNaN(value) ? Option.none() : Duration.fromInput(value)
    const millis = Option.match(parsed, {
      onNone: () => Number.NaN,
      onSome: (d) => (Duration.isFinite(d) ? Duration.toMillis(d) : Number.NaN)
    })
    if (!(millis > 0 || (allowZero && millis === 0))) {
      this.list.push({ path: [path], message: `Expected a ${allowZero ? "non-negative" : "positive"} finite duration, got ${JSON.stringify(String(value))}` })
    }
    return millis
  }

  error(): PolicyError | undefined {
    return this.list.length === 0 ? undefined : new PolicyError({ issues: this.list })
  }
}
