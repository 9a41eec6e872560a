/**
 * Failure: the typed channel that keeps transient and permanent failures apart.
 *
 * Every error that reaches a resilience policy is classified once, at the edge, into
 * `Transient<E>` (worth trying again) or `Permanent<E>` (retrying cannot help). Everything
 * downstream (retry, breaker, dead letters, telemetry) reads only these two tags and their `kind`.
 *
 * @since 0.1.0
 */
import { Data, Duration, Effect, Option } from "effect"
import { dual } from "effect/Function"
import {
  cloudCodes,
  httpStatusTable,
  networkCodes,
  permanentMessagePatterns,
  sqlStates,
  transientMessagePatterns,
  type Verdict
} from "./internal/errorCatalog.ts"
import { type Kind as Kind_, kinds as kinds_ } from "./internal/kind.ts"

/**
 * What went wrong, in terms a retry or breaker decision can use.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const kind: Failure.Kind = "RateLimit"
 * ```
 * @since 0.1.0
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
 */
export const kinds: ReadonlyArray<Kind> = kinds_

/**
 * A short, human-readable description of any error value, for messages and logs.
 *
 * @internal
 */
export const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message === "" ? error.name : error.message
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message
    if (typeof message === "string" && message !== "") return message
    const tag = (error as { _tag?: unknown })._tag
    if (typeof tag === "string") return tag
    try {
      const json = JSON.stringify(error)
      if (json !== undefined) return json.length > 200 ? `${json.slice(0, 197)}...` : json
    } catch {
      // Cyclic or otherwise unserialisable: fall through to String().
    }
  }
  return String(error)
}

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
 */
export class Transient<out E> extends Data.TaggedError("Transient")<{
  readonly error: E
  readonly kind: Kind
  readonly retryAfter: Duration.Duration | undefined
}> {}

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
 */
export class Permanent<out E> extends Data.TaggedError("Permanent")<{
  readonly error: E
  readonly kind: Kind
}> {}

// A readable message without storing a copy: the wrapped error's own message, prefixed with the verdict.
for (const Class of [Transient, Permanent] as const) {
  Object.defineProperty(Class.prototype, "message", {
    get(this: Transient<unknown> | Permanent<unknown>) {
      return `${this._tag}(${this.kind}): ${describe(this.error)}`
    },
    configurable: true
  })
}

/**
 * Either verdict for an error of type `E`.
 *
 * @since 0.1.0
 */
export type Classified<E> = Transient<E> | Permanent<E>

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
 */
export type ClassifiedError<E> = E extends Transient<infer X> ? Transient<X>
  : E extends Permanent<infer Y> ? Permanent<Y>
  : Transient<E> | Permanent<E>

/**
 * Options of `transient`.
 *
 * @since 0.1.0
 */
export interface TransientOptions {
  readonly kind?: Kind | undefined
  readonly retryAfter?: Duration.Input | undefined
}

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
 */
export const transient = <E>(error: E, options?: TransientOptions): Transient<E> =>
  new Transient({
    error,
    kind: options?.kind ?? "Unknown",
    retryAfter: options?.retryAfter === undefined ? undefined : Duration.fromInputUnsafe(options.retryAfter)
  })

/**
 * Options of `permanent`.
 *
 * @since 0.1.0
 */
export interface PermanentOptions {
  readonly kind?: Kind | undefined
}

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
 */
export const permanent = <E>(error: E, options?: PermanentOptions): Permanent<E> =>
  new Permanent({ error, kind: options?.kind ?? "Unknown" })

/**
 * Is this value a `Transient`?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isTransient(Failure.transient(1)) // true
 * ```
 * @since 0.1.0
 */
export const isTransient = (u: unknown): u is Transient<unknown> => u instanceof Transient

/**
 * Is this value a `Permanent`?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isPermanent(Failure.permanent(1)) // true
 * ```
 * @since 0.1.0
 */
export const isPermanent = (u: unknown): u is Permanent<unknown> => u instanceof Permanent

/**
 * Is this value either verdict?
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.isClassified("nope") // false
 * ```
 * @since 0.1.0
 */
