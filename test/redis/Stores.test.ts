// The Redis stores in one process against the shared test server: two breakers on one store see
// one circuit (changes and stats included), the shared budget refunds successes, and the
// dead-letter stream trims to its maximum length and pages by id.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { CircuitBreaker, DeadLetter, Failure, Pipeline, Resilience } from "../../src/index.ts"
import { CircuitBreakerStore, DeadLetterStream, RetryBudgetStore } from "../../src/redis/index.ts"
import { storeTimeout } from "./fixtures/sharedBreaker.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"

const letter = (operation: string): DeadLetter.Letter => ({
  operation,
  error: { message: "gave up" },
  attempts: 2,
  firstAttemptAt: 1,
  lastAttemptAt: 2,
  tags: { k: "v" }
})

describe("Redis stores", () => {
  it.live("strict: two breakers on one store share a circuit; changes and stats follow it", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("shared")
      const options: CircuitBreaker.Options = { name: "db", trip: CircuitBreaker.consecutive(2), openFor: "10 seconds", log: false }
      // Strict: every call is a script call, so the second failure anywhere trips at once.
      // The store as a layer (the way programs provide it)…
      const a = yield* CircuitBreaker.make(options).pipe(Effect.provide(CircuitBreakerStore.layer({ prefix, storeTimeout, consistency: "strict" })))
      // …and as the deprecated `store` option.
      const b = yield* CircuitBreaker.make({ ...options, store: yield* CircuitBreakerStore.make({ prefix, storeTimeout, consistency: "strict" }) })
      const seen = yield* a.changes.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* Effect.flip(a.execute(Effect.fail("e1")))
      yield* Effect.flip(b.execute(Effect.fail("e2"))) // the second failure anywhere trips the shared circuit
      const rejected = yield* Effect.flip(a.execute(Effect.succeed(1)))
      assert.strictEqual(rejected._tag, "BreakerOpen")
      assert.isTrue(rejected._tag === "BreakerOpen" && rejected.retryAfter !== undefined)
      assert.strictEqual((yield* a.state)._tag, "Open")
      const stats = yield* a.stats
      assert.strictEqual(stats.state, "Open")
      assert.strictEqual(stats.rejections, 1)
      yield* a.reset
      assert.strictEqual(yield* b.execute(Effect.succeed("ok")), "ok")
      yield* b.isolate
      assert.strictEqual((yield* Effect.flip(a.execute(Effect.succeed(1))))._tag, "BreakerOpen")
      yield* Fiber.interrupt(seen)
    }).pipe(Effect.scoped, Effect.provide(redisLayer())))

  it.live("Retry.retry with a Redis-backed breaker goes through the shared circuit on every attempt", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("retry")
      const options: CircuitBreaker.Options = { name: "api", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }
      const here = yield* CircuitBreaker.make({ ...options, store: yield* CircuitBreakerStore.make({ prefix, storeTimeout }) })
      const there = yield* CircuitBreaker.make({ ...options, store: yield* CircuitBreakerStore.make({ prefix, storeTimeout }) })
      let calls = 0
      const down = Effect.suspend(() => (calls++, Effect.fail({ status: 503 })))
      const error = yield* Effect.flip(down.pipe(Pipeline.retryThroughBreaker(here, { maxRetries: 5, initialDelay: 1, jitter: "none", log: false })))
      assert.strictEqual(calls, 3)
      assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
      // The other process's breaker sees the circuit the retries opened.
      assert.strictEqual((yield* there.state)._tag, "Open")
    }).pipe(Effect.scoped, Effect.provide(redisLayer())))

  it.live("a pipeline can keep its circuit and its budget in Redis", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("pipeline")
      const breakerStore = yield* CircuitBreakerStore.make({ prefix: `${prefix}breaker:`, storeTimeout })
      const budget = yield* RetryBudgetStore.tokenBucket({ name: "orders", prefix: `${prefix}budget:`, capacity: 10, retryCost: 5, storeTimeout })
      const pipeline = yield* Resilience.make({
        name: "orders",
        retry: { maxRetries: 5, initialDelay: 1, jitter: "none" },
        circuitBreaker: { consecutiveFailures: 10 }
      }, { breakerStore, budget, log: false })
      let calls = 0
      const error = yield* Effect.flip(pipeline.execute(Effect.suspend(() => (calls++, Effect.fail({ status: 503 })))))
      // The shared bucket (10 tokens, 5 a retry) allowed two retries.
      assert.strictEqual(calls, 3)
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "budget")
      // Every attempt went through the shared circuit: its stored state counts the failures.
      const circuit = yield* CircuitBreakerStore.read("orders", { prefix: `${prefix}breaker:` })
      assert.strictEqual(circuit.tag, "Closed")
      assert.isNotNull(circuit.raw)
      assert.strictEqual((yield* pipeline.breaker!.stats).failures, 3)
    }).pipe(Effect.scoped, Effect.provide(redisLayer())))

  it.live("the shared budget spends and refunds through Redis", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("budget")
      const one = yield* RetryBudgetStore.tokenBucket({ name: "api", prefix, capacity: 10, retryCost: 5, storeTimeout })
      const two = yield* RetryBudgetStore.tokenBucket({ name: "api", prefix, capacity: 10, retryCost: 5, storeTimeout })
      const failure = Failure.transient(new Error("503"), { kind: "Server" })
      assert.isTrue(yield* one.tryAcquire(failure))
      assert.isTrue(yield* two.tryAcquire(failure))
      assert.isFalse(yield* one.tryAcquire(failure))
      two.onSuccess(true, failure) // refunds 5, sent with two's next draw (or its background flush)
      assert.isTrue(yield* two.tryAcquire(failure))
      assert.isFalse(yield* one.tryAcquire(failure))
      assert.strictEqual(one.statsUnsafe().available, 0)
      assert.strictEqual(one.statsUnsafe().retriesDenied, 2)
      const bad = yield* Effect.flip(RetryBudgetStore.tokenBucket({ name: "", capacity: -1 }))
      assert.match(bad.message, /name/)
    }).pipe(Effect.scoped, Effect.provide(redisLayer())))

  it.live("dead letters: XADD with a maximum length, list, and a reader that pages by id", () =>
    Effect.gen(function*() {
      const stream = uniquePrefix("letters") + "stream"
      const letters = yield* Effect.gen(function*() {
        const deadLetters = yield* DeadLetter.DeadLetters
        for (let i = 0; i < 7; i++) yield* deadLetters.publish(letter(`op${i}`))
        return yield* deadLetters.list
      }).pipe(Effect.provide(DeadLetterStream.layer({ stream, maxLength: 5, storeTimeout })))
      assert.deepStrictEqual(letters.map((l) => l.operation), ["op2", "op3", "op4", "op5", "op6"])
      assert.deepStrictEqual(letters[0]!.tags, { k: "v" })
      const first = yield* DeadLetterStream.read({ stream, count: 2 })
      const rest = yield* DeadLetterStream.read({ stream, after: first.at(-1)!.id })
      assert.deepStrictEqual([...first, ...rest].map((e) => e.letter.operation), ["op2", "op3", "op4", "op5", "op6"])
    }).pipe(Effect.scoped, Effect.provide(redisLayer())))
})
