import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Failure, Hedge } from "../src/index.ts"

/**
 * A call whose n-th attempt (0-based) runs `plans[n]`; records when each attempt started and
 * which attempts were interrupted.
 */
const scripted = <E>(plans: ReadonlyArray<Effect.Effect<string, E>>) => {
  const starts: Array<number> = []
  const interrupted: Array<number> = []
  const call = Effect.gen(function*() {
    const n = starts.length
    starts.push(yield* Clock.currentTimeMillis)
    return yield* plans[n]!.pipe(Effect.onInterrupt(() => Effect.sync(() => interrupted.push(n))))
  })
  return { call, starts, interrupted }
}

const after = <A>(ms: number, value: A) => Effect.sleep(ms).pipe(Effect.as(value))
const failAfter = <E>(ms: number, error: E) => Effect.sleep(ms).pipe(Effect.andThen(Effect.fail(error)))

describe("Hedge.hedge", () => {
  it.effect("a fast first attempt starts no hedge", () =>
    Effect.gen(function*() {
      const { call, starts } = scripted([after(50, "first"), after(1, "second")])
      const fiber = yield* Effect.forkChild(call.pipe(Hedge.hedge({ delay: "100 millis" })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "first")
      assert.deepStrictEqual(starts, [0])
    }))

  it.effect("a slow first attempt: the hedge starts at delay, wins, and the loser is interrupted", () =>
    Effect.gen(function*() {
      const { call, interrupted, starts } = scripted([after(10_000, "first"), after(50, "second")])
      const fiber = yield* Effect.forkChild(call.pipe(Hedge.hedge({ delay: "100 millis" })))
      yield* TestClock.adjust(99)
      assert.deepStrictEqual(starts, [0])
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(starts, [0, 100])
      yield* TestClock.adjust(50)
      assert.strictEqual(yield* Fiber.join(fiber), "second")
      assert.deepStrictEqual(interrupted, [0])
    }))

  it.effect("maxAttempts bounds the attempts in flight", () =>
    Effect.gen(function*() {
      const { call, interrupted, starts } = scripted([after(10_000, "a"), after(10_000, "b"), after(10_000, "c")])
      const fiber = yield* Effect.forkChild(call.pipe(Hedge.hedge({ delay: "100 millis", maxAttempts: 3 })))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "a")
      assert.deepStrictEqual(starts, [0, 100, 200])
      assert.deepStrictEqual(interrupted.sort(), [1, 2])
    }))

  it.effect("an early failure starts the next attempt at once", () =>
    Effect.gen(function*() {
      const { call, starts } = scripted<string>([failAfter(10, "reset"), after(20, "second")])
      const fiber = yield* Effect.forkChild(call.pipe(Hedge.hedge({ delay: "100 millis" })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "second")
      assert.deepStrictEqual(starts, [0, 10])
    }))

  it.effect("when every attempt fails, the hedge fails with the last failure", () =>
    Effect.gen(function*() {
      const { call } = scripted<string>([failAfter(300, "first attempt's"), failAfter(20, "second attempt's")])
      const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(Hedge.hedge({ delay: "100 millis" }))))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "first attempt's") // it failed at t = 300, after the other (t = 120)
    }))

  it.effect("a Permanent failure ends the hedge at once", () =>
    Effect.gen(function*() {
      const denied = Failure.permanent("denied", { kind: "Auth" })
      const { call, interrupted, starts } = scripted([after(10_000, "first"), failAfter(10, denied)])
      const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(Hedge.hedge({ delay: "100 millis", maxAttempts: 3 }))))
      yield* TestClock.adjust(110)
      assert.strictEqual(yield* Fiber.join(fiber), denied)
      assert.deepStrictEqual(starts, [0, 100])
      assert.deepStrictEqual(interrupted, [0])
    }))

  it.effect("invalid options die with a PolicyError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.succeed(1).pipe(Hedge.hedge({ delay: -1, maxAttempts: 0 })))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))
})
