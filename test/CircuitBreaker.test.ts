import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Metric, Random, Ref, Schedule, Stream } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker, Failure, Policy, Retry } from "../src/index.ts"

const boom = Effect.fail({ status: 503 })
const ok = Effect.succeed("ok")
const run = <A, E>(breaker: CircuitBreaker.CircuitBreaker, effect: Effect.Effect<A, E>) =>
  Effect.exit(breaker.execute(effect))
const tagOf = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state, (s) => s._tag)
const failTimes = (breaker: CircuitBreaker.CircuitBreaker, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => run(breaker, boom), { discard: true })

describe("CircuitBreaker: closed → open → half-open → closed", () => {
  it.effect("consecutive(3) opens, rejects with retryAfter, probes after openFor, closes", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "db", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false })
      const seen = yield* breaker.changes.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* failTimes(breaker, 2)
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      yield* failTimes(breaker, 1)
      assert.strictEqual(yield* tagOf(breaker), "Open")
      yield* TestClock.adjust("4 seconds")
      const rejected = yield* Effect.flip(breaker.execute(ok))
      assert.strictEqual(rejected._tag, "BreakerOpen")
      assert.strictEqual(rejected._tag === "BreakerOpen" && rejected.name, "db")
      assert.strictEqual(rejected._tag === "BreakerOpen" && Duration.toMillis(rejected.retryAfter!), 6000)
      assert.strictEqual(Failure.defaultClassifier(rejected).kind, "CircuitOpen")
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual(yield* breaker.execute(ok), "ok")
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      const transitions = Array.from(yield* Fiber.join(seen)).map((t) => `${t.from}->${t.to}:${t.reason}@${t.at}`)
      assert.deepStrictEqual(transitions, [
        "Closed->Open:ConsecutiveFailures@0",
        "Open->HalfOpen:OpenElapsed@10000",
        "HalfOpen->Closed:ProbesSucceeded@10000"
      ])
      const stats = yield* breaker.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.successes, stats.rejections], [4, 3, 1, 1])
    }))

  it.effect("a failed probe reopens; the state reads half-open once the period passes", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", log: false })
      yield* failTimes(breaker, 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* tagOf(breaker), "HalfOpen")
      yield* run(breaker, boom)
      const state = yield* breaker.state
      assert.strictEqual(state._tag, "Open")
      assert.strictEqual(state._tag === "Open" && state.until, 2000)
    }))
})

describe("CircuitBreaker: open periods", () => {
  it.effect("openFor as a Schedule backs off per consecutive opening, and resets after staying closed", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: Schedule.exponential("1 second"),
        halfOpen: { probes: 1 },
        log: false
      })
      const untilAfterTrip = Effect.gen(function*() {
        yield* run(breaker, boom)
        const s = yield* breaker.state
        return s._tag === "Open" ? s.until - s.since : -1
      })
      assert.strictEqual(yield* untilAfterTrip, 1000)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* untilAfterTrip, 2000) // the probe failed: second opening
      yield* TestClock.adjust("2 seconds")
      yield* run(breaker, ok) // probe succeeds: closed
      yield* TestClock.adjust("500 millis")
      assert.strictEqual(yield* untilAfterTrip, 4000) // closed only 0.5 s < 2 s: third opening
      yield* TestClock.adjust("4 seconds")
      yield* run(breaker, ok)
      yield* TestClock.adjust("10 seconds") // closed longer than it was last open: count resets
      assert.strictEqual(yield* untilAfterTrip, 1000)
    }))

  it.effect("a retryAfter hint stretches the open period, capped by maxOpenFor", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", maxOpenFor: "20 seconds", log: false })
      yield* run(breaker, Effect.fail(Failure.transient("busy", { kind: "RateLimit", retryAfter: "5 seconds" })))
      let s = yield* breaker.state
      assert.strictEqual(s._tag === "Open" && s.until, 5000)
      yield* breaker.reset
      yield* run(breaker, Effect.fail({ status: 429, headers: { "retry-after": "3600" } }))
      s = yield* breaker.state
      assert.strictEqual(s._tag === "Open" && s.until - s.since, 20_000)
    }))
})

