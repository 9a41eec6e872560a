/**
 * Turns breaker options that `CircuitBreaker`'s schema has already decoded into the machine's
 * `Config` in milliseconds. No validation and no rule of its own here: rules live in `schema.ts`.
 *
 * @internal
 */
import { Duration } from "effect"
import type { Config } from "./machine.ts"
import { type DecodedRule, toRule } from "./schema.ts"


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
