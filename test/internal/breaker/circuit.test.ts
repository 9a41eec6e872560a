// The circuit shell under attack: classifiers that throw, hostile error values, handlers racing
// each other, and random interruption in every state. Each test asserts the invariant (no stuck
// probe slot, no defect where a typed error belongs, an effect from every handler).
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Random, Stream } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker } from "../../../src/index.ts"
import { interruptRandomly } from "../../support/interrupt.ts"

const ok = Effect.succeed("ok")
const tagOf = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state, (s) => s._tag)

/** An error object whose every property read throws. */
const hostile = (): object =>
  new Proxy({}, {
    get: () => {
      throw new Error("getter exploded")
    },
    has: () => {
      throw new Error("in exploded")
    },
    getPrototypeOf: () => {
      throw new Error("prototype exploded")
    }
  })

const openThenHalfOpen = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    yield* Effect.exit(breaker.execute(Effect.fail("down")))
    assert.strictEqual(yield* tagOf(breaker), "Open")
    yield* TestClock.adjust("1 second")
  })

describe("a half-open probe whose classification throws", () => {
  it.effect("a user classify that throws: the caller keeps its own error, the slot is freed, the circuit recovers", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        log: false,
        classify: (error) => {
          if (error === "unreadable") throw new Error("classifier bug")
          return "failure"
        }
      })
      yield* openThenHalfOpen(breaker)
      const probe = yield* Effect.exit(breaker.execute(Effect.fail("unreadable")))
      // the caller's typed error, not a defect
      assert.isTrue(Exit.isFailure(probe) && !Cause.hasDies(probe.cause))
      const error = Exit.isFailure(probe) ? Cause.findError(probe.cause) : undefined
      assert.isTrue(error !== undefined && error._tag === "Success" && error.success === "unreadable")
      // counted as a failure: open again, and the next period lets a probe in
      assert.strictEqual(yield* tagOf(breaker), "Open")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* breaker.execute(ok), "ok")
      assert.strictEqual(yield* tagOf(breaker), "Closed")
    }))

  it.effect("an error whose getters throw, under the default classifier: the slot is freed", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", log: false })
      yield* openThenHalfOpen(breaker)
      const probe = yield* Effect.exit(breaker.execute(Effect.fail(hostile())))
      assert.isTrue(Exit.isFailure(probe) && !Cause.hasDies(probe.cause))
      const state = yield* breaker.state
      assert.notStrictEqual(state._tag === "HalfOpen" && state.probesInFlight, 1, "the probe slot is still held")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* breaker.execute(ok), "ok")
    }))

  it.effect("a classify returning a retryAfter whose getter throws still settles the call", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        log: false,
        classify: () => hostile() as CircuitBreaker.Outcome
      })
      yield* openThenHalfOpen(breaker)
      yield* Effect.exit(breaker.execute(Effect.fail("x")))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* breaker.execute(ok), "ok")
    }))
})

describe("every handler returns an effect", () => {
  it.effect("isolate and reset twice in a row", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ log: false })
      yield* breaker.isolate
      yield* breaker.isolate
      assert.strictEqual(yield* tagOf(breaker), "Isolated")
      yield* breaker.reset
      yield* breaker.reset
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      const keyed = yield* CircuitBreaker.keyed<string>({ log: false })
      const a = yield* keyed.get("a")
      yield* a.isolate
      yield* a.isolate
      assert.strictEqual(yield* tagOf(a), "Isolated")
    }))

  it.effect("a health check that passes after the circuit already moved on keeps running", () =>
    Effect.gen(function*() {
      let checks = 0
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: "1 minute",
        log: false,
        healthCheck: { every: "8 seconds", probe: Effect.andThen(Effect.sleep("3 seconds"), Effect.sync(() => checks++)) }
      })
      const seen = yield* breaker.changes.pipe(Stream.take(4), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* Effect.exit(breaker.execute(Effect.fail("down")))
      yield* TestClock.adjust("8 seconds") // t=8: the check sees Open and starts its probe
      yield* TestClock.adjust("1 second") // t=9: a user resets the circuit while the probe runs
      yield* breaker.reset
      yield* TestClock.adjust("2 seconds") // t=11: the probe passes; the circuit is no longer open
      assert.strictEqual(checks, 1)
      yield* Effect.exit(breaker.execute(Effect.fail("down again"))) // open again at t=11
      yield* TestClock.adjust("12 seconds") // t=19: next check, probe passes at t=22
      assert.strictEqual(checks, 2, "the health check stopped after the race")
      assert.strictEqual(yield* tagOf(breaker), "HalfOpen")
      const reasons = Array.from(yield* Fiber.join(seen)).map((t) => t.reason)
      assert.deepStrictEqual(reasons, ["ConsecutiveFailures", "Reset", "ConsecutiveFailures", "HealthCheck"])
    }))
})

