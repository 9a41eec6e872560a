import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { Telemetry } from "../src/index.ts"

const counterValue = (metric: Metric.Metric<number, Metric.CounterState<number>>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (state) => state.count)

describe("Telemetry", () => {
  it.effect("counts in memory and publishes only the difference to the Metrics", () =>
    Effect.gen(function*() {
      const recorder = Telemetry.makeRecorder("orders")
      recorder.recordCall(true, 10, undefined)
      recorder.recordCall(false, 30, "Server")
      yield* recorder.recordRetry("Server", 1, 200)
      // Nothing published yet for attempts: the hot path never touches a Metric.
      assert.strictEqual(yield* counterValue(Telemetry.metrics.attempts, { operation: "orders", outcome: "success" }), 0)
      yield* recorder.publish
      assert.strictEqual(yield* counterValue(Telemetry.metrics.attempts, { operation: "orders", outcome: "success" }), 1)
      // 2 calls + 1 retry = 3 attempts, 1 succeeded
      assert.strictEqual(yield* counterValue(Telemetry.metrics.attempts, { operation: "orders", outcome: "failure" }), 2)
      assert.strictEqual(yield* counterValue(Telemetry.metrics.retries, { operation: "orders", kind: "Server" }), 1)
      yield* recorder.publish
      assert.strictEqual(yield* counterValue(Telemetry.metrics.attempts, { operation: "orders", outcome: "success" }), 1)
      recorder.recordCall(true, 5, undefined)
      recorder.recordRejection("bulkhead_full")
      recorder.recordRejection("circuit_open")
      yield* recorder.publish
      assert.strictEqual(yield* counterValue(Telemetry.metrics.attempts, { operation: "orders", outcome: "success" }), 2)
      assert.strictEqual(yield* counterValue(Telemetry.metrics.rejections, { operation: "orders", reason: "bulkhead_full" }), 1)
      // An open circuit publishes its own rejections; the recorder only keeps them in stats.
      assert.strictEqual(yield* counterValue(Telemetry.metrics.rejections, { operation: "orders", reason: "circuit_open" }), 0)
      assert.deepStrictEqual(recorder.stats().rejections, { bulkhead_full: 1, circuit_open: 1 })
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("stats: success rate, durations, retries by kind and attempt", () =>
    Effect.gen(function*() {
      const recorder = Telemetry.makeRecorder("s3")
      recorder.recordCall(true, 10, undefined)
      recorder.recordCall(true, 20, undefined)
      recorder.recordCall(false, 90, "Timeout")
      yield* recorder.recordRetry("Timeout", 1, 100)
      yield* recorder.recordRetry("Timeout", 2, 200)
      yield* recorder.recordRetry("Network", 1, 300)
      yield* recorder.recordDeadLetter
      yield* recorder.recordBudgetDenied
      const stats = recorder.stats()
      assert.strictEqual(stats.calls, 3)
      assert.strictEqual(stats.attempts, 6)
      assert.closeTo(stats.successRate, 2 / 3, 1e-9)
      assert.strictEqual(stats.averageDurationMs, 40)
      assert.strictEqual(stats.maxDurationMs, 90)
      assert.deepStrictEqual(stats.retriesByKind, { Timeout: 2, Network: 1 })
      assert.deepStrictEqual(stats.retriesByAttempt, [2, 1])
      assert.deepStrictEqual(stats.failuresByKind, { Timeout: 1 })
      assert.strictEqual(stats.averageRetryDelayMs, 200)
      assert.strictEqual(stats.deadLetters, 1)
      assert.strictEqual(stats.budgetDenied, 1)
      const both = Telemetry.combine([stats, Telemetry.makeRecorder("other").stats()])
      assert.strictEqual(both.calls, 3)
      assert.deepStrictEqual(both.retriesByAttempt, [2, 1])
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})
