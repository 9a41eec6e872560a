import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Logger, References, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Failure, Pipeline, Policy, Retry, type RetryBudget } from "../src/index.ts"
import { quiet, scripted } from "./support/scripted.ts"



describe("Retry.retry", () => {
  it.effect("succeeds at once without touching the schedule", () =>
    Effect.gen(function*() {
      let stepped = 0
      const schedule = Schedule.spaced(10).pipe(Schedule.tap(() => Effect.sync(() => stepped++)))
      const value = yield* Effect.succeed(42).pipe(Retry.retry({ schedule, ...quiet }))
      assert.strictEqual(value, 42)
      assert.strictEqual(stepped, 0)
    }))

  it.effect("retries transient failures on the policy's schedule and returns the success", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 503 }, { code: "ECONNRESET" }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxRetries: 3, initialDelay: 100, jitter: "none", ...quiet })))
      yield* TestClock.adjust(1000)
      assert.strictEqual(yield* Fiber.join(fiber), 3)
      assert.deepStrictEqual(state.times, [0, 100, 300])
    }))

  it.effect("never retries a Permanent failure", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 401 }])
      const error = yield* Effect.flip(effect.pipe(Retry.retry({ maxRetries: 5, initialDelay: 10, ...quiet })))
      assert.strictEqual(error._tag, "Permanent")
      assert.strictEqual(error._tag === "Permanent" && error.kind, "Auth")
      assert.strictEqual(state.calls, 1)
    }))

  it.effect("stops at a Permanent failure that follows transient ones", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 503 }, { status: 404 }])
      const fiber = yield* Effect.forkChild(Effect.flip(effect.pipe(Retry.retry({ maxRetries: 5, initialDelay: 10, jitter: "none", ...quiet }))))
      yield* TestClock.adjust(1000)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag === "Permanent" && error.kind, "NotFound")
      assert.strictEqual(state.calls, 2)
    }))

  it.effect("gives up with RetriesExhausted carrying attempts, elapsed and the last error", () =>
    Effect.gen(function*() {
      const { effect } = scripted([{ status: 500 }, { status: 502 }, { status: 503 }, { status: 504 }, { status: 500 }])
      const fiber = yield* Effect.forkChild(Effect.flip(effect.pipe(Retry.retry({ maxRetries: 3, initialDelay: 100, jitter: "none", ...quiet }))))
      yield* TestClock.adjust(10_000)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      if (error._tag !== "RetriesExhausted") return
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(Duration.toMillis(error.elapsed), 700)
      assert.deepStrictEqual(error.last.error, { status: 504 })
      assert.strictEqual(error.last.kind, "Timeout")
      assert.strictEqual(error.reason, "schedule")
    }))

  it.effect("honours Retry-After when it is longer than the backoff", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 429, headers: { "retry-after": "5" } }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxRetries: 2, initialDelay: 100, jitter: "none", ...quiet })))
      yield* TestClock.adjust(10_000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(state.times, [0, 5000])
    }))

  it.effect("honours retryAfter with an explicit schedule too, unless told not to", () =>
    Effect.gen(function*() {
      const hinted = Failure.transient("busy", { kind: "RateLimit", retryAfter: "2 seconds" })
      const a = scripted([hinted])
      const fa = yield* Effect.forkChild(a.effect.pipe(Retry.retry({ schedule: Backoff.fixed(10).pipe(Backoff.recurs(2)), ...quiet })))
      const b = scripted([hinted])
      const fb = yield* Effect.forkChild(
        b.effect.pipe(Retry.retry({ schedule: Backoff.fixed(10).pipe(Backoff.recurs(2)), honorRetryAfter: false, ...quiet }))
      )
      yield* TestClock.adjust(5000)
      yield* Fiber.join(fa)
      yield* Fiber.join(fb)
      assert.deepStrictEqual(a.state.times, [0, 2000])
      assert.deepStrictEqual(b.state.times, [0, 10])
    }))

  it.effect("`while` sees the error and the attempt number (seed 002's custom conditions)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { effect, state } = scripted(Array.from({ length: 10 }, () => ({ status: 429 })))
      const fiber = yield* Effect.forkChild(Effect.flip(effect.pipe(Retry.retry({
        schedule: Backoff.fixed(10),
        while: (error, attempt) => {
          seen.push(`${error.kind}#${attempt}`)
          return error.kind !== "RateLimit" || attempt <= 3
        },
        ...quiet
      }))))
      yield* TestClock.adjust(1000)
      const error = yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen, ["RateLimit#1", "RateLimit#2", "RateLimit#3", "RateLimit#4"])
      assert.strictEqual(state.calls, 4)
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "predicate")
    }))

  it.effect("`while` may be effectful", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 503 }, { status: 503 }, { status: 503 }])
      const fiber = yield* Effect.forkChild(Effect.flip(effect.pipe(Retry.retry({
        schedule: Backoff.fixed(10),
        while: (_error, attempt) => Effect.succeed(attempt < 2),
        ...quiet
      }))))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(fiber)
      assert.strictEqual(state.calls, 2)
    }))

  it.effect("onRetry runs before each retry with the delay", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const { effect } = scripted([{ status: 503 }, { status: 503 }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({
        maxRetries: 3,
        initialDelay: 100,
        jitter: "none",
        name: "fetch-user",
        onRetry: (event) => Effect.sync(() => events.push(`${event.operation}:${event.attempt}/${event.maxAttempts}:${Duration.toMillis(event.delay)}`)),
        ...quiet
      })))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(events, ["fetch-user:1/4:100", "fetch-user:2/4:200"])
    }))

  it.effect("CurrentAttempt tells the effect which attempt it is", () =>
    Effect.gen(function*() {
      const attempts: Array<number> = []
      const call = Effect.gen(function*() {
        const attempt = yield* Retry.CurrentAttempt
        attempts.push(attempt)
        if (attempt < 3) return yield* Effect.fail({ code: "ETIMEDOUT" })
        return "done"
      })
      const fiber = yield* Effect.forkChild(call.pipe(Retry.retry({ schedule: Backoff.fixed(1), ...quiet })))
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(fiber), "done")
      assert.deepStrictEqual(attempts, [1, 2, 3])
    }))

  it.effect("retryOn / neverRetryOn restrict the kinds a policy retries", () =>
    Effect.gen(function*() {
      const a = scripted([{ status: 429 }, { status: 429 }])
      const ea = yield* Effect.flip(a.effect.pipe(Retry.retry({ maxRetries: 3, initialDelay: 1, neverRetryOn: ["RateLimit"], ...quiet })))
      assert.strictEqual(ea._tag === "RetriesExhausted" && ea.reason, "kind")
      assert.strictEqual(a.state.calls, 1)
      const b = scripted([{ code: "ECONNRESET" }])
      const eb = yield* Effect.flip(b.effect.pipe(Retry.retry({ maxRetries: 3, initialDelay: 1, retryOn: ["Timeout"], ...quiet })))
      assert.strictEqual(eb._tag === "RetriesExhausted" && eb.last.kind, "Network")
      assert.strictEqual(b.state.calls, 1)
    }))

  it.effect("unknownErrors: \"Transient\" retries unrecognised errors", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([new Error("weird")])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxRetries: 1, initialDelay: 1, unknownErrors: "Transient", ...quiet })))
      yield* TestClock.adjust(10)
      assert.strictEqual(yield* Fiber.join(fiber), 2)
      assert.strictEqual(state.calls, 2)
    }))

  it.effect("a custom classifier decides first", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ code: "BUSY" }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({
        maxRetries: 1,
        initialDelay: 1,
        classify: (e: { readonly code: string }) => e.code === "BUSY" ? Failure.transient(e, { kind: "Server" }) : undefined,
        ...quiet
      })))
      yield* TestClock.adjust(10)
      assert.strictEqual(yield* Fiber.join(fiber), 2)
      assert.strictEqual(state.calls, 2)
    }))

  it.effect("does not retry defects", () =>
    Effect.gen(function*() {
      let calls = 0
      const exit = yield* Effect.exit(
        Effect.suspend(() => (calls++, Effect.die("boom"))).pipe(Retry.retry({ maxRetries: 3, initialDelay: 1, ...quiet }))
      )
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      assert.strictEqual(calls, 1)
    }))

  it.effect("interruption in the middle of a backoff stops at once", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted(Array.from({ length: 10 }, () => ({ status: 503 })))
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxRetries: 5, initialDelay: 1000, jitter: "none", ...quiet })))
      yield* TestClock.adjust(500) // first backoff (1000 ms) is half over
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
      yield* TestClock.adjust(60_000)
      assert.strictEqual(state.calls, 1)
    }))

  it.effect("interruption during an attempt stops at once", () =>
    Effect.gen(function*() {
      let calls = 0
      const slow = Effect.suspend(() => {
        calls++
        return calls === 1 ? Effect.fail({ status: 503 }) : Effect.never
      })
      const fiber = yield* Effect.forkChild(slow.pipe(Retry.retry({ maxRetries: 5, initialDelay: 10, jitter: "none", ...quiet })))
      yield* TestClock.adjust(20)
      assert.strictEqual(calls, 2)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust(60_000)
      assert.strictEqual(calls, 2)
    }))

  it.effect("logs Warn per retry, Info on success after retries, Error when exhausted, with the seeds' fields", () => {
    const lines: Array<string> = []
    const capture = Logger.make((o) => {
      const ann = o.fiber.getRef(References.CurrentLogAnnotations)
      const message = Array.isArray(o.message) ? o.message.join(" ") : String(o.message)
      lines.push(`${o.logLevel}|${message}|${JSON.stringify(ann)}`)
    })
    return Effect.gen(function*() {
      const ok = scripted([{ status: 503 }])
      const f1 = yield* Effect.forkChild(ok.effect.pipe(Retry.retry({ maxRetries: 2, initialDelay: 100, jitter: "none", name: "S3 upload" })))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(f1)
      const bad = scripted(Array.from({ length: 5 }, () => new Error("connection timeout")))
      const f2 = yield* Effect.forkChild(Effect.flip(bad.effect.pipe(Retry.retry({ maxRetries: 1, initialDelay: 100, jitter: "none", name: "kafka_publish" }))))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(f2)
      assert.deepStrictEqual(lines, [
        "Warn|Retrying S3 upload after error|{\"operation\":\"S3 upload\",\"attempt\":1,\"maxAttempts\":3,\"error\":\"{\\\"status\\\":503}\",\"kind\":\"Server\",\"delayMs\":100}",
        "Info|Retry succeeded for S3 upload|{\"operation\":\"S3 upload\",\"attempt\":2,\"maxAttempts\":3,\"retries\":1}",
        "Warn|Retrying kafka_publish after error|{\"operation\":\"kafka_publish\",\"attempt\":1,\"maxAttempts\":2,\"error\":\"connection timeout\",\"kind\":\"Timeout\",\"delayMs\":100}",
        "Error|All retry attempts exhausted for kafka_publish|{\"operation\":\"kafka_publish\",\"attempt\":2,\"maxAttempts\":2,\"error\":\"connection timeout\",\"kind\":\"Timeout\",\"attempts\":2,\"reason\":\"schedule\"}"
      ])
    }).pipe(Effect.provide(Logger.layer([capture])))
  })

  it.effect("a bad policy dies with a PolicyError naming the fields instead of throwing", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.succeed(1).pipe(Retry.retry({ maxRetries: -1, initialDelay: "soon" })))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const defect = Cause.squash(exit.cause)
        assert.instanceOf(defect, Policy.PolicyError)
        assert.include(String((defect as Policy.PolicyError).message), "maxRetries")
        assert.include(String((defect as Policy.PolicyError).message), "initialDelay")
      }
    }))

  it.effect("accepts a decoded policy (a preset) and Duration values", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 503 }, { status: 503 }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ ...Policy.presets.database.retry, log: false })))
      yield* TestClock.adjust(1000)
      assert.strictEqual(yield* Fiber.join(fiber), 3)
      assert.deepStrictEqual(state.times, [0, 100, 300])
      const b = scripted([{ status: 503 }])
      const fb = yield* Effect.forkChild(b.effect.pipe(Retry.retry({ initialDelay: Duration.millis(250), jitter: "none", log: false })))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(fb)
      assert.deepStrictEqual(b.state.times.map((t) => t - b.state.times[0]!), [0, 250])
    }))

  it.effect("Pipeline.retryThroughBreaker: every attempt goes through it, and an open circuit ends the retries", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "inventory", trip: CircuitBreaker.consecutive(3), log: false })
      let calls = 0
      const down = Effect.suspend(() => (calls++, Effect.fail({ status: 503 })))
      const fiber = yield* Effect.forkChild(Effect.flip(down.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 10, initialDelay: 100, jitter: "none", ...quiet }))))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(calls, 3)
      assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
      assert.strictEqual((yield* breaker.state)._tag, "Open")
      // A rejected call does not run at all.
      const again = yield* Effect.flip(down.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 10, initialDelay: 100, ...quiet })))
      assert.strictEqual(again._tag === "Permanent" && again.kind, "CircuitOpen")
      assert.strictEqual(calls, 3)
      const stats = yield* breaker.stats
      assert.strictEqual(stats.failures, 3)
    }))

  it.effect("Pipeline.retryThroughBreaker: a success on the first attempt counts for the circuit, a retried one too", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), log: false })
      yield* Effect.succeed(1).pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 1, ...quiet }))
      const { effect } = scripted([{ status: 503 }])
      const fiber = yield* Effect.forkChild(effect.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 2, initialDelay: 10, jitter: "none", ...quiet })))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const stats = yield* breaker.stats
      assert.strictEqual(stats.calls, 3)
      assert.strictEqual(stats.successes, 2)
      assert.strictEqual(stats.failures, 1)
      assert.strictEqual(stats.state, "Closed")
    }))

  it.effect("works data-first", () =>
    Effect.gen(function*() {
      const value = yield* Retry.retry(Effect.succeed("x"), { schedule: Backoff.fixed(1) })
      assert.strictEqual(value, "x")
    }))

  it.effect("a denying budget ends the loop with reason \"budget\" and sees every request and success", () =>
    Effect.gen(function*() {
      const counts = { requests: 0, successes: 0, asked: 0 }
      const budget: RetryBudget.Budget = {
        onRequest: () => void counts.requests++,
        onSuccess: () => void counts.successes++,
        tryAcquire: () => Effect.sync(() => ++counts.asked <= 1)
      }
      const { effect, state } = scripted(Array.from({ length: 5 }, () => ({ status: 503 })))
      const fiber = yield* Effect.forkChild(Effect.flip(effect.pipe(Retry.retry({ maxRetries: 5, initialDelay: 10, jitter: "none", budget, ...quiet }))))
      yield* TestClock.adjust(1000)
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "budget")
      assert.strictEqual(state.calls, 2)
      yield* Effect.succeed(1).pipe(Retry.retry({ maxRetries: 5, budget, ...quiet }))
      assert.deepStrictEqual(counts, { requests: 2, successes: 1, asked: 2 })
    }))
})
