import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Failure, Retry, RetryBudget } from "../src/index.ts"

const schedule = Backoff.fixed("100 millis").pipe(Backoff.recurs(3))
const server = Failure.transient("down", { kind: "Server" })
const timeout = Failure.transient("slow", { kind: "Timeout" })

/** A call that always fails after 10 ms (so concurrent callers are all in flight before anyone retries). */
const outage = (attempts: { n: number }) =>
  Effect.sleep("10 millis").pipe(
    Effect.andThen(Effect.sync(() => attempts.n++)),
    Effect.andThen(Effect.fail(server))
  )

/** N concurrent callers of `outage`, each retried up to 3 times; returns the total attempts. */
const runOutage = (callers: number, budget: RetryBudget.Budget | undefined) =>
  Effect.gen(function*() {
    const attempts = { n: 0 }
    const call = outage(attempts).pipe(Retry.retry({ schedule, log: false, ...(budget ? { budget } : {}) }))
    const fiber = yield* Effect.forkChild(
      Effect.all(Array.from({ length: callers }, () => Effect.flip(call)), { concurrency: "unbounded" })
    )
    yield* TestClock.adjust("10 seconds")
    const errors = yield* Fiber.join(fiber)
    return { attempts: attempts.n, errors }
  })

describe("RetryBudget.tokenBucket", () => {
  it.effect("an outage's budget denials make one Error line per spell, not one per call", () => {
    const errors: Array<Record<string, unknown>> = []
    const capture = Logger.make((o) => {
      if (o.logLevel === "Error") errors.push({ ...o.fiber.getRef(References.CurrentLogAnnotations) })
    })
    return Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 5 })
      const retry = Retry.retry({ schedule, budget, name: "upload" })
      const failOnce = (call: Effect.Effect<string, Failure.Transient<string>>) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(retry)))
          yield* TestClock.adjust("1 second")
          return yield* Fiber.join(fiber)
        })
      // The first call's first retry spends the bucket, its second is denied: the spell's line.
      yield* failOnce(Effect.fail(server))
      // Ten more calls, each denied: counted, not logged.
      for (let i = 0; i < 10; i++) {
        const error = yield* failOnce(Effect.fail(server))
        assert.isTrue(error._tag === "RetriesExhausted" && error.reason === "budget")
      }
      assert.strictEqual(errors.length, 1)
      assert.strictEqual(errors[0]!.reason, "budget")
      assert.isUndefined(errors[0]!.budgetDenialsNotLogged)
      // Five successes refund five tokens: the next retry is granted, which ends the spell, and the
      // next denial is logged with the count of those that were not.
      for (let i = 0; i < 5; i++) yield* Effect.succeed("ok").pipe(retry)
      yield* failOnce(Effect.fail(server))
      assert.strictEqual(errors.length, 2)
      assert.strictEqual(errors[1]!.budgetDenialsNotLogged, 10)
      const stats = yield* budget.stats
      assert.strictEqual(stats.retriesDenied, 12)
    }).pipe(Effect.provide(Logger.layer([capture])))
  })

  it.effect("a denied retry ends Retry.retry with reason \"budget\"", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 5 })
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.fail(server).pipe(Retry.retry({ schedule, budget, log: false }))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      if (error._tag !== "RetriesExhausted") return
      assert.strictEqual(error.reason, "budget")
      assert.strictEqual(error.attempts, 2) // one retry paid with the 5 tokens, the next denied
      const stats = yield* budget.stats
      assert.deepStrictEqual(stats, { strategy: "tokenBucket", available: 0, requests: 1, retriesGranted: 1, retriesDenied: 1 })
    }))

  it.effect("a retry of a Timeout costs timeoutRetryCost", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 15 })
      assert.isTrue(yield* budget.tryAcquire(timeout)) // 15 - 10
      assert.isFalse(yield* budget.tryAcquire(timeout)) // 5 < 10
      assert.isTrue(yield* budget.tryAcquire(server)) // 5 - 5
      assert.strictEqual(budget.statsUnsafe().available, 0)
    }))

  it.effect("refunds restore capacity, never above it", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 12, retryCost: 5, timeoutRetryCost: 10 })
      assert.isTrue(yield* budget.tryAcquire(server))
      assert.strictEqual(budget.statsUnsafe().available, 7)
      budget.onSuccess(true, server) // refunds the retry's cost
      assert.strictEqual(budget.statsUnsafe().available, 12)
      assert.isTrue(yield* budget.tryAcquire(timeout))
      budget.onSuccess(false) // a first-try success refunds 1
      assert.strictEqual(budget.statsUnsafe().available, 3)
      budget.onSuccess(true, timeout)
      assert.strictEqual(budget.statsUnsafe().available, 12) // 3 + 10, capped at 12
    }))

  it.effect("Retry.retry refunds a retried success through the budget", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 10 })
      let calls = 0
      const flaky = Effect.suspend(() => (++calls === 1 ? Effect.fail(server) : Effect.succeed("ok")))
      const fiber = yield* Effect.forkChild(flaky.pipe(Retry.retry({ schedule, budget, log: false })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      const stats = budget.statsUnsafe()
      assert.strictEqual(stats.available, 10)
      assert.strictEqual(stats.retriesGranted, 1)
      assert.strictEqual(stats.requests, 1)
    }))

  it.effect("under a full outage, 100 callers spend at most capacity / retryCost retries", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket() // 500 tokens, 5 per retry: 100 retries
      const { attempts, errors } = yield* runOutage(100, budget)
      assert.strictEqual(attempts, 200)
      assert.isTrue(errors.every((e) => e._tag === "RetriesExhausted"))
    }))

  it.effect("bad options fail with a PolicyError naming each field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(RetryBudget.tokenBucket({ capacity: -1, retryCost: Number.NaN }))
      // NaN breaks two rules of retryCost (an integer, at least 0): each field is named.
      assert.deepStrictEqual([...new Set(error.issues.map((i) => i.path.join(".")))], ["capacity", "retryCost"])
    }))
})

