/**
 * Server retry hints: where they are read from errors, headers and schedule inputs. Never throws.
 */
import { Duration, Option } from "effect"
import { callSafe, get, isInstance, isObjectLike, keysOf } from "./inspect.ts"

/** The hint a schedule input carries (a `Transient` failure's `retryAfter`), if any. */
export const hintOf = (input: unknown): Duration.Duration | undefined => {
  if (typeof input !== "object" || input === null) return undefined
  const hint = (input as { readonly retryAfter?: unknown }).retryAfter
  return Duration.isDuration(hint) ? hint : undefined
}

// ---------------------------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------------------------

const DELTA_SECONDS = /^\d+(\.\d+)?$/

/**
 * Parses an HTTP `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
 * (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `nowMillis`. A date in the past gives zero;
 * anything unparseable (negative, `NaN`, too large to be finite) gives `None`.
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
 * values), undici's raw `[name, value, name, value, …]` arrays (strings or bytes) and entry lists. `name`
 * is lower-case. Never throws.
 */
export const readHeader = (headers: unknown, name: string): string | undefined => {
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
 */
export const retryAfterOf = (error: unknown, nowMillis: number = Date.now()): Duration.Duration | undefined => {
  for (const headers of headerSources(error)) {
    if (headers === undefined) continue
    const hint = retryAfterFromHeaders(headers, nowMillis)
    if (hint !== undefined) return hint
  }
  return undefined
}

