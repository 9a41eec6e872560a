// Separate OS processes sharing state through one real redis-server (the store's default mode,
// the near cache): four processes hammering one half-open circuit are let in exactly the
// configured probes between them, an opening reaches processes that only make local calls, and
// two processes drawing from one retry budget (in leases) never exceed it together. The probe test steps its workers
// through barriers (ready, go, decided, release), never through start times, so a slow or loaded
// machine changes how long it takes, not what it counts.
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { Redis } from "effect/persistence"
import { inject } from "vitest"
import { CircuitBreaker } from "../../src/index.ts"
import { CircuitBreakerStore } from "../../src/redis/index.ts"
import { sharedBreakerOptions, sharedOpenForMillis, sharedStoreOptions } from "./fixtures/sharedBreaker.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { killAll, runWorker, startWorker } from "./workers.ts"

afterEach(killAll)

describe("several processes on one Redis", () => {
  it("four processes admit exactly the configured probes of a half-open circuit between them", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("probes")
    const redisMillis = Effect.gen(function*() {
      const [seconds, micros] = yield* (yield* Redis.Redis).send<[string, string]>("TIME")
      return Number(seconds) * 1000 + Number(micros) / 1000
    })
    const withRedis = <A, E>(effect: Effect.Effect<A, E, Redis.Redis | Scope.Scope>) =>
      Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(redisLayer(port))))
    // Trip the shared circuit from this process (same options as the workers), at Redis time `trippedAt`.
    const trippedAt = await withRedis(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make(sharedBreakerOptions).pipe(
        Effect.provide(CircuitBreakerStore.layer(sharedStoreOptions(prefix)))
      )
      yield* Effect.flip(breaker.execute(Effect.fail("down")))
      assert.strictEqual((yield* CircuitBreakerStore.read("shared", { prefix })).tag, "Open")
      return yield* redisMillis
    }))
    const workers = [0, 1, 2, 3].map((i) => startWorker({ mode: "probes", port, prefix, name: `p${i}`, attempts: 10 }, 50_000))
    await Promise.all(workers.map((w) => w.event("ready")))
    // The circuit's clock is Redis' TIME: wait until it has passed the open period, so the first
    // call of any worker finds the circuit ready to go half-open (a condition, not a race).
    await withRedis(Effect.gen(function*() {
      while ((yield* redisMillis) <= trippedAt + sharedOpenForMillis) yield* Effect.sleep("20 millis")
    }))
    for (const w of workers) w.send("go")
    // Admitted calls are held until every worker's 10 calls have been let in or rejected, so the
    // circuit stays half-open (its probes unfinished) while all 40 calls are decided.
    await Promise.all(workers.map((w) => w.event("decided")))
    for (const w of workers) w.send("release")
    const results = await Promise.all(workers.map((w) => w.result)) as Array<{ admitted: number; rejected: number }>
    const admitted = results.reduce((n, r) => n + r.admitted, 0)
    const rejected = results.reduce((n, r) => n + r.rejected, 0)
    assert.strictEqual(admitted, 3)
    assert.strictEqual(rejected, 37)
    // The three probes succeeded once released: the shared circuit closed.
    assert.strictEqual((await withRedis(CircuitBreakerStore.read("shared", { prefix }))).tag, "Closed")
  }, 60_000)

  it("near cache: an opening made in this process reaches two other OS processes that only make local calls", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("watch")
    const workers = [0, 1].map((i) => startWorker({ mode: "watch", port, prefix, name: `w${i}` }, 50_000))
    await Promise.all(workers.map((w) => w.event("ready")))
    await Effect.runPromise(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ ...sharedBreakerOptions, openFor: "1 minute" }).pipe(
        Effect.provide(CircuitBreakerStore.layer(sharedStoreOptions(prefix)))
      )
      yield* breaker.execute(Effect.succeed("learn"))
      yield* Effect.flip(breaker.execute(Effect.fail("down"))) // consecutive(1): flushed by the call
      assert.strictEqual((yield* CircuitBreakerStore.read("shared", { prefix })).tag, "Open")
    }).pipe(Effect.scoped, Effect.provide(redisLayer(port))))
    const results = await Promise.all(workers.map((w) => w.result)) as Array<{ learned: boolean; calls: number }>
    for (const r of results) assert.isTrue(r.learned, JSON.stringify(r))
  }, 60_000)

  it("two processes drawing from one budget never exceed it together", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("budget")
    // capacity 50 at 5 a retry: 10 retries for the whole fleet; each process asks for 20.
    const startAt = Date.now() + 2_000
    const results = await Promise.all([0, 1].map((i) =>
      runWorker({ mode: "budget", port, prefix, name: `b${i}`, startAt, attempts: 20 }, 50_000)
    )) as Array<{ granted: number }>
    assert.strictEqual(results[0]!.granted + results[1]!.granted, 10)
  }, 60_000)
})
