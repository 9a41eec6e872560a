/**
 * Turns breaker options that `CircuitBreaker`'s schema has already decoded into the machine's
 * `Config` in milliseconds. No validation here: the schema is the only place rules live.
 *
 * @internal
 */
import { Duration } from "effect"
import type { Config, Rule } from "./machine.ts"
import type { WindowSpec } from "../window.ts"

/** A rule as written by a user, before decoding. */
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
    readonly slowerThan: Duration.Input | string
    readonly minimumCalls?: number | undefined
    readonly window: WindowInput
    readonly buckets?: number | undefined
  }

/** A call count (a number) or a duration (anything else `Duration` accepts, or a short form such as `"1m"`). */
export type WindowInput = number | Exclude<Duration.Input, number> | string

/** A decoded rate rule's fields. */
interface DecodedRate {
  readonly threshold: number
  readonly minimumCalls: number
  readonly window: number | Duration.Duration
  readonly buckets: number
}

/** A decoded rule. */
export type DecodedRule =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | ({ readonly _tag: "FailureRate" } & DecodedRate)
  | ({ readonly _tag: "SlowCallRate"; readonly slowerThan: Duration.Duration } & DecodedRate)

const windowSpec = (rule: DecodedRate): WindowSpec =>
  typeof rule.window === "number"
    ? { _tag: "Count", size: rule.window }
    : { _tag: "Time", millis: Duration.toMillis(rule.window), buckets: rule.buckets }

/** A decoded rule for the machine. */
export const toRule = (rule: DecodedRule): Rule => {
  switch (rule._tag) {
    case "Consecutive":
      return rule
    case "FailureRate":
      return { _tag: "FailureRate", threshold: rule.threshold, minimumCalls: rule.minimumCalls, window: windowSpec(rule) }
    case "SlowCallRate":
      return {
        _tag: "SlowCallRate",
        threshold: rule.threshold,
        minimumCalls: rule.minimumCalls,
        window: windowSpec(rule),
        slowerThan: Duration.toMillis(rule.slowerThan)
      }
  }
}

/** The machine's configuration from decoded options (`openFor` already expanded from a schedule if one was given). */
export const toConfig = (options: {
  readonly rules: ReadonlyArray<DecodedRule>
  readonly openFor: (opening: number) => number
  readonly maxOpenFor: Duration.Duration
  readonly probes: number
  readonly successesToClose: number | undefined
  readonly closeOnHealthy: boolean
}): Config => ({
  rules: options.rules.map(toRule),
  openFor: options.openFor,
  maxOpenFor: Duration.toMillis(options.maxOpenFor),
  probes: options.probes,
  successesToClose: options.successesToClose ?? options.probes,
  closeOnHealthy: options.closeOnHealthy
})
