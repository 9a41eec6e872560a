// Separate OS processes sharing state through one real redis-server: four processes hammering one
// half-open circuit are let in exactly the configured probes between them, and two processes
// drawing from one retry budget never exceed it together.
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { inject } from "vitest"
import { CircuitBreaker } from "../../src/index.ts"
import { CircuitBreakerStore } from "../../src/redis/index.ts"
import { sharedBreakerOptions, sharedStoreOptions } from "./fixtures/sharedBreaker.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { killAll, runWorker } from "./workers.ts"

afterEach(killAll)

describe("several processes on one Redis", () => {
  it("four processes admit exactly the configured probes of a half-open circuit between them", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("probes")
    // Trip the shared circuit from this process (same options as the workers).
    await Effect.runPromise(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make(sharedBreakerOptions).pipe(
        Effect.provide(CircuitBreakerStore.layer(sharedStoreOptions(prefix)))
      )
      yield* Effect.flip(breaker.execute(Effect.fail("down")))
      assert.strictEqual((yield* CircuitBreakerStore.read("shared", { prefix })).tag, "Open")
    }).pipe(Effect.scoped, Effect.provide(redisLayer(port))))
    // Every worker fires 10 concurrent calls at the same instant, well after the open period.
    const startAt = Date.now() + 6_000
    const results = await Promise.all([0, 1, 2, 3].map((i) =>
      runWorker({ mode: "probes", port, prefix, name: `p${i}`, startAt, attempts: 10 })
    )) as Array<{ admitted: number; rejected: number }>
    const admitted = results.reduce((n, r) => n + r.admitted, 0)
    const rejected = results.reduce((n, r) => n + r.rejected, 0)
    assert.strictEqual(admitted, 3)
    assert.strictEqual(rejected, 37)
  }, 30_000)

  it("two processes drawing from one budget never exceed it together", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("budget")
    // capacity 50 at 5 a retry: 10 retries for the whole fleet; each process asks for 20.
    const startAt = Date.now() + 2_000
    const results = await Promise.all([0, 1].map((i) =>
      runWorker({ mode: "budget", port, prefix, name: `b${i}`, startAt, attempts: 20 })
    )) as Array<{ granted: number }>
    assert.strictEqual(results[0]!.granted + results[1]!.granted, 10)
  }, 30_000)
})
