// Pins the Effect behaviour internal/onExit.ts relies on: an `Effect.onExit` handler that returns
// `undefined` means "no finalizer to run". The exit passes through untouched (value, typed
// failure, defect, interruption), the handler runs exactly once, and nothing dies. If a release
// of Effect changes this, this test fails before any guard misbehaves.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { NOTHING, onExitUnlessNothing } from "../../src/internal/onExit.ts"

describe("onExit with a handler that returns undefined", () => {
  it.effect("a success keeps its value; the handler ran once and saw it", () =>
    Effect.gen(function*() {
      const seen: Array<Exit.Exit<number, string>> = []
      const value = yield* onExitUnlessNothing(Effect.succeed(42), (exit) => (seen.push(exit), NOTHING))
      assert.strictEqual(value, 42)
      assert.strictEqual(seen.length, 1)
      assert.isTrue(Exit.isSuccess(seen[0]!))
    }))

  it.effect("a typed failure stays the same failure, not a defect", () =>
    Effect.gen(function*() {
      let calls = 0
      const exit = yield* Effect.exit(onExitUnlessNothing(Effect.fail("boom"), () => (calls++, undefined)))
      assert.deepStrictEqual(exit, Exit.fail("boom"))
      assert.strictEqual(calls, 1)
    }))

  it.effect("a defect and an interruption pass through as they were", () =>
    Effect.gen(function*() {
      const died = yield* Effect.exit(onExitUnlessNothing(Effect.die("bug"), () => undefined))
      assert.isTrue(Exit.isFailure(died) && Cause.hasDies(died.cause))
      const fiber = yield* Effect.forkChild(onExitUnlessNothing(Effect.never, () => undefined))
      const interrupted = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
      assert.isTrue(Exit.isFailure(interrupted) && Cause.hasInterruptsOnly(interrupted.cause))
    }))

  it.effect("an effect returned instead still runs before the exit is returned", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      yield* onExitUnlessNothing(Effect.sync(() => order.push("body")), () => Effect.sync(() => void order.push("finalizer")))
      order.push("after")
      assert.deepStrictEqual(order, ["body", "finalizer", "after"])
    }))
})
