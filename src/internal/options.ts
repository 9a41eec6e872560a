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

  /** A duration that must be finite and strictly positive; returns its milliseconds (NaN when bad). */
  positiveDuration(path: string, value: Duration.Input): number {
    const millis = Option.match(Duration.fromInput(value), {
      onNone: () => Number.NaN,
      onSome: (d) => (Duration.isFinite(d) ? Duration.toMillis(d) : Number.NaN)
    })
    if (!(millis > 0)) {
      this.list.push({ path: [path], message: `Expected a positive finite duration, got ${JSON.stringify(String(value))}` })
    }
    return millis
  }

  error(): PolicyError | undefined {
    return this.list.length === 0 ? undefined : new PolicyError({ issues: this.list })
  }
}
