/**
 * Propagation: what crosses a hop between services besides the request itself. The client sends
 * the call's time left and the attempt number; the server middleware reads them into `Incoming`;
 * a server answers with a pushback header when its callers should not retry.
 *
 * @since 0.1.0
 */
import { Context, Result, Schema } from "effect"
import { withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import { decodeOptions } from "../internal/strict.ts"

const HeaderName = Schema.String.check(Schema.isPattern(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/))

/**
 * The header names, as data (each an HTTP token; matched case-insensitively), with their defaults:
 *
 * | field | default | value |
 * |---|---|---|
 * | `timeLeft` | `x-time-left-ms` | milliseconds left before the caller's deadline |
 * | `attempt` | `x-retry-attempt` | 1 for a first attempt, 2 for the first retry, … |
 * | `pushback` | `x-retry-pushback` | `stop` (or any non-number): do not retry; a number: wait that many ms |
 * | `idempotencyKey` | `idempotency-key` | the key of one logical call, the same on every attempt |
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Propagation } from "effect-resilience/http"
 * Schema.decodeUnknownSync(Propagation.HeaderNames)({ timeLeft: "grpc-timeout-ms" }).attempt // "x-retry-attempt"
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const HeaderNames = Schema.Struct({
  timeLeft: withDefault(HeaderName, "x-time-left-ms"),
  attempt: withDefault(HeaderName, "x-retry-attempt"),
  pushback: withDefault(HeaderName, "x-retry-pushback"),
  idempotencyKey: withDefault(HeaderName, "idempotency-key")
})

/**
 * Decoded header names (lower case).
 *
 * @since 0.1.0
 * @category models
 */
export type HeaderNames = typeof HeaderNames.Type

/**
 * Header names as given: any field left out keeps its default.
 *
 * @since 0.1.0
 * @category models
 */
export type HeaderNamesInput = Partial<HeaderNames>

/**
 * The default header names.
 *
 * @example
 * ```ts
 * import { Propagation } from "effect-resilience/http"
 * Propagation.defaultHeaders.timeLeft // "x-time-left-ms"
 * ```
 * @since 0.1.0
 * @category constants
 */
export const defaultHeaders: HeaderNames = Schema.decodeUnknownSync(HeaderNames)({})

/**
 * Decodes header names (defaults filled in, lower-cased); a bad name is a `PolicyError` at its path.
 *
 * @example
 * ```ts
 * import { Propagation } from "effect-resilience/http"
 * const names = Propagation.decodeHeaders({ attempt: "X-Attempt" }) // Result: attempt "x-attempt"
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const decodeHeaders = (input: HeaderNamesInput | undefined): Result.Result<HeaderNames, PolicyError> =>
  Result.map(decodeOptions(HeaderNames, input ?? {}), lowerCased)

/**
 * Decoded names in lower case, the form Effect's `Headers` keep them in.
 *
 * @internal
 */
export const lowerCased = (names: HeaderNames): HeaderNames => ({
  timeLeft: names.timeLeft.toLowerCase(),
  attempt: names.attempt.toLowerCase(),
  pushback: names.pushback.toLowerCase(),
  idempotencyKey: names.idempotencyKey.toLowerCase()
})

/**
 * What the server middleware learnt about the request being handled.
 *
 * @since 0.1.0
 * @category models
 */
export interface Incoming {
  /** The caller's attempt number (1 when the header is absent): above 1, this request is a retry. */
  readonly attempt: number
  /** The caller's deadline on this server's `Clock` (milliseconds), if it sent its time left. */
  readonly deadline: number | undefined
  /**
   * Set by `ResilientClient` when a call made for this request gave up after retrying (or was
   * pushed back): the middleware then tells this request's caller not to retry a failure.
   */
  gaveUp: boolean
}

/**
 * The request being handled, as the server middleware saw it; `undefined` outside a request.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Propagation } from "effect-resilience/http"
 * const isRetry = Effect.map(Propagation.CurrentIncoming, (incoming) => (incoming?.attempt ?? 1) > 1)
 * ```
 * @since 0.1.0
 * @category references
 */
export const CurrentIncoming: Context.Reference<Incoming | undefined> = Context.Reference<Incoming | undefined>(
  "effect-resilience/http/CurrentIncoming",
  { defaultValue: () => undefined }
)
