// The shared retry budget hands out leases: most retries cost no round trip, the fleet never
// spends more than the bucket held, what it can spend after the bucket reads empty is bounded by
// processes × leaseSize, and unused leased tokens come back (on the flush, and when the scope
// closes). Each "process" is a bucket with its own connection; the flush runs on the TestClock.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Scope } from "effect"
import { Redis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { Failure, type RetryBudget } from "../../src/index.ts"
import { RetryBudgetStore } from "../../src/redis/index.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { type Counts, countingRedis, waitFor } from "./support.ts"

const failure = Failure.transient(new Error("503"), { kind: "Server" })

const level = (key: string) =>
  Effect.flatMap(Effect.service(Redis.Redis), (r) => r.send<string | null>("GET", key)).pipe(
    Effect.map((v) => (v === null ? undefined : Number(v))),
    Effect.provide(redisLayer()),
    Effect.orDie
  )

const bucket = (options: RetryBudgetStore.Options, counts: Counts) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(countingRedis(counts))
    return yield* RetryBudgetStore.tokenBucket({ storeTimeout: "20 seconds", ...options }).pipe(Effect.provide(context))
  })

describe("shared retry budget: leases", () => {
  it.effect("three processes: exactly the bucket's retries, fewer round trips, bounded spending after it reads empty", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("lease")
      const options = { name: "api", prefix, capacity: 100, retryCost: 5, leaseSize: 20 }
      const counts = [0, 1, 2].map((): Counts => ({ evals: 0, sends: 0 }))
      const fleet: Array<RetryBudget.RetryBudget> = yield* Effect.forEach(counts, (c) => bucket(options, c))
      let granted = 0
      let asked = 0
      let afterEmpty: number | undefined
      // Round robin until a whole round is denied.
      for (let round = 0; round < 100; round++) {
        let any = false
        for (const b of fleet) {
          asked++
          if (yield* b.tryAcquire(failure)) {
            granted++
            any = true
            if (afterEmpty !== undefined) afterEmpty++
          }
          if (afterEmpty === undefined && (yield* level(prefix + "api")) === 0) afterEmpty = 0
        }
        if (!any) break
      }
      assert.strictEqual(granted, 100 / 5, "leases are debited first: never more than the bucket held")
      const evals = counts.reduce((n, c) => n + c.evals, 0)
      assert.isBelow(evals, asked, `${evals} script calls for ${asked} retries asked`)
      assert.isDefined(afterEmpty)
      assert.isAtMost(afterEmpty!, (3 * 20) / 5, "spent after the bucket read empty: at most processes × leaseSize")
    }).pipe(Effect.scoped), 30_000)

  it.effect("unused leased tokens go back with the next flush and when the scope closes", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("giveback")
      const key = prefix + "api"
      const options = { name: "api", prefix, capacity: 100, retryCost: 5, leaseSize: 20, flushEvery: "1 second" } as const
      const one = yield* bucket(options, { evals: 0, sends: 0 })
      assert.isTrue(yield* one.tryAcquire(failure))
      assert.strictEqual(yield* level(key), 80, "a lease of 20")
      assert.strictEqual(one.statsUnsafe().available, 95, "80 shared + 15 still leased")
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* waitFor(() => Effect.map(level(key), (v) => v === 95)), "15 unused tokens returned")
      // A second process's lease, returned by its finalizer.
      const scope = yield* Scope.make()
      const two = yield* bucket(options, { evals: 0, sends: 0 }).pipe(Scope.provide(scope))
      assert.isTrue(yield* two.tryAcquire(failure))
      assert.strictEqual(yield* level(key), 75)
      yield* Scope.close(scope, undefined as never)
      assert.strictEqual(yield* level(key), 90, "closing the scope returned the 15 it held")
    }).pipe(Effect.scoped), 30_000)

  it.effect("a full bucket: one script call per lease (4 retries of 5 tokens in a lease of 20)", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("full")
      const counts = [0, 1, 2].map((): Counts => ({ evals: 0, sends: 0 }))
      const fleet = yield* Effect.forEach(counts, (c) => bucket({ name: "api", prefix, capacity: 500, retryCost: 5, leaseSize: 20 }, c))
      for (let i = 0; i < 8; i++) for (const b of fleet) assert.isTrue(yield* b.tryAcquire(failure))
      assert.deepStrictEqual(counts.map((c) => c.evals), [2, 2, 2])
      assert.strictEqual(yield* level(prefix + "api"), 500 - 3 * 40)
    }).pipe(Effect.scoped))

  it.effect("a lease is not spent past its time to live (this process's clock): the next retry asks Redis and the old lease goes back", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("deadline")
      const counts: Counts = { evals: 0, sends: 0 }
      const one = yield* bucket({ name: "api", prefix, capacity: 100, retryCost: 5, leaseSize: 20, leaseTimeToLive: "10 seconds", flushEvery: "1 hour" }, counts)
      assert.isTrue(yield* one.tryAcquire(failure))
      assert.isTrue(yield* one.tryAcquire(failure))
      assert.strictEqual(counts.evals, 1, "the second retry spent from the lease")
      yield* TestClock.adjust("10 seconds")
      assert.isTrue(yield* one.tryAcquire(failure))
      assert.strictEqual(counts.evals, 2, "past its deadline the lease is not spent: a new one is asked for")
      // 100 − 20 (first lease) + 10 (its unspent tokens, given back with the second call) − 20.
      assert.strictEqual(yield* level(prefix + "api"), 70)
    }).pipe(Effect.scoped))

  it.effect("leaseSize 0: one script call per retry", () =>
    Effect.gen(function*() {
      const counts: Counts = { evals: 0, sends: 0 }
      const strict = yield* bucket({ name: "api", prefix: uniquePrefix("strictbudget"), capacity: 100, retryCost: 5, leaseSize: 0 }, counts)
      for (let i = 0; i < 5; i++) assert.isTrue(yield* strict.tryAcquire(failure))
      assert.strictEqual(counts.evals, 5)
    }).pipe(Effect.scoped))
})
