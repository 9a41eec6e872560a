/**
 * Building and storing dead letters safely: foreign error values are read defensively, every
 * string is bounded, and a store failure is logged and counted, never raised.
 */
import { Cause, Duration, Effect, Metric, Schema } from "effect"
import { EncodedError, encodeError } from "./errorInfo.ts"
import { describe, stringAt } from "./inspect.ts"
import { metrics } from "./metrics.ts"
import type { RetriesExhausted } from "./retry/loop.ts"

/** One dead letter (public as `DeadLetter.Letter`). Times are epoch milliseconds from `Clock`. */
export const Letter = Schema.Struct({
  operation: Schema.String,
  error: EncodedError,
  attempts: Schema.Number,
  firstAttemptAt: Schema.Number,
  lastAttemptAt: Schema.Number,
  tags: Schema.Record(Schema.String, Schema.String)
})

/** A decoded dead letter. */
export type Letter = typeof Letter.Type

/** Where letters are stored: what building and storing one needs of `DeadLetter.DeadLetters`. */
export interface LetterStore {
  readonly publish: (letter: Letter) => Effect.Effect<void, unknown>
}

// Foreign error values may have throwing getters, be Proxies, hold cycles or carry megabytes:
// they are read through inspect.ts (never throws, strings bounded to MAX_TEXT), and what a
// letter adds of its own is bounded here, so building a letter never throws.

const bounded = (text: string, max: number): string => text.length > max ? `${text.slice(0, max - 1)}…` : text

const safely = <A>(f: () => A, fallback: A): A => {
  try {
    return f()
  } catch {
    return fallback
  }
}

const safeEncodeError = (error: unknown): EncodedError =>
  // encodeError reads only through inspect.ts; the guard is for a classifier that still throws.
  safely((): EncodedError => {
    const e = encodeError(error)
    return {
      ...(e._tag === undefined ? {} : { _tag: bounded(e._tag, 256) }),
      message: e.message,
      ...(e.kind === undefined ? {} : { kind: e.kind }),
      ...(e.name === undefined ? {} : { name: bounded(e.name, 256) })
    }
  }, { message: describe(error), kind: "Unknown" })

const finiteOr = (value: unknown, fallback: number): number => typeof value === "number" && Number.isFinite(value) ? value : fallback

/**
 * The letter for a call that failed for good at `now`: attempts and the first attempt's time come
 * from `RetriesExhausted`; any other error counts as one attempt. Never throws, whatever the error
 * value holds.

 */
export const letterFor = (error: unknown, operation: string, tags: Readonly<Record<string, string>>, now: number): Letter => {
  const exhausted = stringAt(error, "_tag") === "RetriesExhausted" ? error as RetriesExhausted<unknown> : undefined
  const attempts = exhausted === undefined ? 1 : safely(() => finiteOr(exhausted.attempts, 1), 1)
  const elapsed = exhausted === undefined ? 0 : safely(() => finiteOr(Duration.toMillis(exhausted.elapsed), 0), 0)
  return {
    operation,
    error: safeEncodeError(error),
    attempts,
    firstAttemptAt: now - elapsed,
    lastAttemptAt: now,
    tags
  }
}

/**
 * A short description of a letter for a log line: what a reader needs to find or replay it, not
 * its full size.

 */
export const summarize = (letter: Letter): Record<string, unknown> =>
  safely(() => ({
    operation: bounded(letter.operation, 200),
    error: {
      ...(letter.error._tag === undefined ? {} : { _tag: bounded(letter.error._tag, 100) }),
      message: bounded(letter.error.message, 200),
      ...(letter.error.kind === undefined ? {} : { kind: letter.error.kind }),
      ...(letter.error.name === undefined ? {} : { name: bounded(letter.error.name, 100) })
    },
    attempts: letter.attempts,
    firstAttemptAt: letter.firstAttemptAt,
    lastAttemptAt: letter.lastAttemptAt,
    tags: Object.fromEntries(Object.entries(letter.tags).slice(0, 20).map(([k, v]) => [bounded(k, 100), bounded(String(v), 200)]))
  }), { operation: "(unreadable letter)" } as Record<string, unknown>)

const failedMetric = (operation: string) => Metric.withAttributes(metrics.deadLettersFailed, { operation })

/**
 * Stores a letter and says whether it was stored. A store failure (a typed error or a defect) is
 * logged with the letter's summary and counted on `resilience_dead_letters_failed_total`, never
 * raised, so the caller's own error is kept.

 */
export const publishOrLog = (deadLetters: LetterStore, letter: Letter): Effect.Effect<boolean> =>
  Effect.suspend(() => deadLetters.publish(letter)).pipe(
    Effect.as(true),
    Effect.catchCause((cause) => {
      if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
      const summary = summarize(letter)
      return Effect.logError("Could not store a dead letter; it is lost", safely(() => Cause.pretty(cause), "(unprintable cause)")).pipe(
        Effect.annotateLogs({ letter: summary }),
        Effect.andThen(Metric.update(failedMetric(String(summary.operation)), 1)),
        Effect.as(false)
      )
    })
  )
