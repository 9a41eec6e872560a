/**
 * DeadLetter: where calls that gave up land (retries exhausted, permanent failures), with what
 * was tried, what went wrong and when, so they can be inspected, alerted on or replayed.
 *
 * `DeadLetters` is a service with two layers in core: a bounded in-memory ring and an append-only
 * JSON-lines file (one full line per letter, written before `publish` returns; `readFile` skips a
 * line torn by a crash instead of failing). Errors are stored encoded, never as raw objects.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import { Clock, Context, Data, Duration, Effect, Layer, Option, Result, Schema } from "effect"
import { dual } from "effect/Function"
import type { Permanent } from "./Failure.ts"
import { encodeError } from "./internal/errorInfo.ts"
import { kinds } from "./internal/kind.ts"
import { bounds, IntBetween, withDefault } from "./internal/fields.ts"
import type { PolicyError } from "./internal/policyError.ts"
import { decodeOptions } from "./internal/strict.ts"
import type { RetriesExhausted } from "./Retry.ts"

/**
 * An error as a dead letter stores it: the outer `_tag`, its message, its `Kind`, and the name or
 * tag of the innermost error.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * const error = Schema.decodeUnknownSync(DeadLetter.EncodedError)({ _tag: "RetriesExhausted", message: "gave up", kind: "Server" })
 * ```
 * @since 0.1.0
 */
