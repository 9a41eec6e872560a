import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import * as Demo from "../src/cli/demo.ts"

describe("effect-resilience demo", () => {
  it.effect("runs the scripted outage through the policy and reports what happened (TestClock, seeded)", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(
        Demo.run({ workers: 4, duration: "12 seconds", thinkTime: "50 millis" }).pipe(Effect.scoped, Effect.provide(Demo.layer))
      )
      for (let i = 0; i < 140; i++) yield* TestClock.adjust("100 millis")
      const report = yield* Fiber.join(fiber)
      assert.isAbove(report.calls, 100)
      assert.strictEqual(report.calls, report.succeeded + report.failed)
      // Healthy first: everything succeeds.
      const healthy = report.byPhase.find((p) => p.phase === "healthy")!
      assert.strictEqual(healthy.succeeded, healthy.calls)
      // Transient errors were retried, by kind.
      const kinds = Object.keys(report.pipeline.retriesByKind)
      for (const kind of ["Network", "Server", "RateLimit"]) assert.include(kinds, kind)
      // The outage opened the circuit, and it closed again in recovery.
      const opened = report.transitions.find((t) => t.to === "Open")
      assert.isDefined(opened)
      const closed = report.transitions.filter((t) => t.to === "Closed")
      assert.isTrue(closed.some((t) => t.phase === "recovery"), JSON.stringify(report.transitions))
      // Open circuits reject at once; every other final failure is a dead letter.
      assert.isAbove(report.pipeline.rejections.circuit_open ?? 0, 0)
      // Calls an open circuit rejected are counted, not kept as letters (the policy's default).
      assert.isAbove(report.pipeline.rejected, 0)
      assert.strictEqual(report.deadLetters, report.failed - report.pipeline.rejected)
      assert.strictEqual(report.pipeline.rejectedLetters, 0)
      // The budget kept retries to a fraction of calls.
      assert.isBelow(report.pipeline.retries, report.calls * 0.5)
      const text = Demo.render(report)
      for (const section of ["retries by kind", "budget denials", "dead letters", "latency (ms)", "circuit transitions:"]) {
        assert.include(text, section)
      }
    }).pipe(Random.withSeed(42)))
})
