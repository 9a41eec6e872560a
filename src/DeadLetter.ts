/**
 * DeadLetter: where calls that gave up land (retries exhausted, permanent failures), with what
 * was tried, what went wrong and when, so they can be inspected, alerted on or replayed.
 *
 * `DeadLetters` is a service with two layers in core: a bounded in-memory ring and an append-only
 * file of checksummed JSON lines, shared safely by concurrent writers in one or several processes
 * (a letter is acknowledged once it is synced to disk; `readFile` skips torn records instead of
 * failing). Errors are stored encoded, never as raw objects.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs/promises"
import { Clock, Context, Data, Effect, Layer, Option, Result, Schema } from "effect"
import { dual } from "effect/Function"
import type { Permanent } from "./Failure.ts"
import * as AppendLog from "./internal/appendLog.ts"
import { bounds, IntBetween, withDefault } from "./internal/fields.ts"
import * as errorInfo from "./internal/errorInfo.ts"
import * as letters from "./internal/letters.ts"
import { stringAt } from "./internal/inspect.ts"
import { letterFor, publishOrLog } from "./internal/letters.ts"
import type { PolicyError } from "./internal/policyError.ts"
import { decodeOptions } from "./internal/strict.ts"
import type { RetriesExhausted } from "./internal/retry/loop.ts"

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
 * @category schemas
 */
export const EncodedError: typeof errorInfo.EncodedError = errorInfo.EncodedError

/**
 * The type of an `EncodedError`.
 *
 * @since 0.1.0
 * @category models
 */
export type EncodedError = errorInfo.EncodedError

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
 * @category schemas
 */
export const Letter: typeof letters.Letter = letters.Letter

/**
 * A decoded dead letter.
 *
 * @since 0.1.0
 * @category models
 */
export type Letter = letters.Letter

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
 * @category errors
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
 * @category services
 */
export class DeadLetters extends Context.Service<DeadLetters, {
  /** Stores a letter; with the file layer, it is synced to disk when this succeeds. */
  readonly publish: (letter: Letter) => Effect.Effect<void, DeadLetterError>
  /** The letters kept, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Letter>, DeadLetterError>
  /** Letters dropped to stay within a bound (the memory ring); always 0 for the file. */
  readonly dropped: Effect.Effect<number>
  /** Letters this store could not take (`publish` failed): never counted as stored. */
  readonly failed: Effect.Effect<number>
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
 * A pipeline's dead letters as data (the `deadLetters` field of a pipeline policy, when not a
 * boolean): `rejected` says whether calls rejected without running (an open circuit, a full
 * bulkhead) become letters too. Default `false`: in an outage they would be thousands of letters
 * of the same thing. Either way they are counted (`rejections`, `rejectedLetters`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * Schema.decodeUnknownSync(DeadLetter.PipelineLetters)({}) // { rejected: false }
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const PipelineLetters = Schema.Struct({
  rejected: withDefault(Schema.Boolean, false)
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
 * @category layers
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
        dropped: Effect.sync(() => dropped),
        failed: Effect.succeed(0)
      }))
    })
  )

/**
 * What `readFile` found: the letters, and how many records it skipped (one torn by a crash
 * mid-write or a full disk, one that fails its checksum, or any other line that is not a letter).
 *
 * @since 0.1.0
 * @category models
 */
export interface FileContents {
  readonly letters: ReadonlyArray<Letter>
  readonly skipped: number
}

const decodeLetter = Schema.decodeUnknownOption(Letter)

const parseRecord = (line: Buffer): Option.Option<Letter> => {
  const found = AppendLog.unframe(line)
  if (found === undefined) return Option.none()
  try {
    return decodeLetter(JSON.parse("payload" in found ? found.payload : found.legacy))
  } catch {
    return Option.none()
  }
}

/**
 * Reads a dead-letter file written by `layerFile`. A missing file has no letters. Records that
 * are torn (a crash or a full disk mid-write), fail their checksum, or are not letters are
 * skipped and counted, never fatal; the records around them are read. Plain JSON lines written
 * by earlier versions are read too.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * const report = DeadLetter.readFile("dead-letters.jsonl").pipe(
 *   Effect.map(({ letters, skipped }) => `${letters.length} letters, ${skipped} torn records`)
 * )
 * ```
 * @since 0.1.0
 * @category utils
 */
