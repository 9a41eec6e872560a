// The pipeline's shared frames: the bulkhead's slot is taken in the pipeline's outer frame and
// released by the exit observer that counts the call. These tests interrupt calls at every step
// of that frame (a scheduler that yields after each operation) and check that no slot is lost or
// doubled and that telemetry still counts every call that ended.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Random, Scheduler } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker, Failure, Pipeline } from "../../../src/index.ts"

// Yields to the scheduler after every operation (a budget of 3: the resumption, one step, the yield),
// so an interruption can land between any two steps.
const everyStep = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Scheduler.MaxOpsBeforeYield, 3)

const work = (ms: number, fails: boolean) =>
  Effect.sleep(`${ms} millis`).pipe(
    Effect.andThen(fails ? Effect.fail(Failure.transient("busy", { kind: "Server" })) : Effect.succeed("ok"))
  )

describe("a pipeline's outer frame", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it.effect(`releases every bulkhead slot it took, under interruption at any step (seed ${seed})`, () =>
      Effect.gen(function*() {
        const pipeline = yield* Pipeline.make({
          retry: { maxRetries: 1, initialDelay: 5, jitter: "none" },
          circuitBreaker: { consecutiveFailures: 1000 },
          budget: { type: "tokenBucket" },
          attemptTimeout: "40 millis",
          bulkhead: { maxConcurrent: 3, maxQueue: 2 },
          durationSampling: 1
        }, { log: false })
        const calls = 40
        const plans = yield* Effect.forEach(Array.from({ length: calls }), () =>
          Effect.all([Random.nextIntBetween(0, 20), Random.nextBoolean, Random.nextIntBetween(0, 16), Random.nextBoolean]))
        // Each call is interrupted (or not) a random number of scheduler steps after it was forked;
        // the calls before it are asleep or queued meanwhile, holding or waiting for slots.
        const fibers: Array<Fiber.Fiber<string, unknown>> = []
        for (const [i, [ms, fails, steps, interrupt]] of plans.entries()) {
          const fiber = yield* Effect.forkChild(everyStep(pipeline.execute(work(ms, fails))))
          fibers.push(fiber)
          for (let s = 0; s < steps; s++) yield* Effect.yieldNow
          if (interrupt) yield* Fiber.interrupt(fiber)
          if (i % 2 === 1) yield* TestClock.adjust("7 millis")
        }
        // Let every call reach its sleep (one step per scheduler turn), then wake it; until all ended.
        for (let round = 0; round < 20 && fibers.some((f) => f.pollUnsafe() === undefined); round++) {
          for (let s = 0; s < 100; s++) yield* Effect.yieldNow
          yield* TestClock.adjust("1 second")
        }
        const exits = yield* Effect.forEach(fibers, Fiber.await)
        const bulkhead = pipeline.bulkhead!.statsUnsafe()
        assert.strictEqual(bulkhead.running, 0, "a slot was never released")
        assert.strictEqual(bulkhead.queued, 0)

        // Telemetry counts every call that ended other than by interruption, and at most those plus
        // the interrupted ones (an interruption can land after the pipeline counted the call, on its
        // way back to the caller).
        const interrupted = exits.filter((exit) => Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))
        const ended = exits.filter((exit) => !interrupted.includes(exit))
        const fullRejections = ended.filter((exit) =>
          Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && (r.error as { _tag?: string })._tag === "BulkheadFull")
        )
        const stats = yield* pipeline.stats
        assert.isAtLeast(stats.calls, ended.length)
        assert.isAtMost(stats.calls, ended.length + interrupted.length)
        assert.isAtLeast(stats.successes, ended.filter(Exit.isSuccess).length)
        assert.isAtLeast(stats.rejections.bulkhead_full ?? 0, fullRejections.length)
        assert.isAtMost(stats.rejections.bulkhead_full ?? 0, bulkhead.rejected)
        assert.strictEqual(stats.timedCalls, stats.calls, "with durationSampling 1 every counted call is timed")

        // Every slot is usable again: maxConcurrent calls run, one more queues.
        const held = yield* Effect.forEach(Array.from({ length: 4 }), () =>
          Effect.forkChild(pipeline.execute(Effect.never), { startImmediately: true }))
        assert.deepStrictEqual(pipeline.bulkhead!.statsUnsafe(), { running: 3, queued: 1, rejected: bulkhead.rejected })
        yield* Fiber.interruptAll(held)
        assert.deepStrictEqual(pipeline.bulkhead!.statsUnsafe(), { running: 0, queued: 0, rejected: bulkhead.rejected })
      }).pipe(Random.withSeed(seed)))
  }

  it.effect("times sampled calls once (a pipeline with a bulkhead or a total timeout at the default sampling)", () =>
    Effect.gen(function*() {
      for (const extra of [{ bulkhead: { maxConcurrent: 2 } }, { timeout: "1 minute" }] as const) {
        const pipeline = yield* Pipeline.make({ retry: false, ...extra }, { log: false })
        yield* Effect.forEach(Array.from({ length: 16 }), () => pipeline.execute(Effect.succeed(1)), { discard: true })
        const stats = yield* pipeline.stats
        assert.strictEqual(stats.calls, 16)
        assert.strictEqual(stats.timedCalls, 2, `one call in 8 is timed (${Object.keys(extra)[0]})`)
      }
    }))

  it.effect("rejects on a full bulkhead without a frame, counted by the bulkhead and by telemetry alike", () =>
    Effect.gen(function*() {
      const pipeline = yield* Pipeline.make({ retry: { maxRetries: 2 }, bulkhead: { maxConcurrent: 1, maxQueue: 1 } }, { log: false })
      const running = yield* Effect.forkChild(pipeline.execute(Effect.never), { startImmediately: true })
      const queued = yield* Effect.forkChild(pipeline.execute(Effect.succeed("queued")), { startImmediately: true })
      const errors = yield* Effect.forEach([1, 2, 3], () => Effect.flip(pipeline.execute(Effect.succeed("never runs"))))
      for (const error of errors) assert.strictEqual(error._tag, "BulkheadFull")
      assert.deepStrictEqual(pipeline.bulkhead!.statsUnsafe(), { running: 1, queued: 1, rejected: 3 })
      yield* Fiber.interrupt(running)
      assert.strictEqual(yield* Fiber.join(queued), "queued")
      const stats = yield* pipeline.stats
      assert.deepStrictEqual([stats.calls, stats.rejected, stats.rejections.bulkhead_full, stats.attempts], [4, 3, 3, 1])
    }))
})