export const EncodedError = Schema.Struct({
  _tag: Schema.optionalKey(Schema.String),
  message: Schema.String,
  kind: Schema.optionalKey(Schema.Literals(kinds)),
  name: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 */
export type EncodedError = typeof EncodedError.Type

/**
 * One dead letter. Times are epoch milliseconds from `Clock`.
 *
 * @example
 * ```ts
 * import { DeadLetter } from "effect-resilience"
 * const letter: DeadLetter.Letter = {
 *   operation: "upload",
 *   error: { _tag: "RetriesExhausted", message: "Gave up after 4 attempts", kind: "Server" },
 *   attempts: 4,
 *   firstAttemptAt: 1_000,
 *   lastAttemptAt: 8_500,
 *   tags: { bucket: "reviews" }
 * }
 * ```
 * @since 0.1.0
 */
export const Letter = Schema.Struct({
  operation: Schema.String,
  error: EncodedError,
  attempts: Schema.Number,
  firstAttemptAt: Schema.Number,
  lastAttemptAt: Schema.Number,
  tags: Schema.Record(Schema.String, Schema.String)
})

/**
 * A decoded dead letter.
 *
 * @since 0.1.0
 */
export type Letter = typeof Letter.Type

/**
 * Storing or reading dead letters failed (a file system error).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * const recovered = DeadLetter.readFile("/var/lib/app/dead-letters.jsonl").pipe(
 *   Effect.catchTag("DeadLetterError", (e) => Effect.succeed({ letters: [], skipped: 0, error: e.message }))
 * )
 * ```
 * @since 0.1.0
 */
export class DeadLetterError extends Data.TaggedError("DeadLetterError")<{
  readonly op: "publish" | "read"
  readonly path: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `Dead letters: ${this.op} ${this.path} failed: ${String((this.cause as { message?: unknown })?.message ?? this.cause)}`
  }
}

/**
 * The dead-letter store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * const count = Effect.gen(function*() {
 *   const deadLetters = yield* DeadLetter.DeadLetters
 *   return (yield* deadLetters.list).length
 * })
 * ```
 * @since 0.1.0
 */
export class DeadLetters extends Context.Service<DeadLetters, {
  /** Stores a letter; with the file layer, it is on disk when this returns. */
  readonly publish: (letter: Letter) => Effect.Effect<void, DeadLetterError>
  /** The letters kept, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Letter>, DeadLetterError>
  /** Letters dropped to stay within a bound (the memory ring); always 0 for the file. */
  readonly dropped: Effect.Effect<number>
}>()("effect-resilience/DeadLetter/DeadLetters") {}

/**
 * The in-memory store's options as data: `capacity`, the letters kept (1..1 000 000, default
 * 1000). `layerMemory` decodes its options through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * Schema.decodeUnknownSync(DeadLetter.MemoryPolicy)({}) // { capacity: 1000 }
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const MemoryPolicy = Schema.Struct({
  capacity: withDefault(IntBetween(1, bounds.size), 1000)
})

/**
 * Keeps the last `capacity` letters (default 1000) in memory; older ones are dropped and counted.
 * Fails with `Policy.PolicyError` for a bad capacity.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * declare const program: Effect.Effect<void, never, DeadLetter.DeadLetters>
 * const runnable = program.pipe(Effect.provide(DeadLetter.layerMemory({ capacity: 100 })))
 * ```
 * @since 0.1.0
 */
export const layerMemory = (options: { readonly capacity?: number | undefined } = {}): Layer.Layer<DeadLetters, PolicyError> =>
  Layer.effect(
    DeadLetters,
    Effect.suspend(() => {
      const decoded = decodeOptions(MemoryPolicy, options)
      if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
      const { capacity } = decoded.success
      const ring: Array<Letter> = []
      let next = 0
      let dropped = 0
      return Effect.succeed(DeadLetters.of({
        publish: (letter) =>
          Effect.sync(() => {
            if (ring.length < capacity) {
              ring.push(letter)
              return
            }
            ring[next] = letter
            next = (next + 1) % capacity
            dropped++
          }),
        list: Effect.sync(() => [...ring.slice(next), ...ring.slice(0, next)]),
        dropped: Effect.sync(() => dropped)
      }))
    })
  )

/**
 * What `readFile` found: the letters, and how many lines it skipped (a line torn by a crash
 * mid-write, or any other line that is not a letter).
 *
 * @since 0.1.0
 */
export interface FileContents {
  readonly letters: ReadonlyArray<Letter>
  readonly skipped: number
}

const decodeLetter = Schema.decodeUnknownOption(Letter)

const parseLine = (line: string): Option.Option<Letter> => {
  try {
    return decodeLetter(JSON.parse(line))
  } catch {
    return Option.none()
  }
}

/**
 * Reads a dead-letter file written by `layerFile`. A missing file has no letters. Lines that are
 * not letters, such as a last line torn by a crash, are skipped and counted, never fatal.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * const report = DeadLetter.readFile("dead-letters.jsonl").pipe(
 *   Effect.map(({ letters, skipped }) => `${letters.length} letters, ${skipped} torn lines`)
 * )
 * ```
 * @since 0.1.0
 */
export const readFile = (path: string): Effect.Effect<FileContents, DeadLetterError> =>
  Effect.tryPromise({
    try: () =>
      fs.readFile(path, "utf8").catch((error: unknown) => {
        if ((error as { code?: unknown }).code === "ENOENT") return ""
        throw error
      }),
    catch: (cause) => new DeadLetterError({ op: "read", path, cause })
  }).pipe(Effect.map((text) => {
    const letters: Array<Letter> = []
    let skipped = 0
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue
      const letter = parseLine(line)
      if (Option.isSome(letter)) letters.push(letter.value)
      else skipped++
    }
    return { letters, skipped }
  }))

/**
 * Appends letters to a JSON-lines file: each letter is one `appendFile` of one full line ending in
 * `\n`, done before `publish` returns. If the file ends in a torn line (a crash mid-write), the
 * first letter starts on a new line, so only the torn line is lost. `list` reads the file.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * declare const program: Effect.Effect<void, never, DeadLetter.DeadLetters>
 * const runnable = program.pipe(Effect.provide(DeadLetter.layerFile({ path: "dead-letters.jsonl" })))
 * ```
 * @since 0.1.0
 */
