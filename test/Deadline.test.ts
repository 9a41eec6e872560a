// The call's deadline: set by a total timeout (or Deadline.within), read by attempt timeouts and the
// retry loop. All on the TestClock.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { Deadline, Failure, Pipeline, Retry, RetryBudget, Timeout } from "../src/index.ts"

const leftMillis = Effect.map(Deadline.remaining, Option.map(Duration.toMillis))

describe("Deadline", () => {
  it.effect("no deadline unless something sets one", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* Deadline.remaining))
      assert.strictEqual(yield* Deadline.CurrentDeadline, undefined)
    }))

  it.effect("a total timeout sets the deadline the call sees; an earlier inherited one wins", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("5 seconds")
      assert.deepStrictEqual(yield* leftMillis.pipe(Timeout.total("2 seconds")), Option.some(2000))
      assert.strictEqual(yield* Deadline.CurrentDeadline.pipe(Timeout.total("2 seconds")), 7000)
      assert.deepStrictEqual(yield* leftMillis.pipe(Timeout.total("10 seconds"), Deadline.within("1 second")), Option.some(1000))
      assert.deepStrictEqual(yield* leftMillis.pipe(Deadline.within("10 seconds"), Deadline.within("3 seconds")), Option.some(3000))
    }))

  it.effect("an attempt timeout is min(its duration, time left); cut by the deadline it is Permanent", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.never.pipe(Timeout.attempt("10 seconds"), Deadline.within("1 second"))))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(Failure.isPermanent(error))
      assert.strictEqual(error.error.scope, "deadline")
      assert.strictEqual(Duration.toMillis(error.error.duration), 1000)
      assert.match(error.message, /Deadline reached after 1s/)
    }))

  it.effect("a shorter attempt timeout keeps its own (retryable) bound", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.never.pipe(Timeout.attempt("100 millis"), Deadline.within("1 second"))))
      yield* TestClock.adjust("100 millis")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(Failure.isTransient(error))
      assert.strictEqual(error.error.scope, "attempt")
    }))

  it.effect("with no time left an attempt is not started", () =>
    Effect.gen(function*() {
      let started = 0
      const work = Effect.sync(() => started++).pipe(Timeout.attempt("1 second"))
      const error = yield* Effect.flip(work.pipe(Deadline.within(0)))
      assert.strictEqual(error._tag, "Permanent")
      assert.strictEqual(started, 0)
    }))

  it.effect("the retry loop does not start an attempt past the deadline and says so", () =>
    Effect.gen(function*() {
      let attempts = 0
      const failing = Effect.suspend(() => {
        attempts++
        return Effect.fail({ status: 503 })
      })
      const fiber = yield* Effect.forkChild(Effect.flip(
        failing.pipe(Retry.retry({ maxRetries: 5, initialDelay: "400 millis", jitter: "none", log: false }), Deadline.within("1 second"))
      ))
      // Attempts at 0 and 400 ms; the next would start at 400 + 800 = 1200 ms, past the deadline.
      yield* TestClock.adjust("400 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.isTrue(error._tag === "RetriesExhausted" && error.reason === "deadline")
      assert.strictEqual(attempts, 2)
      assert.match(error.message, /deadline: the next attempt could not start before the call's deadline/)
    }))

  it.effect("a spent budget under a deadline ends as the loop would: the deadline comes first", () =>
    Effect.gen(function*() {
      // capacity 5, cost 5: the first retry spends it, every later one is denied at once.
      const budget = yield* RetryBudget.tokenBucket({ capacity: 5 })
      const failing = Effect.fail({ status: 503 })
      const retry = Retry.retry({ maxRetries: 3, initialDelay: "2 seconds", jitter: "none", log: false, budget })
      yield* Effect.forkChild(Effect.flip(failing.pipe(retry)))
      yield* TestClock.adjust("2 seconds")
      // No deadline: the budget denies the retry.
      const denied = yield* Effect.flip(failing.pipe(retry))
      assert.isTrue(denied._tag === "RetriesExhausted" && denied.reason === "budget")
      // A deadline the first delay would pass: the loop's reason is "deadline", checked before the budget.
      const late = yield* Effect.flip(failing.pipe(retry, Deadline.within("1 second")))
      assert.isTrue(late._tag === "RetriesExhausted" && late.reason === "deadline")
    }))

  it.effect("a pipeline's total timeout is the deadline of what it runs", () =>
    Effect.gen(function*() {
      const pipeline = yield* Pipeline.make({ timeout: "3 seconds", retry: { maxRetries: 1 } })
      assert.deepStrictEqual(yield* pipeline.execute(leftMillis), Option.some(3000))
      const plain = yield* Pipeline.make({ retry: { maxRetries: 1 } })
      assert.isTrue(Option.isNone(yield* plain.execute(Deadline.remaining)))
    }).pipe(Effect.scoped))

  it.effect("an invalid duration dies with a PolicyError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.void.pipe(Deadline.within(-1)))
      assert.isTrue(exit._tag === "Failure")
    }))
})