export const readFile = (path: string): Effect.Effect<FileContents, DeadLetterError> =>
  Effect.tryPromise({
    try: () =>
      fs.readFile(path).catch((error: unknown) => {
        if ((error as { code?: unknown }).code === "ENOENT") return Buffer.alloc(0)
        throw error
      }),
    catch: (cause) => new DeadLetterError({ op: "read", path, cause })
  }).pipe(Effect.map((bytes) => {
    const letters: Array<Letter> = []
    let skipped = 0
    for (const line of AppendLog.lines(bytes)) {
      const letter = parseRecord(line)
      if (Option.isSome(letter)) letters.push(letter.value)
      else skipped++
    }
    return { letters, skipped }
  }))

/**
 * Options of `layerFile`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileOptions {
  /** The file; created (with its lock file `<path>.lock`) in an existing directory on the first letter. */
  readonly path: string
  /**
   * Sync each batch to disk (`fdatasync`) before acknowledging its letters (default `true`).
   * With `false`, an acknowledged letter survives a crash of the process but not of the machine.
   */
  readonly fsync?: boolean | undefined
  /** The largest letter stored, in bytes of its JSON (default 4 MiB, at most 256 MiB); larger ones fail. */
  readonly maxLetterBytes?: number | undefined
}

const MiB = 1024 * 1024

/**
 * The file store's options as data: `path` (required), `fsync` (default `true`) and
 * `maxLetterBytes` (1 byte .. 256 MiB, default 4 MiB). `layerFile` decodes its options through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * Schema.decodeUnknownSync(DeadLetter.FilePolicy)({ path: "letters.jsonl" })
 * // { path: "letters.jsonl", fsync: true, maxLetterBytes: 4194304 }
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const FilePolicy = Schema.Struct({
  path: Schema.NonEmptyString,
  fsync: withDefault(Schema.Boolean, true),
  maxLetterBytes: withDefault(IntBetween(1, 256 * MiB), 4 * MiB)
})

/**
 * Appends letters to a file of JSON lines, one checksummed record per letter, safe to share
 * between concurrent publishers in one process and between processes:
 *
 * - `publish` succeeds only once the letter is wholly in the file and synced to disk. Letters
 *   published while a write is under way go out together in the next write and sync (group
 *   commit), so throughput holds under load.
 * - Writers never interleave: one queue per file per process, and across processes a lock file
 *   `<path>.lock` (a lock left by a process that died is taken over).
 * - A torn last record (a writer killed mid-write, a full disk) is ended before the next append,
 *   so it never swallows the next letter; `readFile` skips it.
 * - A letter the file cannot take (read-only, a directory in the way, disk full, larger than
 *   `maxLetterBytes`) fails `publish` with `DeadLetterError` and is counted in `failed`.
 *
 * Fails with `Policy.PolicyError` for a bad `maxLetterBytes`. `list` reads the file.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetter } from "effect-resilience"
 * declare const program: Effect.Effect<void, never, DeadLetter.DeadLetters>
 * const runnable = program.pipe(Effect.provide(DeadLetter.layerFile({ path: "dead-letters.jsonl" })))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (options: FileOptions): Layer.Layer<DeadLetters, PolicyError> =>
  Layer.effect(
    DeadLetters,
    Effect.suspend(() => {
      const decoded = decodeOptions(FilePolicy, options)
      if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
      const { fsync, maxLetterBytes, path } = decoded.success
      const writerOptions: AppendLog.WriterOptions = {
        ...AppendLog.defaultLockOptions,
        fsync,
        maxBatchBytes: Math.max(16 * MiB, maxLetterBytes)
      }
      let failed = 0
      const record = (letter: Letter): Buffer => {
        const json = JSON.stringify(letter)
        if (typeof json !== "string") throw new Error("the letter is not JSON-serialisable")
        const bytes = Buffer.byteLength(json, "utf8")
        if (bytes > maxLetterBytes) throw new Error(`the letter is ${bytes} bytes, more than maxLetterBytes (${maxLetterBytes})`)
        return AppendLog.frame(json)
      }
      return Effect.succeed(DeadLetters.of({
        publish: (letter) =>
          Effect.tryPromise({
            try: () => AppendLog.append(path, record(letter), writerOptions),
            catch: (cause) => {
              failed++
              return new DeadLetterError({ op: "publish", path, cause })
            }
          }),
        list: Effect.map(readFile(path), (contents) => contents.letters),
        dropped: Effect.succeed(0),
        failed: Effect.sync(() => failed)
      }))
    })
  )

/**
 * Options of `onExhausted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface OnExhaustedOptions {
  /** The operation's name in the letter. */
  readonly operation: string
  /** Extra context (tenant, bucket, request id). */
  readonly tags?: Readonly<Record<string, string>> | undefined
}

const isFinalFailure = (error: unknown): error is RetriesExhausted<unknown> | Permanent<unknown> => {
  const tag = stringAt(error, "_tag")
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
 * @category combinators
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