describe("RetryBudget.ratio", () => {
  it.effect("without a budget, 3 retries amplify a full outage 4×; a 10 % budget keeps it near 1.1×", () =>
    Effect.gen(function*() {
      const unbudgeted = yield* runOutage(100, undefined)
      assert.strictEqual(unbudgeted.attempts, 400)
      const budget = yield* RetryBudget.ratio({ ratio: 0.1, minPerSecond: 0 })
      const { attempts, errors } = yield* runOutage(100, budget)
      assert.isAtMost(attempts, 110)
      assert.isAtLeast(attempts, 105) // the budget does grant retries, about 10 of them
      assert.isTrue(errors.some((e) => e._tag === "RetriesExhausted" && e.reason === "budget"))
      const stats = budget.statsUnsafe()
      assert.strictEqual(stats.requests, 100)
      assert.strictEqual(stats.retriesGranted, attempts - 100)
    }))

  it.effect("the minimum per second is a reserve for low traffic", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.ratio({ ratio: 0, minPerSecond: 1, window: "10 seconds" })
      assert.strictEqual(budget.statsUnsafe().available, 10)
      for (let i = 0; i < 10; i++) assert.isTrue(yield* budget.tryAcquire(server))
      assert.isFalse(yield* budget.tryAcquire(server))
      assert.strictEqual(budget.statsUnsafe().retriesDenied, 1)
    }))

  it.effect("the window slides with the Clock: old requests and retries are forgotten", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.ratio({ ratio: 0.5, minPerSecond: 0, window: "10 seconds" })
      for (let i = 0; i < 4; i++) budget.onRequest()
      assert.isTrue(yield* budget.tryAcquire(server))
      assert.strictEqual(budget.statsUnsafe().available, 1) // 0.5 × 4 − 1
      yield* TestClock.adjust("5 seconds")
      budget.onRequest()
      budget.onRequest()
      assert.strictEqual(budget.statsUnsafe().available, 2) // 0.5 × 6 − 1
      yield* TestClock.adjust("6 seconds") // the first 4 requests and the retry left the window
      assert.strictEqual(budget.statsUnsafe().available, 1) // 0.5 × 2
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(budget.statsUnsafe().available, 0)
      assert.isFalse(yield* budget.tryAcquire(server))
    }))

  it.effect("bad options fail with a PolicyError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(RetryBudget.ratio({ ratio: -0.1, window: "0 seconds", buckets: 1.5 }))
      assert.deepStrictEqual(error.issues.map((i) => i.path), [["ratio"], ["window"], ["buckets"]])
    }))
})

