import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Logger, Metric, References } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker, DeadLetter, Pipeline, Policy, Resilience, Telemetry } from "../src/index.ts"
import { quiet, scripted } from "./support/scripted.ts"

const counter = (metric: Metric.Metric<number, Metric.CounterState<number>>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (state) => state.count)

const down = Effect.fail({ status: 503 })

// A circuit that opens after two failures and stays open for the test, with no retries.
const tripping = {
  retry: false,
  circuitBreaker: { consecutiveFailures: 2, openFor: "1 minute" }
} as const

const buildError = (exit: Exit.Exit<unknown, unknown>): string => {
  const reason = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  return reason?._tag === "Fail" ? String((reason.error as Error).message) : ""
}

describe("Pipeline", () => {
  describe("dead letters go where they can be read", () => {
    it.effect("a store merged beside the layer (not provided to it) is an error at build time that says so", () =>
      Effect.gen(function*() {
        const hidden = Layer.mergeAll(Resilience.layer({ s3: { ...Policy.presets.s3, deadLetters: true } }), DeadLetter.layerMemory())
        const exit = yield* Effect.exit(Layer.build(hidden))
        const message = buildError(exit)
        assert.include(message, "at s3.deadLetters")
        assert.include(message, "no DeadLetter.DeadLetters service is provided")
        assert.include(message, "Layer.provide(DeadLetter.layerMemory())")
      }))

    it.effect("a store provided to the layer receives the pipeline's letters, which the application reads", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.fail({ status: 403 }).pipe(Resilience.protect("s3", { tags: { bucket: "reviews" } })))
        assert.strictEqual(error._tag, "Permanent")
        const letters = yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.list)
        assert.strictEqual(letters.length, 1)
        assert.strictEqual(letters[0]!.operation, "s3")
        assert.deepStrictEqual(letters[0]!.tags, { bucket: "reviews" })
      }).pipe(Effect.provide(
        Resilience.layer({ s3: { ...Policy.presets.s3, retry: false, deadLetters: true } }).pipe(Layer.provideMerge(DeadLetter.layerMemory()))
      )))

    it.effect("a store given in the options is used without a service", () =>
      Effect.gen(function*() {
        const store = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerMemory()))
        const pipeline = yield* Pipeline.make({ retry: false, deadLetters: true }, { name: "upload", deadLetters: store, ...quiet })
        yield* Effect.flip(pipeline.execute(Effect.fail({ status: 400 })))
        assert.strictEqual((yield* store.list).length, 1)
        assert.strictEqual((yield* pipeline.stats).deadLetters, 1)
      }).pipe(Effect.scoped))

    it.effect("without any store, Pipeline.make fails at deadLetters instead of keeping letters nobody can read", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Pipeline.make({ deadLetters: { rejected: true } }))
        assert.deepStrictEqual(error.issues.map((i) => i.path), [["deadLetters"]])
      }).pipe(Effect.scoped))
  })

  describe("calls rejected by an open circuit", () => {
    it.effect("are not attempts, in stats and in resilience_attempts_total, and are counted apart", () =>
      Effect.gen(function*() {
        const pipeline = yield* Pipeline.make({ name: "inventory", ...tripping }, quiet)
        for (let i = 0; i < 5; i++) yield* Effect.exit(pipeline.execute(down))
        const stats = yield* pipeline.stats
        assert.strictEqual(stats.calls, 5)
        assert.strictEqual(stats.attempts, 2)
        assert.strictEqual(stats.rejected, 3)
        assert.strictEqual(stats.rejections.circuit_open, 3)
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "inventory", outcome: "failure" }), 2)
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "inventory", outcome: "success" }), 0)
      }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

    it.effect("a call rejected on a retry counts the attempts that ran before it", () =>
      Effect.gen(function*() {
        const pipeline = yield* Pipeline.make({
          retry: { maxRetries: 5, initialDelay: 10, jitter: "none" },
          circuitBreaker: { consecutiveFailures: 2, openFor: "1 minute" }
        }, quiet)
        const fiber = yield* Effect.forkChild(Effect.flip(pipeline.execute(down)))
        yield* TestClock.adjust(1000)
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
        const stats = yield* pipeline.stats
        // Two attempts ran, the third was rejected: 1 call + 2 retries − 1 rejected.
        assert.deepStrictEqual([stats.calls, stats.retries, stats.rejected, stats.attempts], [1, 2, 1, 2])
      }).pipe(Effect.scoped))

    it.effect("do not become dead letters unless the policy says deadLetters: { rejected: true }", () =>
      Effect.gen(function*() {
        const store = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerMemory()))
        const plain = yield* Pipeline.make({ ...tripping, deadLetters: true }, { name: "plain", deadLetters: store, ...quiet })
        const all = yield* Pipeline.make({ ...tripping, deadLetters: { rejected: true } }, { name: "all", deadLetters: store, ...quiet })
        for (let i = 0; i < 5; i++) {
          yield* Effect.exit(plain.execute(down))
          yield* Effect.exit(all.execute(down))
        }
        const letters = yield* store.list
        assert.strictEqual(letters.filter((l) => l.operation === "plain").length, 2)
        assert.strictEqual(letters.filter((l) => l.operation === "all").length, 5)
        const [p, a] = [yield* plain.stats, yield* all.stats]
        assert.deepStrictEqual([p.deadLetters, p.rejectedLetters], [2, 0])
        assert.deepStrictEqual([a.deadLetters, a.rejectedLetters], [2, 3])
        assert.strictEqual(yield* counter(Telemetry.metrics.deadLetters, { operation: "all", rejected: "true" }), 3)
      }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

    it.effect("the rejected option decodes from data, and defaults to false", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual((yield* Policy.decodePipeline({ deadLetters: { rejected: true } })).deadLetters, { rejected: true })
        assert.deepStrictEqual((yield* Policy.decodePipeline({ deadLetters: {} })).deadLetters, { rejected: false })
        const bad = yield* Effect.flip(Policy.decodePipeline({ deadLetters: { rejected: "yes please" } }))
        assert.include(bad.message, "deadLetters")
      }))
  })

  describe("per-call tags", () => {
    it.effect("reach letters and log annotations; only declared tags become metric attributes", () => {
      const annotations: Array<Record<string, unknown>> = []
      const capture = Logger.make((o) => void annotations.push({ ...o.fiber.getRef(References.CurrentLogAnnotations) }))
      return Effect.gen(function*() {
        const store = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerMemory()))
        const pipeline = yield* Pipeline.make(
          { name: "orders", retry: { maxRetries: 1, initialDelay: 10, jitter: "none" }, deadLetters: true, tags: ["tenant"] },
          { deadLetters: store, tags: { service: "shop" } }
        )
        const tags = { tenant: "acme", requestId: "r-1" }
        const fiber = yield* Effect.forkChild(Effect.exit(pipeline.execute(down, { tags })))
        yield* TestClock.adjust(1000)
        yield* Fiber.join(fiber)
        yield* pipeline.execute(Effect.succeed(1), { tags: { tenant: "globex" } })
        yield* pipeline.execute(Effect.succeed(1))
        const [letter] = yield* store.list
        assert.deepStrictEqual(letter!.tags, { service: "shop", tenant: "acme", requestId: "r-1" })
        assert.isNotEmpty(annotations)
        for (const a of annotations) assert.deepInclude(a, tags)
        const stats = yield* pipeline.stats
        assert.deepStrictEqual([stats.calls, stats.successes, stats.retries], [3, 2, 1])
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "orders", tenant: "acme", outcome: "failure" }), 2)
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "orders", tenant: "globex", outcome: "success" }), 1)
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "orders", outcome: "success" }), 1)
        assert.strictEqual(yield* counter(Telemetry.metrics.retries, { operation: "orders", tenant: "acme", kind: "Server" }), 1)
        const snapshot = yield* Metric.snapshot
        const keys = snapshot.flatMap((s) => Object.keys(s.attributes ?? {}))
        assert.include(keys, "tenant")
        assert.notInclude(keys, "requestId")
      }).pipe(Effect.scoped, Effect.provide(Logger.layer([capture])), Effect.provideService(Metric.MetricRegistry, new Map()))
    })

    it.effect("at most 1000 declared-tag sets get series of their own; later ones count untagged, and stats stay whole", () =>
      Effect.gen(function*() {
        const pipeline = yield* Pipeline.make({ name: "tenants", retry: false, tags: ["tenant"] }, quiet)
        for (let i = 0; i < 1005; i++) yield* pipeline.execute(Effect.succeed(i), { tags: { tenant: `t${i}` } })
        const stats = yield* pipeline.stats
        assert.deepStrictEqual([stats.calls, stats.successes, stats.attempts], [1005, 1005, 1005])
        const series = (yield* Metric.snapshot).filter((s) => s.id === "resilience_attempts_total")
        assert.strictEqual(series.filter((s) => s.attributes?.tenant !== undefined).length, 1000)
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "tenants", outcome: "success" }), 5)
      }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

    it.effect("undeclared tags alone count under the pipeline's own series", () =>
      Effect.gen(function*() {
        const pipeline = yield* Pipeline.make({ name: "search", retry: false }, quiet)
        yield* pipeline.execute(Effect.succeed(1), { tags: { tenant: "acme" } })
        yield* pipeline.publish
        assert.strictEqual(yield* counter(Telemetry.metrics.attempts, { operation: "search", outcome: "success" }), 1)
        const keys = (yield* Metric.snapshot).flatMap((s) => Object.keys(s.attributes ?? {}))
        assert.notInclude(keys, "tenant")
      }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))
  })

  it.effect("calls that succeed after retrying are counted (stats.recovered, resilience_retry_successes_total)", () =>
    Effect.gen(function*() {
      const pipeline = yield* Pipeline.make({ name: "flaky", retry: { maxRetries: 3, initialDelay: 10, jitter: "none" } }, quiet)
      const { effect } = scripted([{ status: 503 }, { status: 503 }])
      const fiber = yield* Effect.forkChild(pipeline.execute(effect))
      yield* TestClock.adjust(1000)
      yield* Fiber.join(fiber)
      yield* pipeline.execute(Effect.succeed(1))
      const stats = yield* pipeline.stats
      assert.deepStrictEqual([stats.calls, stats.successes, stats.retries, stats.recovered], [2, 2, 2, 1])
      assert.strictEqual(yield* counter(Telemetry.metrics.retrySuccesses, { operation: "flaky" }), 1)
    }).pipe(Effect.scoped, Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("fromPolicy takes a decoded policy and does not decode it again", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decodePipeline({ name: "decoded", retry: { maxAttempts: 2 } })
      const pipeline = yield* Pipeline.fromPolicy(policy, quiet)
      assert.strictEqual(pipeline.policy, policy)
      assert.strictEqual(pipeline.name, "decoded")
    }).pipe(Effect.scoped))

  describe("retryThroughBreaker", () => {
    it.effect("is retry outside, breaker inside: an open circuit ends the retries with CircuitOpen", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), log: false })
        let calls = 0
        const failing = Effect.suspend(() => (calls++, down))
        const fiber = yield* Effect.forkChild(Effect.flip(failing.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 5, initialDelay: 10, ...quiet }))))
        yield* TestClock.adjust(1000)
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(calls, 2)
        assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
      }))

    it.effect("a bad policy dies with the PolicyError, data-first too", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ log: false })
        const exit = yield* Effect.exit(Pipeline.retryThroughBreaker(Effect.succeed(1), breaker, { maxRetries: -1 }))
        assert.isTrue(Exit.hasDies(exit))
      }))
  })
})
