// Keyed circuits: one per key, dropped only when idle and their state no longer matters, capped
// in number, with drops counted.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker, Telemetry } from "../../../src/index.ts"

const boom = Effect.fail({ status: 503 })
const ok = Effect.succeed("ok")
const evictions = (operation: string, reason: "idle" | "capacity") =>
  Effect.map(Metric.value(Metric.withAttributes(Telemetry.metrics.breakerEvictions, { operation, reason })), (s) => s.count)

describe("CircuitBreaker.keyed", () => {
  it.effect("one circuit per key, evicted when idle once closed", () =>
    Effect.gen(function*() {
      const hosts = yield* CircuitBreaker.keyed<string>({ name: "hosts", trip: CircuitBreaker.consecutive(1), openFor: "30 seconds", idleTimeToLive: "1 minute", log: false })
      yield* Effect.exit(hosts.execute("a", boom))
      assert.strictEqual(yield* hosts.execute("b", ok), "ok")
      const a = yield* hosts.get("a")
      assert.strictEqual((yield* a.state)._tag, "Open")
      const e = yield* Effect.flip(hosts.execute("a", ok))
      assert.strictEqual(e._tag === "BreakerOpen" && e.name, "hosts/a")
      assert.strictEqual(yield* hosts.size, 2)
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* hosts.execute("a", ok), "ok") // the probe closes it
      yield* TestClock.adjust("3 minutes")
      assert.strictEqual(yield* hosts.size, 0)
      assert.strictEqual(yield* evictions("hosts", "idle"), 2)
    }))

  it.effect("an open circuit is kept however long it is idle: its next calls are one probe, and its open period keeps growing", () =>
    Effect.gen(function*() {
      const hosts = yield* CircuitBreaker.keyed<string>({
        name: "flaky",
        trip: CircuitBreaker.consecutive(1),
        openFor: Schedule.exponential("10 seconds"),
        idleTimeToLive: "1 minute",
        log: false
      })
      yield* Effect.exit(hosts.execute("a", boom))
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(yield* hosts.size, 1)
      // 50 concurrent calls after the open period: one probe reaches the dependency
      let reached = 0
      const call = Effect.andThen(Effect.sync(() => reached++), Effect.andThen(Effect.sleep("1 second"), boom))
      const fibers = yield* Effect.forEach(Array.from({ length: 50 }), () =>
        Effect.forkChild(Effect.exit(hosts.execute("a", call)), { startImmediately: true }))
      yield* TestClock.adjust("1 second")
      const exits = yield* Effect.forEach(fibers, Fiber.join)
      assert.strictEqual(reached, 1)
      assert.strictEqual(exits.filter((e) => Exit.isFailure(e) && e.cause.reasons.some((r) => r._tag === "Fail" && (r.error as { _tag?: string })._tag === "BreakerOpen")).length, 49)
      const state = yield* (yield* hosts.get("a")).state
      assert.strictEqual(state._tag, "Open")
      assert.strictEqual(state._tag === "Open" && state.until - state.since, 20_000, "the second opening lasts twice as long")
    }))

  it.effect("caps the number of circuits: at the cap the oldest quiet circuits make room, counted as evictions", () =>
    Effect.gen(function*() {
      const tenants = yield* CircuitBreaker.keyed<number>({ name: "tenants", maxCircuits: 10, idleTimeToLive: "1 hour", log: false })
      for (let i = 0; i < 25; i++) yield* tenants.execute(i, ok)
      assert.isAtMost(yield* tenants.size, 10)
      yield* TestClock.adjust("30 minutes") // the sweep publishes what was dropped
      assert.isAtLeast(yield* evictions("tenants", "capacity"), 15)
    }))

  it.effect("at the cap, open circuits are kept: a new key runs on a circuit that is not kept", () =>
    Effect.gen(function*() {
      const tenants = yield* CircuitBreaker.keyed<number>({ name: "down", trip: CircuitBreaker.consecutive(1), maxCircuits: 3, log: false })
      for (let i = 0; i < 3; i++) yield* Effect.exit(tenants.execute(i, boom))
      assert.strictEqual(yield* tenants.execute(99, ok), "ok")
      assert.strictEqual(yield* tenants.size, 3)
      for (let i = 0; i < 3; i++) assert.strictEqual((yield* (yield* tenants.get(i)).state)._tag, "Open")
    }))

  it.effect("maxCircuits is decoded with the other options", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(CircuitBreaker.keyed({ maxCircuits: 0 }))
      assert.deepStrictEqual(error.issues.map((i) => i.path.join(".")), ["maxCircuits"])
    }))
})
