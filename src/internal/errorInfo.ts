/**
 * What the guards need to know about any error: its `Kind` (for fallbacks and dead letters) and a
 * plain, serialisable description of it (for dead letters). Pure.
 *
 * @internal
 */
import { Schema } from "effect"
import { describe } from "./inspect.ts"
import { defaultClassifier, isClassified } from "./verdicts.ts"
import { get, stringAt as stringField } from "./inspect.ts"
import { type Kind, kinds } from "./kind.ts"

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

/**
 * An error as a dead letter stores it: the outer `_tag`, its message, its `Kind`, and the name or
 * `_tag` of the innermost error it wraps (public as `DeadLetter.EncodedError`).
 */
export const EncodedError = Schema.Struct({
  _tag: Schema.optionalKey(Schema.String),
  message: Schema.String,
  kind: Schema.optionalKey(Schema.Literals(kinds)),
  name: Schema.optionalKey(Schema.String)
})

/** A plain description of an error: never the raw object (it may hold secrets, sockets or cycles). */
export type EncodedError = typeof EncodedError.Type

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