export const isClassified = (u: unknown): u is Classified<unknown> => isTransient(u) || isPermanent(u)

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
 */
export type Classifier<E> = (error: E) => Classified<E> | undefined

// ---------------------------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------------------------

/**
 * Parses an HTTP `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `nowMillis`. A date in the past gives zero;
 * anything unparseable gives `None`.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.parseRetryAfter("120", Date.now()) // Option.some(Duration.seconds(120))
 * ```
 * @since 0.1.0
 */
export const parseRetryAfter = (value: string | number, nowMillis: number): Option.Option<Duration.Duration> => {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Option.some(Duration.seconds(value)) : Option.none()
  }
  const trimmed = value.trim()
  if (trimmed === "") return Option.none()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Option.some(Duration.seconds(Number(trimmed)))
  // HTTP-dates always name a weekday or month; refusing bare numbers with signs avoids Date's leniency.
  if (!/[a-z]/i.test(trimmed)) return Option.none()
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, at - nowMillis)))
}

type HeaderSource = unknown

const readHeader = (headers: HeaderSource, name: string): string | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  const getter = (headers as { get?: unknown }).get
  if (typeof getter === "function") {
    const value: unknown = getter.call(headers, name)
    if (typeof value === "string") return value
    if (Option.isOption(value)) return Option.getOrUndefined(value as Option.Option<string>)
    return undefined
  }
  const record = headers as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) {
      const value = record[key]
      if (typeof value === "string") return value
      if (typeof value === "number") return String(value)
      if (Array.isArray(value) && typeof value[0] === "string") return value[0]
    }
  }
  return undefined
}

/**
 * Reads a retry hint from response headers: `retry-after-ms` (milliseconds, sent by some LLM
 * APIs), then `Retry-After` (seconds or an HTTP-date). Accepts a fetch `Headers`, Effect
 * `Headers`, or a plain record.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.retryAfterFromHeaders({ "retry-after": "3" }, Date.now()) // 3 seconds
 * ```
 * @since 0.1.0
 */
export const retryAfterFromHeaders = (headers: unknown, nowMillis: number): Duration.Duration | undefined => {
  const ms = readHeader(headers, "retry-after-ms")
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Duration.millis(Number(ms))
  const value = readHeader(headers, "retry-after")
  return value === undefined ? undefined : Option.getOrUndefined(parseRetryAfter(value, nowMillis))
}

// ---------------------------------------------------------------------------------------------
// Classifiers
// ---------------------------------------------------------------------------------------------

const fromVerdict = <E>(error: E, verdict: Verdict, retryAfter?: Duration.Duration): Classified<E> =>
  verdict.transient
    ? new Transient({ error, kind: verdict.kind, retryAfter })
    : new Permanent({ error, kind: verdict.kind })

const statusVerdict = (status: number): Verdict | undefined => {
  if (!Number.isInteger(status) || status < 100 || status > 599) return undefined
  const listed = httpStatusTable.get(status)
  if (listed !== undefined) return listed
  if (status >= 500) return { transient: true, kind: "Server" }
  if (status >= 400) return { transient: false, kind: "Client" }
  return undefined
}

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
 */
export const httpStatus = (
  status: number,
  headers?: unknown,
  nowMillis: number = Date.now()
): Classified<number> => {
  const verdict = statusVerdict(status) ?? { transient: false, kind: "Unknown" as const }
  const retryAfter = verdict.transient && headers !== undefined ? retryAfterFromHeaders(headers, nowMillis) : undefined
  return fromVerdict(status, verdict, retryAfter)
}

const field = (u: unknown, key: string): unknown =>
  typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined

const statusOf = (u: unknown): { readonly status: number; readonly headers: unknown } | undefined => {
  for (const candidate of [u, field(u, "response"), field(field(u, "reason"), "response")]) {
    for (const key of ["status", "statusCode", "httpStatusCode"]) {
      const value = field(candidate, key)
      const status = typeof value === "string" && /^\d{3}$/.test(value) ? Number(value) : value
      if (typeof status === "number" && status >= 100 && status <= 599) {
        return { status, headers: field(candidate, "headers") ?? field(u, "headers") }
      }
    }
  }
  const metadataStatus = field(field(u, "$metadata"), "httpStatusCode")
  if (typeof metadataStatus === "number") return { status: metadataStatus, headers: field(field(u, "$response"), "headers") }
  return undefined
}

