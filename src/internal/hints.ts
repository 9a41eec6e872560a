/**
 * Server retry hints: where they are read from errors, headers and schedule inputs.
 */
import { Duration } from "effect"

/** The hint a schedule input carries (a `Transient` failure's `retryAfter`), if any. */
export const hintOf = (input: unknown): Duration.Duration | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const hint = (input as { readonly retryAfter?: unknown }).retryAfter
  return Duration.isDuration(hint) ? hint : undefined
}
