/**
 * The kinds of failure, shared by Failure, Retry, Policy and the breaker.
 *
 * @internal
 */

/** Every kind of failure the library distinguishes. */
export const kinds = [
  "Network",
  "Timeout",
  "RateLimit",
  "Server",
  "Client",
  "Auth",
  "NotFound",
  "Validation",
  "CircuitOpen",
  "Unknown"
] as const

/** What went wrong, in terms a retry or breaker decision can use. */
export type Kind = typeof kinds[number]
