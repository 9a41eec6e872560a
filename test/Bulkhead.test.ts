import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
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

  it.effect("interrupting a waiter around the moment it is handed a slot leaks nothing", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ maxConcurrent: 1, maxQueue: 2 })
      const holder = yield* fork(bulkhead.execute(Effect.never))
      const ran: Array<string> = []
      const waiter = yield* fork(bulkhead.execute(Effect.sync(() => ran.push("waiter"))))
      const next = yield* fork(bulkhead.execute(Effect.sync(() => ran.push("next"))))
      // Freeing the holder hands its slot to the waiter; interrupt the waiter as soon as possible.
      // Whether or not it got to run first, the slot must reach the next caller and then be free.
      yield* Fiber.interrupt(holder)
      yield* Fiber.interrupt(waiter)
      yield* Fiber.join(next)
      assert.strictEqual(ran[ran.length - 1], "next")
      assert.deepStrictEqual(yield* bulkhead.stats, { running: 0, queued: 0, rejected: 0 })
    }))

  it.effect("under random interruptions no slot leaks and the limit always holds", () =>
    Effect.gen(function*() {
      for (let round = 0; round < 20; round++) {
        const bulkhead = yield* Bulkhead.make({ maxConcurrent: 2, maxQueue: 3 })
        let inside = 0
        let most = 0
        const work = (ms: number) =>
          Effect.acquireUseRelease(
            Effect.sync(() => {
              inside++
              most = Math.max(most, inside)
            }),
            () => Effect.sleep(ms),
            () => Effect.sync(() => inside--)
          )
        const fibers = []
        for (let i = 0; i < 8; i++) {
          const ms = 1 + Math.floor((yield* Random.next) * 40)
          fibers.push(yield* Effect.forkChild(Effect.exit(bulkhead.execute(work(ms))), { startImmediately: true }))
        }
        for (let step = 0; step < 60; step++) {
          yield* TestClock.adjust(1)
          if ((yield* Random.next) < 0.15) {
            const victim = fibers[Math.floor((yield* Random.next) * fibers.length)]!
            yield* Fiber.interrupt(victim)
          }
        }
        yield* TestClock.adjust(1000)
        for (const fiber of fibers) yield* Fiber.await(fiber)
        assert.isAtMost(most, 2)
        assert.deepStrictEqual({ ...(yield* bulkhead.stats), rejected: 0 }, { running: 0, queued: 0, rejected: 0 })
        // Every slot is free again: two calls run at once without waiting.
        const both = yield* Effect.all([bulkhead.execute(Effect.succeed(1)), bulkhead.execute(Effect.succeed(2))], { concurrency: 2 })
        assert.deepStrictEqual(both, [1, 2])
      }
    }).pipe(Random.withSeed(11)))

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