// A spent local budget answers before the retry loop builds its schedule state; the call must end
// exactly as the loop would end it.
describe("a spent budget, answered before the retry loop", () => {
  const spent = (type: "tokenBucket" | "ratio") =>
    type === "tokenBucket"
      ? RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 })
      : RetryBudget.ratio({ ratio: 0, minPerSecond: 0 })

  for (const type of ["tokenBucket", "ratio"] as const) {
    it.effect(`${type}: the same RetriesExhausted and counts as through the loop (forced by a while hook)`, () =>
      Effect.gen(function*() {
        const results = []
        for (const forceLoop of [false, true]) {
          const budget = yield* spent(type)
          let attempts = 0
          const call = Effect.suspend(() => {
            attempts++
            return Effect.fail(server)
          })
          const error = yield* Effect.flip(call.pipe(Retry.retry({
            maxRetries: 3,
            initialDelay: 10,
            budget,
            log: false,
            ...(forceLoop ? { while: () => true } : {})
          })))
          assert.isTrue(error._tag === "RetriesExhausted")
          if (error._tag !== "RetriesExhausted") return
          results.push({
            reason: error.reason,
            attempts: error.attempts,
            elapsed: error.elapsed,
            last: error.last,
            calls: attempts,
            denied: budget.statsUnsafe().retriesDenied,
            granted: budget.statsUnsafe().retriesGranted
          })
        }
        assert.deepStrictEqual(results[0], results[1])
        assert.strictEqual(results[0]!.reason, "budget")
        assert.strictEqual(results[0]!.denied, 1)
      }))
  }

  it.effect("a schedule that stops first, a kind not retried, or a hint keep the loop's own reason", () =>
    Effect.gen(function*() {
      const reasonOf = (options: Retry.RetryPolicyOptions<unknown>, failure: unknown = server) =>
        Effect.gen(function*() {
          const budget = yield* spent("tokenBucket")
          const error = yield* Effect.flip(Effect.fail(failure).pipe(Retry.retry({ ...options, budget, log: false })))
          return error._tag === "RetriesExhausted" ? error.reason : error._tag
        })
      assert.strictEqual(yield* reasonOf({ maxRetries: 0 }), "schedule")
      assert.strictEqual(yield* reasonOf({ maxRetries: 3, retryOn: ["Network"] }), "kind")
      // A first delay beyond the policy's time limit: the schedule ends the call.
      assert.strictEqual(yield* reasonOf({ maxRetries: 3, initialDelay: "10 seconds", maxDelay: "10 seconds", jitter: "none", timeout: "5 seconds" }), "schedule")
      const hinted = Failure.transient("slow down", { kind: "RateLimit", retryAfter: "1 hour" })
      assert.strictEqual(yield* reasonOf({ maxRetries: 3 }, hinted), "retryAfter")
      // A budget with tokens left is asked by the loop as before.
      const fresh = yield* RetryBudget.tokenBucket({ capacity: 10, retryCost: 5 })
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.fail(server).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, budget: fresh, log: false }))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(error._tag === "RetriesExhausted" && error.reason === "budget" && error.attempts === 3)
    }))
})
