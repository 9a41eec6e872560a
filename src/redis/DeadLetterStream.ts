/**
 * DeadLetterStream: dead letters in a Redis stream shared by the fleet. `layer` provides
 * `DeadLetter.DeadLetters`: `publish` is one `XADD` with a maximum length (the oldest entries are
 * trimmed and counted in `dropped` by nobody: Redis trims silently, so size `maxLength` for your
 * retention), `list` reads the stream, and `read` pages through it by entry id for a consumer.
 *
 * A letter is acknowledged when `publish` returns. While Redis is unavailable (down, or slower
 * than `storeTimeout`), letters are kept in a bounded local buffer (`onStoreError: "buffer"`, the
 * default) and sent when Redis answers again, or `publish` fails with `DeadLetterError`
 * (`"fail"`). Delivery is at least once: a letter whose `XADD` timed out but reached Redis is sent
 * again from the buffer. For durability across a Redis crash, run Redis with
 * `appendonly yes` and `appendfsync always`.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Layer, Option, Result, Schedule, Schema, Semaphore } from "effect"
import { Redis } from "effect/persistence"
import { DeadLetterError, DeadLetters, Letter } from "../DeadLetter.ts"
import { bounds, IntBetween, PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import { Guard } from "../internal/redis/guard.ts"
import { decodeOptions } from "../internal/strict.ts"

/**
 * The stream's options as data: `stream` (`"resilience:dead-letters"`), `maxLength` (10 000),
 * `onStoreError` (`"buffer"`), `bufferCapacity` (1000), `storeTimeout` (500 millis) and
 * `retryStoreAfter` (1 second). `layer` decodes its options through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetterStream } from "effect-resilience/redis"
 * Schema.decodeUnknownSync(DeadLetterStream.StreamPolicy)({ maxLength: 1000 })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const StreamPolicy = Schema.Struct({
  stream: withDefault(Schema.NonEmptyString, "resilience:dead-letters"),
  maxLength: withDefault(IntBetween(1, bounds.tokens), 10_000),
  onStoreError: withDefault(Schema.Literals(["buffer", "fail"]), "buffer"),
  bufferCapacity: withDefault(IntBetween(1, bounds.size), 1000),
  storeTimeout: withDefault(PositiveDelay, "500 millis"),
  retryStoreAfter: withDefault(PositiveDelay, "1 second")
})

/**
 * Options of `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The stream's key. Default `"resilience:dead-letters"`. */
  readonly stream?: string | undefined
  /** Entries kept (`XADD MAXLEN`); older ones are trimmed. Default 10 000. */
  readonly maxLength?: number | undefined
  /** While Redis is unavailable: `"buffer"` letters locally and send them later, or `"fail"` the publish. Default `"buffer"`. */
  readonly onStoreError?: "buffer" | "fail" | undefined
  /** Letters buffered while Redis is unavailable; beyond it the oldest are dropped and counted. Default 1000. */
  readonly bufferCapacity?: number | undefined
  /** A store call slower than this counts as unavailable. Default 500 millis. */
  readonly storeTimeout?: Duration.Input | undefined
  /** While letters are buffered, Redis is tried again this often. Default 1 second. */
  readonly retryStoreAfter?: Duration.Input | undefined
}

/**
 * One entry of the stream: its Redis id and the letter.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly id: string
  readonly letter: Letter
}

const decodeLetter = Schema.decodeUnknownOption(Letter)

const parseEntries = (reply: unknown): Array<Entry> => {
  const out: Array<Entry> = []
  if (!Array.isArray(reply)) return out
  for (const item of reply) {
    if (!Array.isArray(item) || typeof item[0] !== "string" || !Array.isArray(item[1])) continue
    const fields = item[1] as Array<unknown>
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] !== "letter" || typeof fields[i + 1] !== "string") continue
      try {
        const letter = decodeLetter(JSON.parse(fields[i + 1] as string))
        if (Option.isSome(letter)) out.push({ id: item[0], letter: letter.value })
      } catch {
        // not a letter: skipped
      }
    }
  }
  return out
}

/**
 * Reads up to `count` entries (default 100) after the entry id `after` (default: from the start),
 * oldest first. Pass the last id you saw as `after` to read on: a consumer that keeps its last id
 * reads every letter once.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterStream } from "effect-resilience/redis"
 * const firstPage = DeadLetterStream.read({ count: 50 })
 * const next = Effect.flatMap(firstPage, (page) => DeadLetterStream.read({ after: page.at(-1)?.id, count: 50 }))
 * ```
 * @since 0.1.0
 * @category utils
 */