export const layerFile = (options: { readonly path: string }): Layer.Layer<DeadLetters, DeadLetterError> =>
  Layer.effect(
    DeadLetters,
    Effect.gen(function*() {
      const path = options.path
      const endsTorn = yield* Effect.tryPromise({
        try: async () => {
          const handle = await fs.open(path, "a+")
          try {
            const { size } = await handle.stat()
            if (size === 0) return false
            const last = Buffer.alloc(1)
            await handle.read(last, 0, 1, size - 1)
            return last[0] !== 0x0a
          } finally {
            await handle.close()
          }
        },
        catch: (cause) => new DeadLetterError({ op: "publish", path, cause })
      })
      let prefix = endsTorn ? "\n" : ""
      return DeadLetters.of({
        publish: (letter) =>
          Effect.tryPromise({
            try: () => {
              const line = `${prefix}${JSON.stringify(letter)}\n`
              prefix = ""
              return fs.appendFile(path, line, "utf8")
            },
            catch: (cause) => new DeadLetterError({ op: "publish", path, cause })
          }),
        list: Effect.map(readFile(path), (contents) => contents.letters),
        dropped: Effect.succeed(0)
      })
    })
  )

/**
 * Options of `onExhausted`.
 *
 * @since 0.1.0
 */
export interface OnExhaustedOptions {
  /** The operation's name in the letter. */
  readonly operation: string
  /** Extra context (tenant, bucket, request id). */
  readonly tags?: Readonly<Record<string, string>> | undefined
}

const isFinalFailure = (error: unknown): error is RetriesExhausted<unknown> | Permanent<unknown> => {
  const tag = typeof error === "object" && error !== null ? (error as { _tag?: unknown })._tag : undefined
  return tag === "RetriesExhausted" || tag === "Permanent"
}

/**
 * Publishes a dead letter when the effect fails with `Retry.RetriesExhausted` or
 * `Failure.Permanent`, then fails with the same error. `attempts` and `firstAttemptAt` come from
 * `RetriesExhausted` (`attempts`, now − `elapsed`); a `Permanent` counts as one attempt at the
 * time of the failure, since it does not carry a count. Other errors pass untouched. If the
 * letter cannot be stored, the `DeadLetterError` is logged and the original error is kept.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter, Retry } from "effect-resilience"
 *
 * declare const upload: Effect.Effect<void, { readonly code: string }>
 *
 * const guarded = upload.pipe(
 *   Retry.retry({ maxRetries: 3 }),
 *   DeadLetter.onExhausted({ operation: "s3.upload", tags: { bucket: "reviews" } })
 * ) // requires DeadLetter.DeadLetters
 * ```
 * @since 0.1.0
 */
export const onExhausted: {
  (options: OnExhaustedOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | DeadLetters>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: OnExhaustedOptions): Effect.Effect<A, E, R | DeadLetters>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, options: OnExhaustedOptions): Effect.Effect<A, E, R | DeadLetters> => {
  const tags = { ...options.tags }
  return Effect.tapError(self, (error) => {
    if (!isFinalFailure(error)) return Effect.void
    return Effect.gen(function*() {
      const deadLetters = yield* DeadLetters
      const now = yield* Clock.currentTimeMillis
      yield* publishOrLog(deadLetters, letterFor(error, options.operation, tags, now))
    })
  })
})

/**
 * The letter for a call that failed for good at `now`: attempts and the first attempt's time come
 * from `RetriesExhausted`; any other error counts as one attempt.
 *
 * @internal
 */
export const letterFor = (error: unknown, operation: string, tags: Readonly<Record<string, string>>, now: number): Letter => {
  const exhausted = typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "RetriesExhausted"
    ? error as RetriesExhausted<unknown>
    : undefined
  return {
    operation,
    error: encodeError(error),
    attempts: exhausted?.attempts ?? 1,
    firstAttemptAt: exhausted === undefined ? now : now - Duration.toMillis(exhausted.elapsed),
    lastAttemptAt: now,
    tags
  }
}

/**
 * Stores a letter; a store failure is logged, never raised, so the caller's own error is kept.
 *
 * @internal
 */
export const publishOrLog = (deadLetters: DeadLetters["Service"], letter: Letter): Effect.Effect<void> =>
  deadLetters.publish(letter).pipe(
    Effect.catch((storeError) => Effect.logError("Could not store a dead letter", storeError))
  )
