/**
 * The pure rules of `effect-resilience/http`: which requests may be sent again, whether a failed
 * request ever left the process, and how the hop headers (time left, attempt, pushback) are read.
 */
import { notSentCodes } from "../errorCatalog.ts"
import { get, nested } from "../inspect.ts"

/** Methods whose repetition has the effect of one call (RFC 9110 §9.2.2). */
export const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

const MAX_DEPTH = 6

/**
 * Did this failure happen before the request was sent (a refused or unresolvable connection)? Only
 * a transport failure with a connect-level code anywhere in its causes counts: an error after the
 * connection was made (a reset, a timeout) may have reached the server.
 */
export const failedBeforeSending = (error: unknown): boolean => {
  const reason = get(error, "reason")
  if (get(reason, "_tag") !== "TransportError") return false
  const walk = (u: unknown, depth: number): boolean => {
    if (depth > MAX_DEPTH || u === null || typeof u !== "object") return false
    const code = get(u, "code")
    if (typeof code === "string" && notSentCodes.has(code)) return true
    for (const inner of nested(u)) if (walk(inner, depth + 1)) return true
    return false
  }
  return walk(get(reason, "cause"), 0)
}

const INTEGER = /^-?\d{1,15}$/

/** A header's integer value (a time left, an attempt number), `undefined` when absent or malformed. */
export const integerHeader = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  return INTEGER.test(trimmed) ? Number(trimmed) : undefined
}

/**
 * A pushback header: a non-negative number of milliseconds is a hint (retry no sooner); any other
 * value (`"stop"`, a negative number) says "do not retry". Absent: `undefined`.
 */
export const readPushback = (value: string | undefined): { readonly stop: true } | { readonly stop: false; readonly millis: number } | undefined => {
  if (value === undefined) return undefined
  const millis = integerHeader(value)
  return millis === undefined || millis < 0 ? { stop: true } : { stop: false, millis }
}

/** The key of a request's circuit: its URL's host (with port), or the URL when it does not parse. */
export const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
