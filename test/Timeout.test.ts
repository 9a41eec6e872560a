import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Failure, Retry, Timeout } from "../src/index.ts"

describe("Timeout.attempt", () => {
  it.effect("a slow attempt fails with a Transient of kind Timeout carrying TimeoutExceeded", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.sleep("5 seconds").pipe(Timeout.attempt("1 second"))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(Failure.isTransient(error))
      assert.strictEqual(error.kind, "Timeout")
      assert.strictEqual(error.error._tag, "TimeoutExceeded")
      assert.strictEqual(Duration.toMillis(error.error.duration), 1000)
      assert.strictEqual(error.error.scope, "attempt")
    }))

  it.effect("a fast attempt passes through untouched", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.sleep("10 millis").pipe(Effect.as("ok"), Timeout.attempt("1 second")))
      yield* TestClock.adjust("10 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }))

  it.effect("expiry aborts the AbortSignal of an Effect.tryPromise", () =>
    Effect.gen(function*() {
      let aborted = false
      const request = Effect.tryPromise({
        try: (signal) =>
          new Promise<string>((_resolve, reject) => {
            signal.addEventListener("abort", () => {
              aborted = true
              reject(new Error("aborted"))
            })
          }),
        catch: (e) => e
      })
      const fiber = yield* Effect.forkChild(Effect.flip(request.pipe(Timeout.attempt("2 seconds"))))
      yield* TestClock.adjust("1 second")
      assert.isFalse(aborted)
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(aborted)
      assert.isTrue(Failure.isTransient(error) && error.kind === "Timeout")
    }))

  it.effect("Retry retries a timed-out attempt", () =>
    Effect.gen(function*() {
      let attempts = 0
      const call = Effect.suspend(() => (++attempts === 1 ? Effect.never : Effect.succeed("second")))
      const fiber = yield* Effect.forkChild(
        call.pipe(
          Timeout.attempt("1 second"),
          Retry.retry({ schedule: Backoff.fixed("100 millis").pipe(Backoff.recurs(3)), log: false })
        )
      )
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "second")
      assert.strictEqual(attempts, 2)
    }))

  it.effect("an invalid duration dies with a PolicyError instead of throwing", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.void.pipe(Timeout.attempt(Number.NaN)))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))
})

describe("Timeout.total", () => {
  it.effect("its deadline ends the retry loop before an attempt that could not start in time", () =>
    Effect.gen(function*() {
      let attempts = 0
      const call = Effect.suspend(() => {
        attempts++
        return Effect.fail(Failure.transient("busy", { kind: "Server" }))
      })
      const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(
        Retry.retry({ schedule: Backoff.fixed("1 second"), log: false }),
        Timeout.total("5 seconds")
      )))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(error._tag === "RetriesExhausted" && error.reason === "deadline")
      assert.strictEqual(attempts, 5) // t = 0, 1, 2, 3, 4; the attempt at t = 5 never started
    }))

  it.effect("a slow call fails with a Permanent of kind Timeout when the time is up", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.never.pipe(
        Retry.retry({ schedule: Backoff.fixed("1 second"), log: false }),
        Timeout.total("5 seconds")
      )))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(Failure.isPermanent(error))
      if (!Failure.isPermanent(error)) return
      assert.strictEqual(error.kind, "Timeout")
      assert.deepStrictEqual(error.error, new Timeout.TimeoutExceeded({ duration: Duration.seconds(5), scope: "total" }))
    }))
})
