/**
 * Failure: the typed channel that keeps transient and permanent failures apart.
 *
 * Every error that reaches a resilience policy is classified once, at the edge, into
 * `Transient<E>` (worth trying again) or `Permanent<E>` (retrying cannot help). Everything
 * downstream (retry, breaker, dead letters, telemetry) reads only these two tags and their `kind`.
 *
 * @since 0.1.0
 */
import { kinds as kinds_, type Kind as Kind_ } from "./internal/kind.ts"
import * as hints from "./internal/hints.ts"
import * as verdicts from "./internal/verdicts.ts"

/**
 * What went wrong, in terms a retry or breaker decision can use.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const kind: Failure.Kind = "RateLimit"
 * ```
 * @since 0.1.0
 * @category models
 */
export type Kind = Kind_

/**
 * Every `Kind`, in a stable order (useful for schemas, metrics and docs).
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.kinds.includes("Timeout") // true
 * ```
 * @since 0.1.0
 * @category utils
 */
export const kinds: ReadonlyArray<Kind> = kinds_

/**
 * A failure that may succeed if tried again. `retryAfter` carries a server's hint
 * (`Retry-After`, `retry-after-ms`), which retry schedules honour.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const failure = new Failure.Transient({ error: "ECONNRESET", kind: "Network", retryAfter: undefined })
 * failure._tag // "Transient"
 * ```
 * @since 0.1.0
 * @category models
 */
export const Transient: typeof verdicts.Transient = verdicts.Transient

/**
 * The type of a `Transient` failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Transient<E> = verdicts.Transient<E>

/**
 * A failure that retrying cannot fix (bad input, missing credentials, not found, a bug).
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const failure = new Failure.Permanent({ error: "bad request", kind: "Validation" })
 * failure.kind // "Validation"
 * ```
 * @since 0.1.0
 * @category models
 */
export const Permanent: typeof verdicts.Permanent = verdicts.Permanent

/**
 * The type of a `Permanent` failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Permanent<E> = verdicts.Permanent<E>

/**
 * Either verdict for an error of type `E`.
 *
 * @since 0.1.0
 * @category models
 */
export type Classified<E> = verdicts.Classified<E>

/**
 * The error type after classification: errors that already are `Transient`/`Permanent` keep their
 * verdict, any other `E` may become either.
 *
 * @example
 * ```ts
 * import type { Failure } from "effect-resilience"
 * type T = Failure.ClassifiedError<Failure.Transient<"a"> | "b">
 * // Failure.Transient<"a"> | Failure.Transient<"b"> | Failure.Permanent<"b">
 * ```
 * @since 0.1.0
 * @category models
 */
export type ClassifiedError<E> = verdicts.ClassifiedError<E>

/**
 * Options of `transient`.
 *
 * @since 0.1.0
 * @category models
 */
export type TransientOptions = verdicts.TransientOptions

/**
 * Marks an error as worth retrying.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure } from "effect-resilience"
 * const call = Effect.fail(Failure.transient("busy", { kind: "RateLimit", retryAfter: "2 seconds" }))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const transient: typeof verdicts.transient = verdicts.transient

/**
 * Options of `permanent`.
 *
 * @since 0.1.0
 * @category models
 */
export type PermanentOptions = verdicts.PermanentOptions

/**
 * Marks an error as not worth retrying.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure } from "effect-resilience"
 * const call = Effect.fail(Failure.permanent("invalid api key", { kind: "Auth" }))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const permanent: typeof verdicts.permanent = verdicts.permanent

/**
 * Is this value a `Transient`?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isTransient(Failure.transient(1)) // true
 * ```
 * @since 0.1.0
 * @category guards
 */
export const isTransient: typeof verdicts.isTransient = verdicts.isTransient

/**
 * Is this value a `Permanent`?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isPermanent(Failure.permanent(1)) // true
 * ```
 * @since 0.1.0
 * @category guards
 */
export const isPermanent: typeof verdicts.isPermanent = verdicts.isPermanent

/**
 * Is this value either verdict?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isClassified("nope") // false
 * ```
 * @since 0.1.0
 * @category guards
 */
export const isClassified: typeof verdicts.isClassified = verdicts.isClassified

/**
 * Decides the verdict for an error. Return `undefined` to defer to the default classifier, so a
 * custom classifier only has to know the errors it cares about.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const kafka: Failure.Classifier<{ readonly retriable: boolean }> = (e) =>
 *   e.retriable ? Failure.transient(e, { kind: "Server" }) : undefined
 * ```
 * @since 0.1.0
 * @category models
 */
export type Classifier<E> = verdicts.Classifier<E>

/**
 * Parses an HTTP `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `nowMillis`. A date in the past gives zero;
 * anything unparseable (negative, `NaN`, too large to be finite) gives `None`.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.parseRetryAfter("120", Date.now()) // Option.some(Duration.seconds(120))
 * ```
 * @since 0.1.0
 * @category utils
 */
