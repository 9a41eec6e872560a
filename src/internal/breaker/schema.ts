/**
 * The one definition of every breaker option's rules and defaults, as schemas: `make`'s options,
 * the data policy `BreakerPolicy`, and a rate rule's window. The public `CircuitBreaker` module
 * exports and documents them. Everything a trip rule is lives here: its input type, its schema, its
 * field in a data policy, and its decoded form for the machine; `config.ts` assembles the rest of
 * the machine's configuration.
 *
 * @internal
 */
import { Duration, Schema, SchemaTransformation } from "effect"
import { bounds, Delay, IntBetween, NumberBetween, PositiveDelay, Ratio, toDuration, withDefault } from "../fields.ts"
import type { Rule } from "./machine.ts"
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

/** A decoded rule. */
export type DecodedRule = typeof RuleSchema.Type

const windowSpec = (rule: { readonly window: number | Duration.Duration; readonly buckets: number }): WindowSpec =>
  typeof rule.window === "number"
    ? { _tag: "Count", size: rule.window }
    : { _tag: "Time", millis: Duration.toMillis(rule.window), buckets: rule.buckets }

const windowExpected = `a whole number of calls (1..${bounds.size}), or a positive duration such as "1 minute" or "30s"`

export const WindowSchema: Schema.Codec<number | Duration.Duration, WindowInput> = Schema.Unknown.check(
  Schema.makeFilter((input: unknown) => {
    if (typeof input === "number") return (Number.isInteger(input) && input >= 1 && input <= bounds.size) || `Expected ${windowExpected}`
    const d = toDuration(input)
    return (d !== undefined && Duration.isFinite(d) && Duration.toMillis(d) > 0) || `Expected ${windowExpected}`
  })
).pipe(
  Schema.decodeTo(
    Schema.Union([Schema.Number, Schema.Duration]),
    SchemaTransformation.transform<number | Duration.Duration, unknown>({
      decode: (input) => (typeof input === "number" ? input : toDuration(input) ?? Duration.zero),
      encode: (window) => window
    })
  )
).annotate({ expected: windowExpected }) as unknown as Schema.Codec<number | Duration.Duration, WindowInput>

const FailureCount = IntBetween(1, bounds.size)

const rateRuleFields = {
  /** Trips when failures (or slow calls) / calls in the window reach this (0..1). */
  threshold: Ratio,
  /** Calls the window must hold before the rate counts. */
  minimumCalls: withDefault(IntBetween(1, bounds.size), 1),
  window: WindowSchema,
  /** Buckets of a time window (its resolution). */
  buckets: withDefault(IntBetween(1, bounds.buckets), 10)
}

const slowCallFields = {
  ...rateRuleFields,
  /** A call at least this slow counts as slow, whether it succeeded or failed. */
  slowerThan: Delay
}

const HalfOpenSchema = Schema.Struct({
  /** Probes allowed at once while half-open. */
  probes: withDefault(IntBetween(1, bounds.size), 1),
  /** Successful probes that close the circuit (default: probes). */
  successesToClose: Schema.optionalKey(IntBetween(1, bounds.size))
})

const commonFields = {
  /** How long to stay open. */
  openFor: withDefault(Delay, 30_000),
  /** Caps every open period, including one stretched by a retry-after hint. */
  maxOpenFor: withDefault(Delay, "10 minutes"),
  halfOpen: withDefault(HalfOpenSchema, {})
}

export const RuleSchema = Schema.Union([
  Schema.Struct({ _tag: Schema.Literal("Consecutive"), failures: FailureCount }),
  Schema.Struct({ _tag: Schema.Literal("FailureRate"), ...rateRuleFields }),
  Schema.Struct({ _tag: Schema.Literal("SlowCallRate"), ...slowCallFields })
])

export const OptionsSchema = Schema.Struct({
  name: Schema.optionalKey(Schema.NonEmptyString),
  trip: withDefault(Schema.Array(RuleSchema).check(Schema.isMinLength(1)), [{ _tag: "Consecutive", failures: 5 }]),
  ...commonFields,
  healthCheck: Schema.optionalKey(Schema.Struct({ every: PositiveDelay, closeOnSuccess: withDefault(Schema.Boolean, false) })),
  /** Keyed breakers: a circuit unused this long, whose state no longer matters, is dropped. */
  idleTimeToLive: withDefault(PositiveDelay, "10 minutes"),
  /** Keyed breakers: at most this many circuits are kept. */
  maxCircuits: withDefault(IntBetween(1, bounds.size), 100_000)
})

export const BreakerPolicy = Schema.Struct({
  consecutiveFailures: Schema.optionalKey(FailureCount),
  failureRate: Schema.optionalKey(Schema.Struct(rateRuleFields)),
  slowCallRate: Schema.optionalKey(Schema.Struct(slowCallFields)),
  ...commonFields,
  /** Each consecutive opening lasts `multiplier` times longer than the last (capped by maxOpenFor). */
  openForMultiplier: Schema.optionalKey(NumberBetween(1, 1000))
})

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

/** The rules a data policy names, in the order they are checked. */
export const policyRules = (policy: typeof BreakerPolicy.Type): Array<RuleInput> => {
  const rules: Array<RuleInput> = []
  if (policy.consecutiveFailures !== undefined) rules.push({ _tag: "Consecutive", failures: policy.consecutiveFailures })
  if (policy.failureRate !== undefined) rules.push({ _tag: "FailureRate", ...policy.failureRate })
  if (policy.slowCallRate !== undefined) rules.push({ _tag: "SlowCallRate", ...policy.slowCallRate })
  return rules
}
