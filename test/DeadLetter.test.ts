import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Backoff, DeadLetter, Failure, Retry } from "../src/index.ts"

const letter = (operation: string, attempts = 1): DeadLetter.Letter => ({
  operation,
  error: { _tag: "Permanent", message: "nope", kind: "Auth" },
  attempts,
  firstAttemptAt: 0,
  lastAttemptAt: 10,
  tags: { tenant: "t1" }
})

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dead-letters-")), "letters.jsonl")

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

describe("DeadLetter.layerMemory", () => {
  it.effect("keeps the last `capacity` letters and counts the dropped ones", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetter.DeadLetters
      for (const op of ["a", "b", "c", "d", "e"]) yield* deadLetters.publish(letter(op))
      const kept = yield* deadLetters.list
      assert.deepStrictEqual(kept.map((l) => l.operation), ["c", "d", "e"])
      assert.strictEqual(yield* deadLetters.dropped, 2)
    }).pipe(Effect.provide(DeadLetter.layerMemory({ capacity: 3 }))))

  it.effect("a bad capacity fails the layer with a PolicyError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(DeadLetter.DeadLetters, DeadLetter.layerMemory({ capacity: 0 })))
      assert.strictEqual(error._tag, "PolicyError")
    }))
})

describe("DeadLetter.layerFile", () => {
  it.effect("round trip: published letters are one JSON line each and read back equal", () =>
    Effect.gen(function*() {
      const file = tempFile()
      const written = [letter("upload", 4), letter("resize", 2)]
      yield* Effect.gen(function*() {
        const deadLetters = yield* DeadLetter.DeadLetters
        for (const l of written) yield* deadLetters.publish(l)
        assert.deepStrictEqual(yield* deadLetters.list, written)
      }).pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
      const text = fs.readFileSync(file, "utf8")
      assert.strictEqual(text.split("\n").length, 3) // two lines, each ending in \n
      assert.isTrue(text.endsWith("\n"))
      assert.deepStrictEqual(yield* DeadLetter.readFile(file), { letters: written, skipped: 0 })
    }))

  it.effect("a torn last line is skipped and counted, and the next letter starts a fresh line", () =>
    Effect.gen(function*() {
      const file = tempFile()
      const full = JSON.stringify(letter("first"))
      fs.writeFileSync(file, `${full}\n${full.slice(0, 25)}`) // a crash in the middle of the second write
      const before = yield* DeadLetter.readFile(file)
      assert.deepStrictEqual(before.letters.map((l) => l.operation), ["first"])
      assert.strictEqual(before.skipped, 1)

      yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.publish(letter("after crash"))).pipe(
        Effect.provide(DeadLetter.layerFile({ path: file }))
      )
      const after = yield* DeadLetter.readFile(file)
      assert.deepStrictEqual(after.letters.map((l) => l.operation), ["first", "after crash"])
      assert.strictEqual(after.skipped, 1)
    }))

  it.effect("a missing file reads as empty", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* DeadLetter.readFile(path.join(os.tmpdir(), "no-such-dir-x", "f.jsonl")), {
        letters: [],
        skipped: 0
      })
    }))
})

describe("DeadLetter.onExhausted", () => {
  it.effect("publishes RetriesExhausted with its attempts and timestamps, then re-fails with it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000)
      const call = Effect.fail(Failure.transient(new Boom({ message: "disk full" }), { kind: "Server" })).pipe(
        Retry.retry({ schedule: Backoff.fixed("100 millis").pipe(Backoff.recurs(2)), log: false }),
        DeadLetter.onExhausted({ operation: "s3.upload", tags: { bucket: "reviews" } })
      )
      const fiber = yield* Effect.forkChild(Effect.flip(call))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      const [published] = yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.list)
      assert.deepStrictEqual(published, {
        operation: "s3.upload",
        error: { _tag: "RetriesExhausted", message: error.message, kind: "Server", name: "Boom" },
        attempts: 3,
        firstAttemptAt: 1_000,
        lastAttemptAt: 1_200,
        tags: { bucket: "reviews" }
      })
    }).pipe(Effect.provide(DeadLetter.layerMemory())))

  it.effect("publishes a Permanent as one attempt; other errors and successes publish nothing", () =>
    Effect.gen(function*() {
      const permanent = Failure.permanent(new Boom({ message: "bad key" }), { kind: "Auth" })
      const guard = DeadLetter.onExhausted({ operation: "auth" })
      assert.strictEqual(yield* Effect.flip(Effect.fail(permanent).pipe(guard)), permanent)
      yield* Effect.flip(Effect.fail("not final").pipe(guard))
      yield* Effect.succeed(1).pipe(guard)
      const letters = yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.list)
      assert.strictEqual(letters.length, 1)
      assert.strictEqual(letters[0]!.attempts, 1)
      assert.deepStrictEqual(letters[0]!.error, { _tag: "Permanent", message: "Permanent(Auth): bad key", kind: "Auth", name: "Boom" })
      assert.deepStrictEqual(letters[0]!.tags, {})
    }).pipe(Effect.provide(DeadLetter.layerMemory())))
})