describe("CircuitBreaker: rate rules", () => {
  it.effect("failureRate over a time window forgets old calls", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 4, window: "10 seconds" }),
        log: false
      })
      yield* failTimes(breaker, 3) // 3 failures, below minimumCalls
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      yield* TestClock.adjust("11 seconds") // they leave the window
      yield* run(breaker, ok)
      yield* run(breaker, ok)
      yield* run(breaker, ok)
      yield* run(breaker, boom) // 1 of 4: 25 %
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      assert.strictEqual((yield* breaker.stats).failureRate, 0.25)
      yield* failTimes(breaker, 2) // 3 of 6
      assert.strictEqual(yield* tagOf(breaker), "Open")
    }))

  it.effect("failureRate over a count window; any of several rules trips", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.anyOf(
          CircuitBreaker.consecutive(10),
          CircuitBreaker.failureRate({ threshold: 0.6, minimumCalls: 5, window: 5 })
        ),
        log: false
      })
      for (const effect of [boom, boom, ok, ok]) yield* run(breaker, effect)
      assert.strictEqual(yield* tagOf(breaker), "Closed") // 4 calls < minimumCalls
      yield* run(breaker, ok) // 2/5 = 0.4
      yield* run(breaker, boom) // boom ok ok ok boom → 0.4: the oldest failure left the window
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      yield* run(breaker, boom) // ok ok ok boom boom → 0.4
      yield* run(breaker, boom) // ok ok boom boom boom → 0.6
      assert.strictEqual(yield* tagOf(breaker), "Open")
    }))

  it.effect("slowCallRate counts slow calls, measured on the breaker's clock", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.slowCallRate({ threshold: 0.5, slowerThan: "1 second", minimumCalls: 2, window: 10 }),
        log: false
      })
      const slow = Effect.sleep("2 seconds").pipe(Effect.as("slow"))
      const f1 = yield* Effect.forkChild(breaker.execute(slow))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(f1)
      assert.strictEqual(yield* tagOf(breaker), "Closed") // 1 call < minimumCalls
      yield* run(breaker, ok)
      const f2 = yield* Effect.forkChild(breaker.execute(slow))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(f2)
      const stats = yield* breaker.stats
      assert.strictEqual(stats.slowCalls, 2)
      assert.strictEqual(stats.state, "Open") // 2 slow of 3 ≥ 0.5
    }))
})

describe("CircuitBreaker: what counts", () => {
  it.effect("client errors and interruption do not count; defects do; classify overrides", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), log: false })
      for (let i = 0; i < 5; i++) yield* run(breaker, Effect.fail({ status: 404 }))
      yield* run(breaker, Effect.interrupt)
      assert.strictEqual(yield* tagOf(breaker), "Closed")
      assert.strictEqual((yield* breaker.stats).ignored, 6)
      yield* run(breaker, Effect.die("bug"))
      yield* run(breaker, boom)
      assert.strictEqual(yield* tagOf(breaker), "Open")

      const custom = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        classify: (e) => (e === "fine" ? "success" : e === "skip" ? "ignored" : "failure"),
        log: false
      })
      yield* run(custom, Effect.fail("fine"))
      yield* run(custom, Effect.fail("skip"))
      assert.strictEqual(yield* tagOf(custom), "Closed")
      yield* run(custom, Effect.fail({ status: 404 }))
      assert.strictEqual(yield* tagOf(custom), "Open")
    }))
})

describe("CircuitBreaker: half-open concurrency", () => {
  it.effect("10 000 concurrent calls into a half-open circuit with probes: 3 admit exactly 3", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", halfOpen: { probes: 3 }, log: false })
      yield* run(breaker, boom)
      yield* TestClock.adjust("1 second")
      const gate = yield* Deferred.make<void>()
      const admitted = yield* Ref.make(0)
      const call = breaker.execute(Effect.andThen(Ref.update(admitted, (n) => n + 1), Deferred.await(gate)))
      const fiber = yield* Effect.forkChild(Effect.all(Array.from({ length: 10_000 }, () => Effect.exit(call)), { concurrency: "unbounded" }))
      yield* Effect.yieldNow
      assert.strictEqual(yield* Ref.get(admitted), 3)
      yield* Deferred.succeed(gate, undefined)
      const exits = yield* Fiber.join(fiber)
      assert.strictEqual(exits.filter(Exit.isSuccess).length, 3)
      const stats = yield* breaker.stats
      assert.strictEqual(stats.rejections, 9_997)
      assert.strictEqual(stats.state, "Closed")
    }))

  it.effect("no lost counts under concurrent successes and failures", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1_000_000), log: false })
      const calls = Array.from({ length: 5_000 }, (_, i) =>
        Effect.exit(breaker.execute(Effect.andThen(Effect.yieldNow, i % 3 === 0 ? boom : ok))))
      yield* Effect.all(calls, { concurrency: "unbounded" })
      const stats = yield* breaker.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.successes], [5_000, 1_667, 3_333])
    }))

  it.effect("a probe interrupted at a random point never leaves its slot taken", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openFor: "1 second", halfOpen: { probes: 1 }, log: false })
      yield* run(breaker, boom)
      yield* TestClock.adjust("1 second")
      for (let i = 0; i < 50; i++) {
        const steps = yield* Random.nextIntBetween(0, 5)
        const probe = breaker.execute(Effect.andThen(Effect.forEach(Array.from({ length: steps }), () => Effect.yieldNow), Effect.never))
        const fiber = yield* Effect.forkChild(probe)
        for (let j = 0; j < steps; j++) yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        const state = yield* breaker.state
        assert.strictEqual(state._tag === "HalfOpen" && state.probesInFlight, 0)
      }
      assert.strictEqual(yield* breaker.execute(ok), "ok")
    }).pipe(Random.withSeed(3)))
})

