/**
 * What the guards need to know about any error: its `Kind` (for fallbacks and dead letters) and a
 * plain, serialisable description of it (for dead letters). Pure.
 *
 * @internal
 */
import { describe } from "./inspect.ts"
import { defaultClassifier, isClassified } from "./verdicts.ts"
import { get, stringAt as stringField } from "./inspect.ts"
import type { Kind } from "./kind.ts"

/**
 * The kind of a failure: a verdict's own `kind`, the last failure's kind for `RetriesExhausted`,
 * else what `Failure.defaultClassifier` says (`BreakerOpen` → `CircuitOpen`, `BulkheadFull` →
 * `RateLimit`, HTTP statuses, network codes, …).
 */
export const kindOf = (error: unknown): Kind => {
  if (isClassified(error)) return error.kind
  if (stringField(error, "_tag") === "RetriesExhausted") {
    const last = get(error, "last")
    if (isClassified(last)) return last.kind
  }
  return defaultClassifier(error).kind
}

/** A plain description of an error: never the raw object (it may hold secrets, sockets or cycles). */
export interface EncodedError {
  readonly _tag?: string
  readonly message: string
  readonly kind?: Kind
  readonly name?: string
}

/** The innermost error a verdict or `RetriesExhausted` wraps. */
const root = (error: unknown): unknown => {
  let current = error
  for (let i = 0; i < 4; i++) {
    if (isClassified(current)) current = current.error
    else if (stringField(current, "_tag") === "RetriesExhausted") current = get(current, "last")
    else break
  }
  return current
}

/**
 * Encodes an error: the outer `_tag` (e.g. `"RetriesExhausted"`), its message, its kind, and the
 * `name` (or `_tag`) of the innermost error it wraps, when that has one.
 */
export const encodeError = (error: unknown): EncodedError => {
  const tag = stringField(error, "_tag")
  const inner = root(error)
  const name = stringField(inner, "_tag") ?? stringField(inner, "name")
  return {
    ...(tag === undefined ? {} : { _tag: tag }),
    message: describe(error),
    kind: kindOf(error),
    ...(name === undefined ? {} : { name })
  }
}