export const parseRetryAfter: typeof hints.parseRetryAfter = hints.parseRetryAfter

/**
 * Reads a retry hint from response headers: `retry-after-ms` (milliseconds, sent by some LLM
 * APIs), then `Retry-After` (seconds or an HTTP-date). Accepts a fetch or undici `Headers`,
 * axios' `AxiosHeaders`, Effect `Headers`, a `Map`, a plain record, or undici's raw header
 * arrays. Negative, `NaN` and past values give `undefined`.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.retryAfterFromHeaders({ "retry-after": "3" }, Date.now()) // 3 seconds
 * ```
 * @since 0.1.0
 * @category utils
 */
export const retryAfterFromHeaders: typeof hints.retryAfterFromHeaders = hints.retryAfterFromHeaders

/**
 * The retry hint carried by a failed call's response, wherever its client keeps the headers (the
 * error itself, `response.headers`, `$response.headers`, a fetch `Response`, Effect's
 * `HttpClientError`), or `undefined`. Never throws.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const axiosError = { response: { status: 429, headers: { "retry-after": "2" } } }
 * Failure.retryAfterOf(axiosError, Date.now()) // 2 seconds
 * ```
 * @since 0.1.0
 * @category getters
 */
export const retryAfterOf: typeof hints.retryAfterOf = hints.retryAfterOf

/**
 * Classifies an HTTP status: 408, 429, 500, 502, 503, 504 (and other 5xx but 501, 505, 511) are
 * transient; 4xx are permanent. `Retry-After` headers are read for any transient status.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const verdict = Failure.httpStatus(429, { "retry-after": "2" })
 * verdict._tag // "Transient", kind "RateLimit", retryAfter 2 seconds
 * ```
 * @since 0.1.0
 * @category utils
 */
export const httpStatus: typeof verdicts.httpStatus = verdicts.httpStatus

/**
 * Options of `makeClassifier`.
 *
 * @since 0.1.0
 * @category models
 */
export type ClassifierOptions = verdicts.ClassifierOptions

/**
 * Builds a classifier from the catalogue of known errors, tuned by options.
 *
 * Precedence, the same for every shape (an error, its wrapper, a `cause`):
 * 1. explicit verdicts (`Transient`/`Permanent`, your `permanentPatterns`/`transientPatterns`,
 *    the library's own `BreakerOpen`, `BulkheadFull` and Effect's `TimeoutError`);
 * 2. the most specific signal: a code or name (`code`, `Code`, `__type`, `name`, `type`,
 *    SQLSTATE, `errno`) from one table; known wrappers (`KafkaJSNumberOfRetriesExceeded`,
 *    `AggregateError`) are looked through first;
 * 3. explicit `retryable`/`retriable`/`isRetryable`/`$retryable` flags;
 * 4. an HTTP status (`status`, `statusCode`, `response.status`, `$metadata.httpStatusCode`);
 * 5. the wrapped failure (`cause`, `originalError`, `reason`, `errors`), by the same steps;
 * 6. message patterns, including codes written in the message;
 * 7. the `unknown` verdict.
 *
 * A transient verdict carries the server's `Retry-After` / `retry-after-ms` hint from wherever the
 * client keeps the response headers. The classifier never throws, whatever the value.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const lenient = Failure.makeClassifier({ unknown: "Transient", transientPatterns: [/lock wait/i] })
 * lenient(new Error("lock wait timeout"))._tag // "Transient"
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const makeClassifier: typeof verdicts.makeClassifier = verdicts.makeClassifier

/**
 * The default classifier: `makeClassifier()` with the catalogue of HTTP statuses, Node/undici,
 * cloud-provider, LLM-API, kafkajs and SQLSTATE codes and message patterns, in the documented
 * precedence. Unknown errors are `Permanent`.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.defaultClassifier({ code: "ECONNRESET" })._tag // "Transient"
 * Failure.defaultClassifier({ status: 404 })._tag        // "Permanent"
 * ```
 * @since 0.1.0
 * @category presets
 */
export const defaultClassifier: typeof verdicts.defaultClassifier = verdicts.defaultClassifier

/**
 * Combines a partial classifier with a fallback (the default classifier unless given).
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const classify = Failure.orElse((e: unknown) => e === "busy" ? Failure.transient(e) : undefined)
 * classify("busy")._tag // "Transient"
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const orElse: typeof verdicts.orElse = verdicts.orElse

/**
 * Classifies the typed errors of an effect into `Transient | Permanent`. Errors that already are
 * verdicts pass unchanged. Defects and interruptions are untouched.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Failure } from "effect-resilience"
 * const classified = Effect.fail({ status: 503 }).pipe(Failure.classify())
 * // Effect<never, Failure.Transient<{ status: number }> | Failure.Permanent<{ status: number }>>
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const classify: typeof verdicts.classify = verdicts.classify