const codeVerdict = (code: unknown): Verdict | undefined => {
  if (typeof code !== "string" || code === "") return undefined
  const exact = networkCodes.get(code) ?? cloudCodes.get(code) ?? sqlStates.get(code)
  if (exact !== undefined) return exact
  if (/^08[0-9A-Z]{3}$/.test(code)) return { transient: true, kind: "Network" } // SQLSTATE class 08
  if (code.startsWith("UND_ERR_")) return { transient: true, kind: "Network" }
  return undefined
}

const retryableFlag = (u: unknown): boolean | undefined => {
  for (const key of ["retryable", "retriable", "isRetryable", "$retryable"]) {
    const value = field(u, key)
    if (typeof value === "boolean") return value
    if (key === "$retryable" && typeof value === "object" && value !== null) return true
  }
  return undefined
}

const messageVerdict = (message: string): Verdict | undefined => {
  for (const { pattern, verdict } of permanentMessagePatterns) if (pattern.test(message)) return verdict
  for (const { pattern, verdict } of transientMessagePatterns) if (pattern.test(message)) return verdict
  return undefined
}

/**
 * Options of `makeClassifier`.
 *
 * @since 0.1.0
 */
export interface ClassifierOptions {
  /** The verdict for errors nothing recognises. Default `"Permanent"`: retry only what is known to be transient. */
  readonly unknown?: "Transient" | "Permanent" | undefined
  /** Extra message patterns that mean "transient", checked before the built-in lists. */
  readonly transientPatterns?: ReadonlyArray<RegExp> | undefined
  /** Extra message patterns that mean "permanent", checked before everything else but explicit verdicts. */
  readonly permanentPatterns?: ReadonlyArray<RegExp> | undefined
  /** The clock for HTTP-date `Retry-After` values. Default `Date.now`. */
  readonly now?: (() => number) | undefined
}

const MAX_CAUSE_DEPTH = 5

const isProgrammingError = (u: unknown): boolean =>
  u instanceof TypeError || u instanceof RangeError || u instanceof ReferenceError || u instanceof SyntaxError

/**
 * Builds a classifier from the catalogue of known errors, tuned by options.
 *
 * Order of evidence: explicit verdicts (`Transient`/`Permanent`), a rejection by an open
 * circuit, Effect's `TimeoutError`, a full bulkhead (transient `RateLimit`), HTTP status (`status`, `statusCode`, `response.status`,
 * `$metadata.httpStatusCode`), explicit `retryable`/`retriable` flags, Node/undici, cloud and
 * SQLSTATE codes (`code`, `name`, `errno`, `Code`), message patterns; each step also looks through
 * `cause` chains. Anything else gets the `unknown` verdict.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * const lenient = Failure.makeClassifier({ unknown: "Transient", transientPatterns: [/lock wait/i] })
 * lenient(new Error("lock wait timeout"))._tag // "Transient"
 * ```
 * @since 0.1.0
 */
