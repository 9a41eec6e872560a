// The store service: breakers use the store of their context (memory by default); a store that
// does not decide locally is asked for every admission and outcome, in public words.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Random } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker, CircuitBreakerStore } from "../src/index.ts"
import { closedPathOf } from "../src/internal/breaker/circuit.ts"
import { interruptRandomly } from "./support/interrupt.ts"

/** A store that keeps state in memory but hides its local side, and logs what the breaker asks. */
const remoteLike = (log: Array<string>): CircuitBreakerStore.CircuitBreakerStore["Service"] => ({
  circuit: (name, config, clock) => {
    const inner = CircuitBreakerStore.memory.circuit(name, config, clock)
    return {
      local: undefined,
      admit: Effect.tap(inner.admit, (a) => Effect.sync(() => log.push(`admit ${name}: ${a._tag}${a._tag === "Admitted" && a.probe ? " (probe)" : ""}`))),
      record: (token, outcome) => Effect.tap(inner.record(token, outcome), () => Effect.sync(() => log.push(`record ${name}: ${outcome._tag}`))),
      signal: (signal) => Effect.tap(inner.signal(signal), () => Effect.sync(() => log.push(`signal ${name}: ${signal}`))),
      read: inner.read
    }
  }
})

describe("CircuitBreakerStore", () => {
  it.effect("without a store in the context, a breaker keeps its circuit in memory, with the fast path", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ log: false })
      assert.strictEqual(yield* breaker.execute(Effect.succeed(1)), 1)
      assert.isDefined(closedPathOf(breaker))
      const provided = yield* CircuitBreaker.make({ log: false }).pipe(Effect.provide(CircuitBreakerStore.layerMemory))
      assert.isDefined(closedPathOf(provided))
    }))

  it.effect("a breaker uses the store of its context: admissions, probes, outcomes and signals in public words", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const breaker = yield* CircuitBreaker.make({ name: "api", trip: CircuitBreaker.consecutive(1), openFor: "1 second", log: false }).pipe(
        Effect.provide(Layer.succeed(CircuitBreakerStore.CircuitBreakerStore, remoteLike(log)))
      )
      assert.isUndefined(closedPathOf(breaker), "a store without a local side has no fast path")
      yield* breaker.execute(Effect.succeed(1))
      yield* Effect.exit(breaker.execute(Effect.fail("down")))
      const rejected = yield* Effect.flip(breaker.execute(Effect.succeed(1)))
      assert.strictEqual(rejected._tag, "BreakerOpen")
      yield* TestClock.adjust("1 second")
      yield* breaker.execute(Effect.succeed(1))
      yield* breaker.isolate
      assert.deepStrictEqual(log, [
        "admit api: Admitted",
        "record api: Success",
        "admit api: Admitted",
        "record api: Failure",
        "admit api: Rejected",
        "admit api: Admitted (probe)",
        "record api: Success",
        "signal api: Isolate"
      ])
    }))

  it.effect("keyed circuits open one store circuit per key, named <name>/<key>", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const keyed = yield* CircuitBreaker.keyed<string>({ name: "hosts", log: false }).pipe(
        Effect.provide(Layer.succeed(CircuitBreakerStore.CircuitBreakerStore, remoteLike(log)))
      )
      yield* keyed.execute("a", Effect.succeed(1))
      yield* keyed.execute("b", Effect.succeed(1))
      assert.deepStrictEqual(log.filter((l) => l.startsWith("admit")), ["admit hosts/a: Admitted", "admit hosts/b: Admitted"])
    }))

  it.effect("the current store: the context's, else memory", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* CircuitBreakerStore.current, CircuitBreakerStore.memory)
      const custom = remoteLike([])
      const found = yield* CircuitBreakerStore.current.pipe(Effect.provideService(CircuitBreakerStore.CircuitBreakerStore, custom))
      assert.strictEqual(found, custom)
    }))

  it.effect("random interruption while a store admits and settles (an effect each) leaks no probe slot", () =>
    Effect.forEach([1, 2, 3, 4, 5], (seed) =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", halfOpen: { probes: 3 }, log: false }).pipe(
          Effect.provide(Layer.succeed(CircuitBreakerStore.CircuitBreakerStore, remoteLike([])))
        )
        yield* Effect.exit(breaker.execute(Effect.fail("down")))
        yield* TestClock.adjust("1 second")
        // 30 calls, each interrupted after a random number of ms (some before they even start)
        yield* interruptRandomly(breaker, 30, 4)
        const state = yield* breaker.state
        assert.isTrue(state._tag === "HalfOpen" && state.probesInFlight === 0, JSON.stringify(state))
        const probes = yield* Effect.forEach(Array.from({ length: 3 }), () => Effect.forkChild(breaker.execute(Effect.succeed(1)), { startImmediately: true }))
        assert.isTrue((yield* Effect.forEach(probes, Fiber.await)).every(Exit.isSuccess))
      }).pipe(Random.withSeed(seed)), { discard: true }))
})
