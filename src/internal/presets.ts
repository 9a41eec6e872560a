/**
 * The retry defaults and the ready-made policies (`Policy.defaults`, `Policy.presets`).
 */
import { Result } from "effect"
import { decodeRetryResult, type RetryPolicy, type RetryPolicyInput } from "./retryPolicy.ts"

const fromCode = (input: RetryPolicyInput): RetryPolicy => {
  const result = decodeRetryResult(input)
  if (Result.isFailure(result)) throw new globalThis.Error(`Invalid built-in policy: ${result.failure.message}`)
  return result.success
}

/**
 * The retry defaults: 3 retries (4 attempts), 1 s initial delay, 30 s cap, factor 2, ±10 % jitter.
 */
export const defaults: RetryPolicy = fromCode({})

/**
 * A named, ready-made policy: the retry part plus which other guards it is paired with. It is a
 * pipeline policy, so it can be passed to `Resilience.make` or spread and overridden.
 */
export interface Preset {
  readonly name: string
  readonly description: string
  readonly retry: RetryPolicy
  readonly circuitBreaker: boolean
  readonly deadLetters: boolean
}

const preset = (
  name: string,
  description: string,
  retry: RetryPolicyInput,
  guards: { readonly circuitBreaker: boolean; readonly deadLetters: boolean }
): Preset => ({ name, description, retry: fromCode({ name, ...retry }), ...guards })

/**
 * Ready-made policies: `database`, `http`, `s3`, `cache`, `inference` (an HTTP inference client,
 * 60 s cap), `llm` (the retry defaults), `cloudStorage` (one-sided jitter: `d + uniform(0, d/4)`)
 * and `kafka` (multiplicative jitter: `d · (0.5 + uniform(0, 1))`).
 */
export const presets = {
  database: preset("database", "Database calls: 3 attempts, 100 ms exponential, circuit breaker", {
    maxAttempts: 3,
    initialDelay: 100,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  http: preset("http", "HTTP requests: 5 attempts, 200 ms exponential with full jitter, circuit breaker", {
    maxAttempts: 5,
    initialDelay: 200,
    maxDelay: "30 seconds",
    jitter: "full",
    timeout: "5 minutes"
  }, { circuitBreaker: true, deadLetters: false }),
  s3: preset("s3", "Object storage: 4 attempts, 500 ms exponential, dead letters", {
    maxAttempts: 4,
    initialDelay: 500,
    maxDelay: "30 seconds",
    jitter: "none",
    timeout: "5 minutes"
  }, { circuitBreaker: false, deadLetters: true }),
  cache: preset("cache", "Cache calls: 2 attempts, 50 ms fixed, no breaker", {
    maxAttempts: 2,
    initialDelay: 50,
    maxDelay: 50,
    strategy: "fixed",
    jitter: "none"
  }, { circuitBreaker: false, deadLetters: false }),
  inference: preset("inference", "HTTP inference client: 3 retries, 1 s exponential to 60 s, ±10 %", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "60 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  llm: preset("llm", "LLM API calls: 3 retries, 1 s exponential to 30 s, ±10 %", {
    maxRetries: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: 0.1
  }, { circuitBreaker: false, deadLetters: false }),
  cloudStorage: preset("cloudStorage", "Cloud storage uploads: 3 attempts, 1 s exponential to 30 s, +0-25 % jitter", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "30 seconds",
    multiplier: 2,
    jitter: "oneSided"
  }, { circuitBreaker: false, deadLetters: false }),
  kafka: preset("kafka", "Kafka publishing: 3 attempts, 1 s exponential to 10 s, 50-150 % jitter", {
    maxAttempts: 3,
    initialDelay: "1 second",
    maxDelay: "10 seconds",
    multiplier: 2,
    jitter: "multiplicative"
  }, { circuitBreaker: true, deadLetters: false })
} as const satisfies Record<string, Preset>

/**
 * The name of a preset.
 */
export type PresetName = keyof typeof presets

/**
 * Is this string a preset name?
 */
export const isPresetName = (name: string): name is PresetName => Object.prototype.hasOwnProperty.call(presets, name)

