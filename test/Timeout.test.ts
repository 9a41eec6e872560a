import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Duration, Effect, Exit, Fiber } from "effect"
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

// The timer behind both bounds (internal/timer.ts): one child fiber for the effect, a timer beside it.
describe("Timeout: the effect's fiber", () => {
  it.effect("on expiry the slow effect has been interrupted (its finalizers ran) before the timeout fails", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const slow = Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => events.push("interrupted"))))
      const fiber = yield* Effect.forkChild(Effect.flip(slow.pipe(Timeout.attempt("1 second"))).pipe(
        Effect.tap(() => Effect.sync(() => events.push("timed out")))
      ))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(Failure.isTransient(error) && error.kind === "Timeout")
      assert.deepStrictEqual(events, ["interrupted", "timed out"])
    }))

  it.effect("interrupting the caller interrupts the effect, waits for it, and leaves no timer behind", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const slow = Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => events.push("interrupted"))))
      const fiber = yield* Effect.forkChild(slow.pipe(Timeout.attempt("1 second")), { startImmediately: true })
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(events, ["interrupted"])
      // The timer was stopped too: moving past it changes nothing.
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(events, ["interrupted"])
    }))

  it.effect("an effect done before it suspends returns its own exit, success or failure, with no timer", () =>
    Effect.gen(function*() {
      // A clock that counts the sleeps asked of it (the timer is one of them on any clock but the live one).
      const clock = yield* Clock.Clock
      let sleeps = 0
      const counting: Clock.Clock = {
        ...clock,
        sleep: (duration) =>
          Effect.suspend(() => {
            sleeps++
            return clock.sleep(duration)
          })
      }
      const timed = <A, E>(effect: Effect.Effect<A, E>) => effect.pipe(Timeout.attempt("1 second"), Effect.provideService(Clock.Clock, counting))
      assert.strictEqual(yield* timed(Effect.succeed("now")), "now")
      assert.strictEqual(sleeps, 0)
      const later = yield* Effect.forkChild(timed(Effect.yieldNow.pipe(Effect.as("later"))))
      assert.strictEqual(yield* Fiber.join(later), "later")
      assert.strictEqual(sleeps, 1, "an effect that suspends gets its timer")

      assert.strictEqual(yield* Effect.succeed("now").pipe(Timeout.attempt("1 second")), "now")
      const error = yield* Effect.flip(Effect.fail("bad").pipe(Timeout.attempt("1 second")))
      assert.strictEqual(error, "bad")
      const defect = yield* Effect.exit(Effect.die("boom").pipe(Timeout.total("1 second")))
      assert.isTrue(Exit.isFailure(defect) && Cause.hasDies(defect.cause))
    }))

  it.effect("the effect keeps the caller's services and attempt number", () =>
    Effect.gen(function*() {
      let seen = 0
      const call = Effect.flatMap(Effect.service(Retry.CurrentAttempt), (attempt) =>
        Effect.sync(() => {
          seen = attempt
        }).pipe(Effect.andThen(Effect.sleep("10 millis")), Effect.andThen(attempt < 2 ? Effect.fail({ status: 503 }) : Effect.succeed("ok")))
      )
      const fiber = yield* Effect.forkChild(call.pipe(Timeout.attempt("1 second"), Retry.retry({ maxRetries: 2, initialDelay: 5, jitter: "none", log: false })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(seen, 2)
    }))

  it.live("on the live clock a call that finishes first returns its value (the timer is a setTimeout, cleared)", () =>
    Effect.gen(function*() {
      const later = Effect.promise(() => Promise.resolve("later"))
      assert.strictEqual(yield* later.pipe(Timeout.attempt("1 minute")), "later")
      const failed = yield* Effect.flip(Effect.promise(() => Promise.resolve(1)).pipe(Effect.andThen(Effect.fail("no")), Timeout.total("1 minute")))
      assert.strictEqual(failed, "no")
    }))
})
