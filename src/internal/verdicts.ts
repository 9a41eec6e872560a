/**
 * Verdicts and the classifier behind `Failure`: `Transient` and `Permanent`, and the precedence that
 * turns any error value into one of them (own flags, HTTP statuses, codes, messages, causes).
 */
import { Cause, Duration, Effect } from "effect"
import { dual } from "effect/Function"
import { BreakerOpen, verdictKey } from "./breaker/errors.ts"
import {
  codeVerdict,
  httpStatusTable,
  messageCodeVerdict,
  permanentMessagePatterns,
  transientMessagePatterns,
  type Verdict,
  wrapperNames
} from "./errorCatalog.ts"
import { retryAfterFromHeaders, retryAfterOf } from "./hints.ts"
import { describe, get, isInstance, isObjectLike, MAX_TEXT, nested, prototypeOf, stringAt } from "./inspect.ts"
import type { Kind } from "./kind.ts"
import { failExit, TracelessError } from "./traceless.ts"

/**
 * A failure that may succeed if tried again. `retryAfter` carries a server's hint
 * (`Retry-After`, `retry-after-ms`), which retry schedules honour.
 */
export class Transient<out E> extends TracelessError("Transient")<{
  readonly error: E
  readonly kind: Kind
  readonly retryAfter: Duration.Duration | undefined
}> {}

/**
 * A failure that retrying cannot fix (bad input, missing credentials, not found, a bug).
 */
export class Permanent<out E> extends TracelessError("Permanent")<{
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
 */
export type Classified<E> = Transient<E> | Permanent<E>

/**
 * The error type after classification: errors that already are `Transient`/`Permanent` keep their
 * verdict, any other `E` may become either.
 */
export type ClassifiedError<E> = E extends Transient<infer X> ? Transient<X>
  : E extends Permanent<infer Y> ? Permanent<Y>
  : Transient<E> | Permanent<E>

/**
 * Options of `transient`.
 */
export interface TransientOptions {
  readonly kind?: Kind | undefined
  readonly retryAfter?: Duration.Input | undefined
}

/**
 * Marks an error as worth retrying.
 */
export const transient = <E>(error: E, options?: TransientOptions): Transient<E> =>
  new Transient({
    error,
    kind: options?.kind ?? "Unknown",
    retryAfter: options?.retryAfter === undefined ? undefined : Duration.fromInputUnsafe(options.retryAfter)
  })

/**
 * Options of `permanent`.
 */
export interface PermanentOptions {
  readonly kind?: Kind | undefined
}

/**
 * Marks an error as not worth retrying.
 */
export const permanent = <E>(error: E, options?: PermanentOptions): Permanent<E> =>
  new Permanent({ error, kind: options?.kind ?? "Unknown" })

/**
 * Is this value a `Transient`?
 */
export const isTransient = (u: unknown): u is Transient<unknown> => isVerdict(u, Transient.prototype, Permanent.prototype, Transient)

/**
 * Is this value a `Permanent`?
 */
export const isPermanent = (u: unknown): u is Permanent<unknown> => isVerdict(u, Permanent.prototype, Transient.prototype, Permanent)

/**
 * `instanceof` walks the whole prototype chain of every error that is not the class asked for, on
 * a path that sees many classes (several checks per failure): the exact prototype answers for the
 * verdicts themselves, the other verdict and plain objects, `instanceof` only for the rest.
 */
const isVerdict = (u: unknown, own: object, other: object, C: abstract new(...args: never) => unknown): boolean => {
  const proto = prototypeOf(u)
  if (proto === own) return true
  if (proto === other || proto === Object.prototype || proto === null || proto === undefined) return false
  return isInstance(u, C)
}

/**
 * Is this value either verdict?
 */
export const isClassified = (u: unknown): u is Classified<unknown> => isTransient(u) || isPermanent(u)

/**
 * Decides the verdict for an error. Return `undefined` to defer to the default classifier, so a
 * custom classifier only has to know the errors it cares about.
 */
export type Classifier<E> = (error: E) => Classified<E> | undefined

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
    // The breaker's own rejection, the hot failure path of an outage: the verdict step 1 gives it.
    // (An exact prototype check: `instanceof` is the dearer test where many classes pass by.)
    // A shared rejection carries its verdict, made once (`internal/breaker/circuit.ts`).
    const proto = prototypeOf(error)
    if (proto === BreakerOpen.prototype) {
      return ((error as { readonly [verdictKey]?: Permanent<E> })[verdictKey] ?? new Permanent({ error, kind: "CircuitOpen" })) as ClassifiedError<E>
    }
    // A verdict passes as it is; its exact prototype answers without asking for it again (a spent
    // budget classifies one per call of an outage), `isTransient`/`isPermanent` for subclasses.
    if (proto === Transient.prototype || proto === Permanent.prototype || isTransient(error) || isPermanent(error)) {
      return error as unknown as ClassifiedError<E>
    }
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
 */
export const defaultClassifier: <E>(error: E) => ClassifiedError<E> = makeClassifier()

/**
 * Combines a partial classifier with a fallback (the default classifier unless given).
 */
export const orElse = <E>(
  classifier: Classifier<E>,
  fallback: <X>(error: X) => ClassifiedError<X> = defaultClassifier
): (error: E) => ClassifiedError<E> =>
(error: E) => (classifier(error) as ClassifiedError<E> | undefined) ?? fallback(error)

/**
 * Classifies the typed errors of an effect into `Transient | Permanent`. Errors that already are
 * verdicts pass unchanged. Defects and interruptions are untouched.
 */
export const classify: {
  <E>(classifier?: Classifier<E>): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, ClassifiedError<E>, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, classifier?: Classifier<E>): Effect.Effect<A, ClassifiedError<E>, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(self: Effect.Effect<A, E, R>, classifier?: Classifier<E>): Effect.Effect<A, ClassifiedError<E>, R> => {
    const decide = resolveClassifier(classifier)
    // `Effect.mapError`, but a lone unannotated failure becomes its verdict's exit directly: a
    // shared rejection's verdict keeps one (`shared`), so an open circuit's classified rejection
    // allocates nothing here.
    return Effect.catchCause(self, (cause): Effect.Effect<never, ClassifiedError<E>> => {
      const reasons = cause.reasons
      if (reasons.length === 1) {
        const only = reasons[0]!
        if (only._tag === "Fail" && only.annotations.size === 0) return failExit(decide(only.error) as ClassifiedError<E>)
      }
      return Effect.failCause(Cause.map(cause, (error) => decide(error) as ClassifiedError<E>))
    })
  }
)

/**
 * Turns an optional partial classifier into a total one (internal helper shared with Retry).
 */
export const resolveClassifier = <E>(classifier: Classifier<E> | undefined): (error: E) => Classified<E> =>
  classifier === undefined
    ? defaultClassifier as (error: E) => Classified<E>
    : (error: E) => {
      if (isTransient(error) || isPermanent(error)) return error as unknown as Classified<E>
      return classifier(error) ?? defaultClassifier(error) as Classified<E>
    }
