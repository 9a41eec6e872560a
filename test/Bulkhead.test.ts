import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import { Bulkhead, Failure } from "../src/index.ts"

const fork = <A, E>(effect: Effect.Effect<A, E>) => Effect.forkChild(effect, { startImmediately: true })

describe("Bulkhead", () => {
  it.effect("runs at most maxConcurrent, queues at most maxQueue, rejects the rest at once", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ maxConcurrent: 2, maxQueue: 1, name: "db" })
      const gate = yield* Deferred.make<void>()
      let started = 0
      const call = Effect.sync(() => started++).pipe(Effect.andThen(Deferred.await(gate)), Bulkhead.protect(bulkhead))
      const fibers = [yield* fork(call), yield* fork(call), yield* fork(call)]
      assert.strictEqual(started, 2)
      assert.deepStrictEqual(bulkhead.statsUnsafe(), { running: 2, queued: 1, rejected: 0 })

      const rejection = yield* Effect.flip(bulkhead.execute(Effect.succeed("never runs")))
      assert.deepStrictEqual(rejection, new Bulkhead.BulkheadFull({ name: "db", maxConcurrent: 2, maxQueue: 1 }))
      assert.strictEqual((yield* bulkhead.stats).rejected, 1)

      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.joinAll(fibers)
      assert.strictEqual(started, 3)
      assert.deepStrictEqual(bulkhead.statsUnsafe(), { running: 0, queued: 0, rejected: 1 })
    }))

  it.effect("the queued call takes the slot the first one frees", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ maxConcurrent: 1, maxQueue: 1 })
      const first = yield* Deferred.make<void>()
      const order: Array<string> = []
      const a = yield* fork(bulkhead.execute(Deferred.await(first).pipe(Effect.andThen(Effect.sync(() => order.push("a"))))))
      const b = yield* fork(bulkhead.execute(Effect.sync(() => order.push("b"))))
      assert.deepStrictEqual(order, [])
      yield* Deferred.succeed(first, undefined)
      yield* Fiber.joinAll([a, b])
      assert.deepStrictEqual(order, ["a", "b"])
    }))

  it.effect("an interrupted waiter leaves the queue", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ maxConcurrent: 1, maxQueue: 1 })
      const gate = yield* Deferred.make<void>()
      const holder = yield* fork(bulkhead.execute(Deferred.await(gate)))
      let waiterRan = false
      const waiter = yield* fork(bulkhead.execute(Effect.sync(() => (waiterRan = true))))
      assert.strictEqual(bulkhead.statsUnsafe().queued, 1)
      yield* Fiber.interrupt(waiter)
      assert.deepStrictEqual(bulkhead.statsUnsafe(), { running: 1, queued: 0, rejected: 0 })
      // The freed queue place is usable again.
      const next = yield* fork(bulkhead.execute(Effect.succeed("next")))
      assert.strictEqual(bulkhead.statsUnsafe().queued, 1)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      assert.strictEqual(yield* Fiber.join(next), "next")
      assert.isFalse(waiterRan)
    }))

  it.effect("a failing or interrupted call frees its slot", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ maxConcurrent: 1 })
      const exit = yield* Effect.exit(bulkhead.execute(Effect.fail("boom")))
      assert.isTrue(Exit.isFailure(exit))
      const running = yield* fork(bulkhead.execute(Effect.never))
      assert.strictEqual(bulkhead.statsUnsafe().running, 1)
      yield* Fiber.interrupt(running)
      assert.deepStrictEqual(bulkhead.statsUnsafe(), { running: 0, queued: 0, rejected: 0 })
      assert.strictEqual(yield* bulkhead.execute(Effect.succeed(1)), 1)
    }))

  it("BulkheadFull is classified Transient, kind RateLimit", () => {
    const verdict = Failure.defaultClassifier(new Bulkhead.BulkheadFull({ name: "x", maxConcurrent: 1, maxQueue: 0 }))
    assert.strictEqual(`${verdict._tag}/${verdict.kind}`, "Transient/RateLimit")
  })

  it.effect("bad options fail with a PolicyError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Bulkhead.make({ maxConcurrent: 0, maxQueue: -1 }))
      assert.deepStrictEqual(error.issues.map((i) => i.path), [["maxConcurrent"], ["maxQueue"]])
    }))
})