describe("random interruption leaks no probe slot", () => {
  const scenario = (seed: number, state: "Closed" | "HalfOpen" | "Open") =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(3),
        openFor: "1 second",
        halfOpen: { probes: 3 },
        log: false
      })
      if (state !== "Closed") {
        for (let i = 0; i < 3; i++) yield* Effect.exit(breaker.execute(Effect.fail("down")))
        if (state === "HalfOpen") yield* TestClock.adjust("1 second")
      }
      // 40 calls, each interrupted after a random number of ms (some before they even start)
      yield* interruptRandomly(breaker, 40, 5)
      const after = yield* breaker.state
      assert.isTrue(after._tag !== "HalfOpen" || after.probesInFlight === 0, `slots held after interruption: ${JSON.stringify(after)}`)
      const stats = yield* breaker.stats
      assert.strictEqual(stats.failures, state === "Closed" ? 0 : 3, "interruption never counts as a failure")
      // the circuit still admits its full probe count (or every call while closed)
      yield* TestClock.adjust("1 second")
      const probes = yield* Effect.forEach(Array.from({ length: 3 }), () =>
        Effect.forkChild(breaker.execute(Effect.sleep("1 second")), { startImmediately: true }))
      const rejected = yield* Effect.exit(breaker.execute(ok))
      if (state !== "Closed") assert.isTrue(Exit.isFailure(rejected), "a fourth probe must wait")
      yield* TestClock.adjust("1 second")
      const done = yield* Effect.forEach(probes, Fiber.await)
      assert.isTrue(done.every(Exit.isSuccess), "every probe slot is free again")
      assert.strictEqual(yield* tagOf(breaker), "Closed")
    }).pipe(Random.withSeed(seed))

  for (const state of ["Closed", "Open", "HalfOpen"] as const) {
    it.effect(`in state ${state}, for 10 seeds`, () =>
      Effect.forEach(Array.from({ length: 10 }, (_, i) => i + 1), (seed) => scenario(seed, state), { discard: true }))
  }
})

describe("rejections", () => {
  it.effect("a rejection is a typed, tagged, yieldable Error with its fields, without a stack trace", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "payments", trip: CircuitBreaker.consecutive(1), openFor: "5 seconds", log: false })
      yield* Effect.exit(breaker.execute(Effect.fail("down")))
      const error = yield* Effect.flip(breaker.execute(ok))
      assert.isTrue(error instanceof Error)
      assert.isTrue(error instanceof CircuitBreaker.BreakerOpen)
      assert.strictEqual(error._tag, "BreakerOpen")
      assert.strictEqual(error._tag === "BreakerOpen" && error.name, "payments")
      assert.strictEqual(error.message, "Circuit breaker payments is open; retry after 5s")
      assert.strictEqual(error.stack, "BreakerOpen: Circuit breaker payments is open; retry after 5s")
      // yieldable: yielding it fails with it
      const again = yield* Effect.flip(Effect.gen(function*() {
        return yield* (error as CircuitBreaker.BreakerOpen)
      }))
      assert.strictEqual(again, error)
      const caught = yield* breaker.execute(ok).pipe(Effect.catchTag("BreakerOpen", (e) => Effect.succeed(`busy: ${e.name}`)))
      assert.strictEqual(caught, "busy: payments")
      // built by users, too, without a trace
      const made = new CircuitBreaker.BreakerOpen({ name: "x", retryAfter: undefined })
      assert.strictEqual(made.stack, "BreakerOpen: Circuit breaker x is open")
    }))
})