export const makeClassifier = (options: ClassifierOptions = {}): <E>(error: E) => ClassifiedError<E> => {
  const unknownTransient = options.unknown === "Transient"
  const extraTransient = options.transientPatterns ?? []
  const extraPermanent = options.permanentPatterns ?? []
  const now = options.now ?? Date.now

  const inspect = (u: unknown, depth: number): { verdict: Verdict; retryAfter?: Duration.Duration } | undefined => {
    if (u === null || u === undefined || depth > MAX_CAUSE_DEPTH) return undefined
    if (isTransient(u)) return { verdict: { transient: true, kind: u.kind }, ...(u.retryAfter ? { retryAfter: u.retryAfter } : {}) }
    if (isPermanent(u)) return { verdict: { transient: false, kind: u.kind } }
    const tag = field(u, "_tag")
    if (tag === "BreakerOpen") return { verdict: { transient: false, kind: "CircuitOpen" } }
    if (tag === "CircuitBreakerError" || tag === "CircuitOpen" || tag === "CircuitHalfOpen") {
      return { verdict: { transient: false, kind: "CircuitOpen" } }
    }
    if (tag === "TimeoutError") return { verdict: { transient: true, kind: "Timeout" } }
    if (tag === "BulkheadFull") return { verdict: { transient: true, kind: "RateLimit" } }
    if (typeof u === "number") {
      const verdict = statusVerdict(u)
      return verdict && { verdict }
    }
    const status = statusOf(u)
    if (status !== undefined) {
      const verdict = statusVerdict(status.status)
      if (verdict !== undefined) {
        const retryAfter = verdict.transient ? retryAfterFromHeaders(status.headers, now()) : undefined
        return { verdict, ...(retryAfter ? { retryAfter } : {}) }
      }
    }
    const flag = retryableFlag(u)
    for (const key of ["code", "name", "Code", "errno", "sqlState", "sqlstate"]) {
      const verdict = codeVerdict(field(u, key))
      if (verdict !== undefined) return { verdict }
    }
    if (flag !== undefined) return { verdict: { transient: flag, kind: flag ? "Unknown" : "Client" } }
    const message = typeof u === "string" ? u : field(u, "message")
    if (typeof message === "string" && message !== "") {
      for (const pattern of extraPermanent) if (pattern.test(message)) return { verdict: { transient: false, kind: "Unknown" } }
      for (const pattern of extraTransient) if (pattern.test(message)) return { verdict: { transient: true, kind: "Unknown" } }
      const fromCause = inspect(field(u, "cause"), depth + 1)
      if (fromCause !== undefined) return fromCause
      const verdict = messageVerdict(message)
      if (verdict !== undefined) return { verdict }
      return undefined
    }
    return inspect(field(u, "cause"), depth + 1)
  }

  return <E>(error: E): ClassifiedError<E> => {
    if (isTransient(error) || isPermanent(error)) return error as unknown as ClassifiedError<E>
    const found = inspect(error, 0)
    if (found !== undefined) return fromVerdict(error, found.verdict, found.retryAfter) as ClassifiedError<E>
    // A TypeError, RangeError, ReferenceError or SyntaxError is a bug: retrying runs the bug again.
    return fromVerdict(error, { transient: unknownTransient && !isProgrammingError(error), kind: "Unknown" }) as ClassifiedError<E>
  }
}

/**
 * The default classifier: the HTTP table, Node/undici network codes, cloud-provider codes,
 * SQLSTATEs and message patterns of the seeds. Unknown errors are `Permanent`.
 *
 * @example
 * ```ts
 * import { Failure } from "effect-resilience"
 * Failure.defaultClassifier({ code: "ECONNRESET" })._tag // "Transient"
 * Failure.defaultClassifier({ status: 404 })._tag        // "Permanent"
 * ```
 * @since 0.1.0
 */
export const defaultClassifier: <E>(error: E) => ClassifiedError<E> = makeClassifier()

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
 */
export const orElse = <E>(
  classifier: Classifier<E>,
  fallback: <X>(error: X) => ClassifiedError<X> = defaultClassifier
): (error: E) => ClassifiedError<E> =>
(error: E) => (classifier(error) as ClassifiedError<E> | undefined) ?? fallback(error)

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
 */
export const classify: {
  <E>(classifier?: Classifier<E>): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, ClassifiedError<E>, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, classifier?: Classifier<E>): Effect.Effect<A, ClassifiedError<E>, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, classifier?: Classifier<E>): Effect.Effect<A, ClassifiedError<E>, R> => {
    const decide = resolveClassifier(classifier)
    return Effect.mapError(self, (error) => decide(error) as ClassifiedError<E>)
  }
)

/**
 * Turns an optional partial classifier into a total one (internal helper shared with Retry).
 *
 * @internal
 */
export const resolveClassifier = <E>(classifier: Classifier<E> | undefined): (error: E) => Classified<E> =>
  classifier === undefined
    ? defaultClassifier as (error: E) => Classified<E>
    : (error: E) => {
      if (isTransient(error) || isPermanent(error)) return error as unknown as Classified<E>
      return classifier(error) ?? defaultClassifier(error) as Classified<E>
    }