describe("CircuitBreaker: health checks and manual control", () => {
  it.effect("a passing health check half-opens an open circuit without a user call", () =>
    Effect.gen(function*() {
      const healthy = yield* Ref.make(false)
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: "1 hour",
        healthCheck: { probe: Effect.flatMap(Ref.get(healthy), (h) => h ? Effect.void : Effect.fail("down")), every: "5 seconds" },
        log: false
      })
      yield* run(breaker, boom)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* tagOf(breaker), "Open")
      yield* Ref.set(healthy, true)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* tagOf(breaker), "HalfOpen")
    }))

  it.effect("closeOnSuccess closes directly", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openFor: "1 hour",
        healthCheck: { probe: Effect.void, every: "1 second", closeOnSuccess: true },
        log: false
      })
      yield* run(breaker, boom)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* tagOf(breaker), "Closed")
    }))

  it.effect("isolate rejects everything until reset", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ log: false })
      yield* breaker.isolate
      const e = yield* Effect.flip(breaker.execute(ok))
      assert.strictEqual(e._tag === "BreakerOpen" && e.retryAfter, undefined)
      yield* TestClock.adjust("1 day")
      assert.strictEqual(yield* tagOf(breaker), "Isolated")
      yield* breaker.reset
      assert.strictEqual(yield* breaker.execute(ok), "ok")
    }))
})

describe("CircuitBreaker: telemetry", () => {
  it.effect("reports a new circuit as closed on the state gauge", () =>
    Effect.gen(function*() {
      yield* CircuitBreaker.make({ name: "fresh", log: false })
      const snapshot = yield* Metric.snapshot
      const gauge = snapshot.find((m) => m.id === "resilience_breaker_state" && m.attributes?.operation === "fresh")
      assert.strictEqual((gauge?.state as { value: number } | undefined)?.value, 0)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("publishes state, transitions and rejections as metrics at transitions", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "m", trip: CircuitBreaker.consecutive(1), log: false })
      yield* run(breaker, boom)
      yield* run(breaker, ok)
      yield* run(breaker, ok)
      yield* breaker.stats
      const snapshot = yield* Metric.snapshot
      const find = (id: string) => snapshot.filter((m) => m.id === id)
      const state = find("resilience_breaker_state")[0]?.state as { value: number }
      assert.strictEqual(state.value, 2) // Telemetry.breakerStateValue("Open")
      const transitions = find("resilience_breaker_transitions_total")[0]
      assert.deepStrictEqual(transitions?.attributes, { operation: "m", from: "Closed", to: "Open" })
      const rejections = find("resilience_rejections_total")[0]?.state as { count: number }
      assert.strictEqual(rejections.count, 2)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})

describe("CircuitBreaker: options", () => {
  it.effect("bad options fail at construction with a PolicyError naming every bad field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(CircuitBreaker.make({
        trip: [
          CircuitBreaker.failureRate({ threshold: 1.5, minimumCalls: 0, window: "-1 seconds" }),
          CircuitBreaker.consecutive(0)
        ],
        openFor: -5,
        halfOpen: { probes: 0 },
        healthCheck: { probe: Effect.void, every: 0 }
      }))
      assert.instanceOf(error, Policy.PolicyError)
      const paths = error.issues.map((i) => i.path.join("."))
      assert.deepStrictEqual(paths.sort(), [
        "halfOpen.probes",
        "healthCheck.every",
        "openFor",
        "trip.0.minimumCalls",
        "trip.0.threshold",
        "trip.0.window",
        "trip.1.failures"
      ])
    }))
})

describe("CircuitBreaker: composition", () => {
  it.effect("retry outside, breaker inside: rejections are permanent, so retry stops at once", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), log: false })
      const attempts = yield* Ref.make(0)
      const call = Effect.andThen(Ref.update(attempts, (n) => n + 1), boom).pipe(
        CircuitBreaker.protect(breaker),
        Retry.retry({ maxRetries: 5, initialDelay: 10, jitter: 0, log: false })
      )
      const fiber = yield* Effect.forkChild(Effect.flip(call))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "Permanent")
      assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
      assert.strictEqual(yield* Ref.get(attempts), 2)
    }))
})