export const read = (
  options: { readonly stream?: string | undefined; readonly after?: string | undefined; readonly count?: number | undefined } = {}
): Effect.Effect<ReadonlyArray<Entry>, DeadLetterError, Redis.Redis> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const stream = options.stream ?? "resilience:dead-letters"
    const start = options.after === undefined ? "-" : `(${options.after}`
    const reply = yield* redis.send("XRANGE", stream, start, "+", "COUNT", String(options.count ?? 100)).pipe(
      Effect.mapError((cause) => new DeadLetterError({ op: "read", path: stream, cause }))
    )
    return parseEntries(reply)
  })

/**
 * Dead letters in a Redis stream (see the module notes for what happens while Redis is down).
 * `list` returns the last `maxLength` letters, oldest first. Fails with `Policy.PolicyError` for
 * bad options.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeRedis } from "@effect/platform-node"
 * import { DeadLetter } from "effect-resilience"
 * import { DeadLetterStream } from "effect-resilience/redis"
 *
 * declare const program: Effect.Effect<void, never, DeadLetter.DeadLetters>
 * const deadLetters = DeadLetterStream.layer({ stream: "app:dead-letters", maxLength: 50_000 }).pipe(
 *   Layer.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true }))
 * )
 * const runnable = program.pipe(Effect.provide(deadLetters))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<DeadLetters, PolicyError, Redis.Redis> =>
  Layer.effect(
    DeadLetters,
    Effect.gen(function*() {
      const decoded = decodeOptions(StreamPolicy, options)
      if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
      const { maxLength, onStoreError: mode, stream } = decoded.success
      const capacity = decoded.success.bufferCapacity
      const timeout = Duration.toMillis(decoded.success.storeTimeout)
      const retryEvery = Duration.toMillis(decoded.success.retryStoreAfter)
      const redis = yield* Redis.Redis
      const guard = new Guard({
        what: `dead letters ${stream}`,
        timeout,
        retryEvery,
        fallback: mode === "buffer" ? "letters are buffered in this process until it is back" : "publishing fails"
      }, yield* Clock.Clock)
      const buffer: Array<Letter> = []
      let dropped = 0
      let failed = 0
      const xadd = (letter: Letter) =>
        guard.run(redis.send<string>("XADD", stream, "MAXLEN", String(maxLength), "*", "letter", JSON.stringify(letter)))
      /** Sends buffered letters in order, stopping at the first failure. */
      const flush = Effect.suspend(function loop(): Effect.Effect<boolean> {
        const head = buffer[0]
        if (head === undefined) return Effect.succeed(true)
        return Effect.flatMap(xadd(head), (id) => {
          if (id === undefined) return Effect.succeed(false)
          if (buffer[0] === head) buffer.shift()
          return loop()
        })
      })
      const lock = yield* Semaphore.make(1)
      const serial = lock.withPermits(1)
      yield* Effect.forkScoped(
        serial(Effect.asVoid(flush)).pipe(Effect.repeat(Schedule.spaced(Duration.millis(retryEvery))))
      )
      const keep = (letter: Letter) => {
        buffer.push(letter)
        if (buffer.length > capacity) {
          buffer.shift()
          dropped++
        }
      }
      const unavailable = Effect.suspend(() => {
        failed++
        return Effect.fail(new DeadLetterError({ op: "publish", path: stream, cause: "Redis unavailable" }))
      })
      return DeadLetters.of({
        publish: (letter) =>
          serial(Effect.gen(function*() {
            // Buffered letters go first, so the stream keeps publishing order.
            if (buffer.length > 0 && !(yield* flush)) {
              if (mode === "fail") return yield* unavailable
              keep(letter)
              return
            }
            const id = yield* xadd(letter)
            if (id !== undefined) return
            if (mode === "fail") return yield* unavailable
            keep(letter)
          })),
        list: Effect.map(read({ stream, count: maxLength }), (entries) => entries.map((e) => e.letter)).pipe(
          Effect.provideService(Redis.Redis, redis)
        ),
        dropped: Effect.sync(() => dropped),
        failed: Effect.sync(() => failed)
      })
    })
  )
