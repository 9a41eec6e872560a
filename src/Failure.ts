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
  codeVerdict,
  httpStatusTable,
  messageCodeVerdict,
  permanentMessagePatterns,
  transientMessagePatterns,
  type Verdict,
  wrapperNames
} from "./internal/errorCatalog.ts"
import {
  callSafe,
  describe as describeSafely,
  get,
  isInstance,
  isObjectLike,
  keysOf,
  MAX_TEXT,
  nested,
  stringAt
} from "./internal/inspect.ts"
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
 * A short, human-readable description of any error value, for messages and logs. Never throws.
 *
 * @internal
 */
export const describe = (error: unknown): string => describeSafely(error)

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
export const isTransient = (u: unknown): u is Transient<unknown> => isInstance(u, Transient)

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
export const isPermanent = (u: unknown): u is Permanent<unknown> => isInstance(u, Permanent)

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

const DELTA_SECONDS = /^\d+(\.\d+)?$/

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
 */
export const parseRetryAfter = (value: string | number, nowMillis: number): Option.Option<Duration.Duration> => {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Option.some(Duration.seconds(value)) : Option.none()
  }
  if (typeof value !== "string") return Option.none()
  const trimmed = value.trim()
  if (trimmed === "" || trimmed.length > 64) return Option.none()
  if (DELTA_SECONDS.test(trimmed)) {
    const seconds = Number(trimmed)
    return Number.isFinite(seconds) ? Option.some(Duration.seconds(seconds)) : Option.none()
  }
  // HTTP-dates always name a weekday or month; refusing bare numbers with signs avoids Date's leniency.
  if (!/[a-z]/i.test(trimmed)) return Option.none()
  const at = Date.parse(trimmed)
  if (Number.isNaN(at) || !Number.isFinite(nowMillis)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, at - nowMillis)))
}

const decoder = new TextDecoder()

/** One header value as text: strings, numbers, the first of several, or undici's raw bytes. */
const headerText = (value: unknown): string | undefined => {
  if (typeof value === "string") return value.slice(0, 256)
  if (typeof value === "number") return String(value)
  if (Option.isOption(value)) return headerText(Option.getOrUndefined(value as Option.Option<unknown>))
  if (isInstance(value, Uint8Array)) {
    try {
      return decoder.decode((value as Uint8Array).subarray(0, 256))
    } catch {
      return undefined
    }
  }
  if (Array.isArray(value)) return headerText(get(value, 0))
  return undefined
}

const MAX_HEADERS = 256

/**
 * One header from any of the shapes clients use: fetch/undici `Headers` and axios' `AxiosHeaders`
 * (a `get` method), a `Map`, Node's and the AWS SDK's plain records (any case, string or array
 * values), undici's raw `[name, value, name, value, …]` arrays (strings or bytes) and entry lists.
 */
const readHeader = (headers: unknown, name: string): string | undefined => {
  if (!isObjectLike(headers)) return undefined
  if (Array.isArray(headers)) {
    const length = Math.min(Number(get(headers, "length")) || 0, MAX_HEADERS * 2)
    const first = get(headers, 0)
    if (Array.isArray(first)) {
      for (let i = 0; i < length; i++) {
        const entry = get(headers, i)
        if (headerText(get(entry, 0))?.toLowerCase() === name) return headerText(get(entry, 1))
      }
      return undefined
    }
    for (let i = 0; i + 1 < length; i += 2) {
      if (headerText(get(headers, i))?.toLowerCase() === name) return headerText(get(headers, i + 1))
    }
    return undefined
  }
  const getter = get(headers, "get")
  if (typeof getter === "function") {
    const value = headerText(callSafe(getter, headers, name))
    if (value !== undefined) return value
  }
  for (const key of keysOf(headers, MAX_HEADERS)) {
    if (key.toLowerCase() === name) return headerText(get(headers, key))
  }
  return undefined
}

/**
 * A server's hint from header text, or `undefined`: negative, `NaN`, infinite values and dates
 * that have already passed are no hint at all.
 */
const hintFrom = (
  ms: string | undefined,
  retryAfter: string | undefined,
  nowMillis: number
): Duration.Duration | undefined => {
  if (ms !== undefined) {
    const trimmed = ms.trim()
    const millis = DELTA_SECONDS.test(trimmed) ? Number(trimmed) : Number.NaN
    if (Number.isFinite(millis)) return Duration.millis(millis)
  }
  if (retryAfter === undefined) return undefined
  const trimmed = retryAfter.trim()
  const parsed = Option.getOrUndefined(parseRetryAfter(trimmed, nowMillis))
  if (parsed === undefined) return undefined
  // A date in the past asks for nothing; "0" seconds is a real (if empty) answer.
  return !DELTA_SECONDS.test(trimmed) && Duration.toMillis(parsed) === 0 ? undefined : parsed
}

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
 */