describe("an open circuit's rejection in the fused frame", () => {
  it.effect("is the Permanent CircuitOpen the retry's classifier makes of it, counted once by breaker and telemetry", () =>
    Effect.gen(function*() {
      const pipeline = yield* Pipeline.make({ retry: { maxRetries: 3 }, circuitBreaker: true }, { log: false })
      yield* pipeline.breaker!.isolate
      let ran = 0
      const error = yield* Effect.flip(pipeline.execute(Effect.sync(() => ran++)))
      assert.isTrue(Failure.isPermanent(error) && error.kind === "CircuitOpen")
      assert.isTrue(Failure.isPermanent(error) && error.error instanceof CircuitBreaker.BreakerOpen)
      assert.strictEqual(ran, 0)
      const stats = yield* pipeline.stats
      assert.deepStrictEqual([stats.calls, stats.rejected, stats.rejections.circuit_open, stats.attempts], [1, 1, 1, 0])
      assert.strictEqual(stats.breaker!.rejections, 1)
    }))

  it.effect("goes the usual way when the classifier retries it (a rejection taken for a transient failure)", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "isolated", log: false })
      yield* breaker.isolate
      const retried = Effect.succeed("ok").pipe(Pipeline.retryThroughBreaker(breaker, {
        maxRetries: 2,
        initialDelay: 10,
        jitter: "none",
        log: false,
        classify: (e) => e instanceof CircuitBreaker.BreakerOpen ? Failure.transient(e, { kind: "CircuitOpen" }) : undefined
      }))
      const fiber = yield* Effect.forkChild(Effect.flip(retried))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(error._tag === "RetriesExhausted" && error.attempts === 3 && error.reason === "schedule")
      assert.strictEqual((yield* breaker.stats).rejections, 3)
    }))
})
