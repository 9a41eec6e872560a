/**
 * The one alias table: foreign spellings of each field (other libraries' and languages' names),
 * and advice for settings that have no field here. Decoding, `layerConfig`, the docs and
 * `explain` read these.
 */
import { showValue } from "./policyError.ts"

/** How a foreign spelling maps onto a field: the same value, or converted. */
export interface Alias {
  /** The spellings, in the form users write them (normalised when matched). */
  readonly names: ReadonlyArray<string>
  /** Converts the value; returns issues instead when it cannot. */
  readonly convert?: (value: unknown) => { readonly value: unknown } | { readonly issue: string }
  /** Shown in docs: what the alias means. */
  readonly note?: string
}

const attemptsToRetries = (value: unknown) =>
  typeof value === "number" && Number.isInteger(value) && value >= 1
    ? { value: value - 1 }
    : { issue: `Expected an integer of at least 1 (attempts include the first call), got ${showValue(value)}` }

const jitterType = (value: unknown) => {
  const text = typeof value === "string" ? value.trim().toLowerCase().replace(/^jittertype/, "") : value
  if (text === "none" || text === "full" || text === "equal") return { value: text }
  if (text === "decorrelated") {
    return { issue: "Decorrelated jitter is a backoff strategy here: write strategy: \"decorrelated\" instead" }
  }
  return { issue: `Expected one of "none", "full", "equal", got ${showValue(value)}` }
}

/**
 * Every alias, by the canonical field it stands for. A field only takes the aliases of its own
 * name, so `maxAttempts` means retries + 1 in a retry policy and itself in a hedge.
 */
export const aliases: Readonly<Record<string, ReadonlyArray<Alias>>> = {
  maxRetries: [{ names: ["maxAttempts"], convert: attemptsToRetries, note: "attempts including the first call: maxRetries + 1" }],
  initialDelay: [{ names: ["baseDelay", "initialBackoff", "initialInterval"] }],
  maxDelay: [{ names: ["maxBackoff", "maxInterval"] }],
  multiplier: [{ names: ["backoffFactor", "exponentialBase", "factor", "backoffMultiplier"] }],
  jitter: [
    { names: ["jitterFraction", "jitterMaxDeviation", "jitterRatio"], note: "a ratio: 0.1 = ±10 %" },
    { names: ["jitterType"], convert: jitterType, note: "\"none\", \"full\" or \"equal\"" }
  ],
  retryOn: [{ names: ["retryableErrors"] }],
  neverRetryOn: [{ names: ["permanentErrors", "nonRetryableErrors"] }],
  name: [{ names: ["operationName"] }],
  circuitBreaker: [{ names: ["enableCircuitBreaker"] }],
  deadLetters: [{ names: ["enableDeadLetter", "enableDeadLetters", "deadLetter"] }],
  consecutiveFailures: [{ names: ["failureThreshold"] }],
  openFor: [{ names: ["resetTimeout", "waitDurationInOpenState", "breakDuration"] }],
  attemptTimeout: [{ names: ["requestTimeout", "perAttemptTimeout"] }],
  maxConcurrent: [{ names: ["maxConcurrency", "maxConcurrentCalls"] }]
}

/**
 * Names of other systems' settings that have no field here, with how to get the same behaviour.
 */
export const advice: Readonly<Record<string, string>> = {
  customConditions: "conditions are code: pass Retry.retry's `while` option",
  customBackoff: "a custom backoff is code: pass Retry.retry a `schedule`",
  deadLetterHandler: "provide a DeadLetter.DeadLetters layer to receive letters",
  enableMetrics: "metrics are always recorded; remove this field",
  enableLogging: "pass { log: false } in code to silence logs; remove this field",
  logLevel: "log levels are set with Effect's Logger; remove this field",
  operationType: "remove this field; tag letters with Resilience.make's `tags` option",
  tags: "pass tags in code: Resilience.make(policy, { tags })",
  enableCircuitBreaker: "a breaker belongs to a pipeline policy: write circuitBreaker: true next to retry",
  enableDeadLetter: "dead letters belong to a pipeline policy: write deadLetters: true next to retry",
  exceptions: "which errors retry is decided by retryOn / neverRetryOn (kinds) or a classifier in code"
}