export const retryAfterFromHeaders = (headers: unknown, nowMillis: number): Duration.Duration | undefined =>
  hintFrom(readHeader(headers, "retry-after-ms"), readHeader(headers, "retry-after"), nowMillis)

/**
 * Where clients keep the response headers of a failed call: on the error (`headers`: the OpenAI
 * and Anthropic SDKs, undici, a thrown fetch `Response`), on `response` (axios, Effect's
 * `HttpClientError`), on `$response` (AWS SDK v3), or on Effect's `reason.response`.
 */
const headerSources = (u: unknown): ReadonlyArray<unknown> => [
  get(u, "headers"),
  get(get(u, "response"), "headers"),
  get(get(u, "$response"), "headers"),
  get(get(get(u, "reason"), "response"), "headers")
]

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
 */
export const retryAfterOf = (error: unknown, nowMillis: number = Date.now()): Duration.Duration | undefined => {
  for (const headers of headerSources(error)) {
    if (headers === undefined) continue
    const hint = retryAfterFromHeaders(headers, nowMillis)
    if (hint !== undefined) return hint
  }
  return undefined
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

const statusKeys = ["status", "statusCode", "httpStatusCode"] as const

/** An HTTP status on the error, its `response`, AWS's `$metadata`/`$response`, or Effect's `reason.response`. */
const statusOf = (u: unknown): number | undefined => {
  for (const candidate of [u, get(u, "response"), get(u, "$metadata"), get(u, "$response"), get(get(u, "reason"), "response")]) {
    if (!isObjectLike(candidate)) continue
    for (const key of statusKeys) {
      const value = get(candidate, key)
      const status = typeof value === "string" && /^\d{3}$/.test(value) ? Number(value) : value
      if (typeof status === "number" && Number.isInteger(status) && status >= 100 && status <= 599) return status
    }
  }
  return undefined
}

/**
 * The fields that name what went wrong, most specific first: Node/undici/SQLSTATE/axios `code`,
 * AWS's `Code` and `__type`, the error's `name` (AWS SDK v3, kafkajs, the LLM SDKs) or its class
 * name, a `type` (kafkajs protocol errors, OpenAI, Anthropic), SQLSTATE fields and a string `errno`.
 */
const codeKeys = ["code", "Code", "__type", "name", "constructor", "type", "sqlState", "sqlstate", "errno"] as const

const TIMED_OUT = /time(d)? ?out/i

/**
 * A network code whose message says the operation timed out is a timeout: axios reports its
 * timeouts as `ECONNABORTED` ("timeout of 1000ms exceeded"), kafkajs as a connection error
 * ("Connection timeout").
 */
const refine = (verdict: Verdict, u: unknown): Verdict => {
  if (verdict.kind !== "Network") return verdict
  const message = stringAt(u, "message")
  return message !== undefined && TIMED_OUT.test(message) ? { transient: verdict.transient, kind: "Timeout" } : verdict
}

const retryableFlag = (u: unknown): boolean | undefined => {
  for (const key of ["retryable", "retriable", "isRetryable", "$retryable"]) {
    const value = get(u, key)
    if (typeof value === "boolean") return value
    if (key === "$retryable" && isObjectLike(value)) return true
  }
  return undefined
}

const messageVerdict = (message: string): Verdict | undefined => {
  for (const { pattern, verdict } of permanentMessagePatterns) if (pattern.test(message)) return verdict
  const fromCode = messageCodeVerdict(message)
  if (fromCode !== undefined) return fromCode
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
  /** Extra message patterns that mean "transient": your word, checked right after explicit verdicts. */
  readonly transientPatterns?: ReadonlyArray<RegExp> | undefined
  /** Extra message patterns that mean "permanent", checked before everything else but explicit verdicts. */
  readonly permanentPatterns?: ReadonlyArray<RegExp> | undefined
  /** The clock for HTTP-date `Retry-After` values. Default `Date.now`. */
  readonly now?: (() => number) | undefined
}

/** How deep the classifier follows `cause` chains and wrappers, and how many values it looks at in all. */
const MAX_CAUSE_DEPTH = 5
const MAX_VISITED = 32

const isProgrammingError = (u: unknown): boolean =>
  isInstance(u, TypeError) || isInstance(u, RangeError) || isInstance(u, ReferenceError) || isInstance(u, SyntaxError)

interface Found {
  readonly verdict: Verdict
  readonly retryAfter?: Duration.Duration | undefined
  /** The value that carried the signal: its response headers are read for a hint. */
  readonly at: unknown
}

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
 */
export const makeClassifier = (options: ClassifierOptions = {}): <E>(error: E) => ClassifiedError<E> => {
  const unknownTransient = options.unknown === "Transient"
  const extraTransient = options.transientPatterns ?? []
  const extraPermanent = options.permanentPatterns ?? []
  const now = options.now ?? Date.now

  const explicit = (u: unknown): Found | undefined => {
    if (isTransient(u)) return { verdict: { transient: true, kind: u.kind }, retryAfter: u.retryAfter, at: undefined }
    if (isPermanent(u)) return { verdict: { transient: false, kind: u.kind }, at: undefined }
    const tag = get(u, "_tag")
    if (tag === "BreakerOpen" || tag === "CircuitBreakerError" || tag === "CircuitOpen" || tag === "CircuitHalfOpen") {
      return { verdict: { transient: false, kind: "CircuitOpen" }, at: u }
    }
    if (tag === "TimeoutError") return { verdict: { transient: true, kind: "Timeout" }, at: u }
    if (tag === "BulkheadFull") return { verdict: { transient: true, kind: "RateLimit" }, at: u }
    const message = typeof u === "string" ? u.slice(0, MAX_TEXT) : stringAt(u, "message")
    if (message !== undefined) {
      for (const pattern of extraPermanent) if (pattern.test(message)) return { verdict: { transient: false, kind: "Unknown" }, at: u }
      for (const pattern of extraTransient) if (pattern.test(message)) return { verdict: { transient: true, kind: "Unknown" }, at: u }
    }
    return undefined
  }

  const analyse = (u: unknown, depth: number, seen: Set<unknown>): Found | undefined => {
    if (u === null || u === undefined || depth > MAX_CAUSE_DEPTH || seen.size >= MAX_VISITED) return undefined
    if (typeof u === "number") {
      const verdict = statusVerdict(u)
      return verdict && { verdict, at: undefined }
    }
    if (isObjectLike(u)) {
      if (seen.has(u)) return undefined
      seen.add(u)
    }
    const stated = explicit(u)
    if (stated !== undefined) return stated
    const inner = nested(u)
    const name = get(u, "name")
    if (typeof name === "string" && wrapperNames.has(name)) {
      for (const value of inner) {
        const found = analyse(value, depth + 1, seen)
        if (found !== undefined) return found
      }
    }
    for (const key of codeKeys) {
      // The class name stands in for a `name` the library never set (the OpenAI SDK's errors are all "Error").
      const value = key === "constructor" ? get(get(u, "constructor"), "name") : get(u, key)
      const verdict = codeVerdict(value)
      if (verdict !== undefined) return { verdict: refine(verdict, u), at: u }
    }
    const flag = retryableFlag(u)
    const status = statusOf(u)
    const byStatus = status === undefined ? undefined : statusVerdict(status)
    if (flag !== undefined) {
      return { verdict: { transient: flag, kind: byStatus?.kind ?? (flag ? "Unknown" : "Client") }, at: u }
    }
    if (byStatus !== undefined) return { verdict: byStatus, at: u }
    for (const value of inner) {
      const found = analyse(value, depth + 1, seen)
      if (found !== undefined) return found
    }
    const message = typeof u === "string" ? u.slice(0, MAX_TEXT) : stringAt(u, "message")
    const verdict = message === undefined ? undefined : messageVerdict(message)
    return verdict && { verdict, at: u }
  }

  const decide = <E>(error: E): Classified<E> => {
    const found = analyse(error, 0, new Set())
    if (found === undefined) {
      // A TypeError, RangeError, ReferenceError or SyntaxError is a bug: retrying runs the bug again.
      return fromVerdict(error, { transient: unknownTransient && !isProgrammingError(error), kind: "Unknown" })
    }
    if (!found.verdict.transient) return fromVerdict(error, found.verdict)
    const nowMillis = now()
    const retryAfter = found.retryAfter ?? (found.at === undefined ? undefined : retryAfterOf(found.at, nowMillis)) ??
      (found.at === error ? undefined : retryAfterOf(error, nowMillis))
    return fromVerdict(error, found.verdict, retryAfter)
  }

  return <E>(error: E): ClassifiedError<E> => {
    if (isTransient(error) || isPermanent(error)) return error as unknown as ClassifiedError<E>
    try {
      return decide(error) as ClassifiedError<E>
    } catch {
      // Only a user's `now` or pattern can still throw here; the value itself is read safely.
      return fromVerdict(error, { transient: false, kind: "Unknown" }) as ClassifiedError<E>
    }
  }
}

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
