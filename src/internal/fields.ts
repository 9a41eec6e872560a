/**
 * The field schemas every guard's options are built from: delays (Effect's forms, short forms
 * such as `"1.5s"` and `"2m30s"`, bare numbers as milliseconds), ratios and bounded integers.
 * Bounds are part of the schema, so a value that would decode but not run (a window of 10^12
 * calls, a billion retries) is rejected with the bound in the message.
 *
 * @internal
 */
import { Duration, Effect, Option, Schema, SchemaTransformation } from "effect"

/** What a delay may be written as, in code or data. */
export type DelayInput = Duration.Input | string

const effectForm = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)$/i
const shortPart = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)/gy
const shortUnitMillis: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/** `"1.5s"`, `"2m30s"`, `"500ms"`, `"1h"` in milliseconds, or undefined. */
const parseShort = (text: string): number | undefined => {
  shortPart.lastIndex = 0
  let total = 0
  let matched = 0
  let match: RegExpExecArray | null
  while ((match = shortPart.exec(text)) !== null) {
    total += Number(match[1]) * shortUnitMillis[match[2]!]!
    matched = shortPart.lastIndex
  }
  return matched === text.length && matched > 0 ? total : undefined
}

/**
 * Any delay input as a `Duration`, or undefined when it is not one (never throws). Numbers are
 * milliseconds; strings carry a unit: Effect's `"<n> <unit>"` or the short forms (`"1.5s"`). A
 * unit-less string is rejected: in a text file it is too easy to mean seconds.
 */
export const toDuration = (input: unknown): Duration.Duration | undefined => {
  try {
    if (typeof input === "number") return Number.isFinite(input) ? Duration.millis(input) : undefined
    if (typeof input === "string") {
      const text = input.trim()
      if (text === "") return undefined
      if (effectForm.test(text)) return Option.getOrUndefined(Duration.fromInput(text.toLowerCase() as Duration.Input))
      const short = parseShort(text)
      return short === undefined ? undefined : Duration.millis(short)
    }
    if (input === null || input === undefined || typeof input === "boolean") return undefined
    return Option.getOrUndefined(Duration.fromInput(input as Duration.Input))
  } catch {
    return undefined
  }
}

/** Milliseconds of any delay input, or undefined (never throws). */
export const toMillis = (input: unknown): number | undefined => {
  const d = toDuration(input)
  return d === undefined ? undefined : Duration.toMillis(d)
}

// Validation is a check on the raw value and the conversion a total function: Effect runs every
// check of every field with `errors: "all"`, but skips effectful transformations after a failure.
const delaySchema = (expected: string, accept: (millis: number) => boolean) =>
  Schema.Unknown.check(Schema.makeFilter((input: unknown) => {
    const d = toDuration(input)
    return (d !== undefined && Duration.isFinite(d) && accept(Duration.toMillis(d))) || `Expected ${expected}`
  })).pipe(
    Schema.decodeTo(
      Schema.Duration,
      SchemaTransformation.transform<Duration.Duration, unknown>({
        decode: (input) => toDuration(input) ?? Duration.zero,
        encode: (duration) => Duration.toMillis(duration)
      })
    )
  ).annotate({ expected }) as unknown as Schema.Codec<Duration.Duration, DelayInput>

const units = "such as \"500 millis\", \"2 seconds\" or a number of milliseconds"

/** A non-negative finite delay. */
export const Delay = delaySchema(`a non-negative finite duration, ${units}`, (ms) => ms >= 0)

/** A positive finite delay. */
export const PositiveDelay = delaySchema(`a positive finite duration, ${units}`, (ms) => ms > 0)

/** A positive delay of at least `min` milliseconds (intervals that would spin a core). */
export const DelayAtLeast = (min: number, label: string) =>
  delaySchema(`a finite duration of at least ${label}, ${units}`, (ms) => ms >= min)

/** Is this (type-side) AST node a duration? Used to treat delay fields specially (units, env). */
export const isDurationAst = (ast: { readonly _tag: string; readonly annotations?: unknown }): boolean =>
  ast._tag === "Declaration" &&
  (ast.annotations as { readonly representation?: { readonly id?: unknown } } | undefined)?.representation?.id ===
    "effect/schema/Duration"

/** A finite number in 0..1. */
export const Ratio = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

// One message per broken bound; a non-finite value is already reported by the number check.
const atMost = (maximum: number) =>
  Schema.makeFilter((n: number) => !Number.isFinite(n) || n <= maximum || `Expected a value less than or equal to ${maximum} (the limit)`)

/** A finite number in `min..max`. */
export const NumberBetween = (minimum: number, maximum: number) =>
  Schema.Finite.check(Schema.isGreaterThanOrEqualTo(minimum), atMost(maximum))

/** An integer in `min..max` (inclusive); the bound is in the message. */
export const IntBetween = (minimum: number, maximum: number) =>
  Schema.Int.check(Schema.isGreaterThanOrEqualTo(minimum), atMost(maximum))

/** Sizes beyond these would allocate or loop without bound; they are far above any real policy. */
export const bounds = {
  /** Retries of one call. */
  retries: 1000,
  /** Calls in a count window, buckets of a time window, probes, queue slots… */
  size: 1_000_000,
  buckets: 1000,
  /** Tokens of a retry budget. */
  tokens: 1_000_000_000
} as const

/** A field with a default, filled in when the key is missing. */
export const withDefault = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))
