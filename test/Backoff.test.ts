import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Random, Schedule, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Policy, Retry } from "../src/index.ts"

const ms = (ds: ReadonlyArray<Duration.Duration>) => ds.map(Duration.toMillis)
const fixedRandom = (x: number): Random.Random => ({ nextDoubleUnsafe: () => x, nextIntUnsafe: () => 0 })
const withRandom = (x: number) => Effect.provideService(Random.Random, fixedRandom(x))

describe("Backoff formulas", () => {
  it.effect("exponential: initial·factor^(k-1)", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.exponential({ initial: 100 }), 5)), [100, 200, 400, 800, 1600])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.exponential({ initial: 100, factor: 3 }), 4)), [100, 300, 900, 2700])
    }))

  it.effect("linear: initial + (k-1)·step, step defaults to initial", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.linear({ initial: 100 }), 4)), [100, 200, 300, 400])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.linear({ initial: 100, step: 50 }), 4)), [100, 150, 200, 250])
    }))

  it.effect("fixed and fibonacci", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fixed("50 millis"), 3)), [50, 50, 50])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fibonacci({ initial: 100 }), 6)), [100, 100, 200, 300, 500, 800])
    }))

  it.effect("decorrelated: min(max, uniform(initial, previous·3))", () =>
    Effect.gen(function*() {
      const schedule = Backoff.decorrelated({ initial: 100, max: 1000 })
      // r = 1 takes the top of the range each time: 300, 900, then the cap.
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 4).pipe(withRandom(1))), [300, 900, 1000, 1000])
      // r = 0 stays at initial.
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 3).pipe(withRandom(0))), [100, 100, 100])
      // r = 0.5: 100 + 0.5·(300-100) = 200, then 100 + 0.5·(600-100) = 350.
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 2).pipe(withRandom(0.5))), [200, 350])
    }))

  it.effect("jitter modes at the ends of the draw", () =>
    Effect.gen(function*() {
      const base = Backoff.fixed(1000)
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, "full"), 1).pipe(withRandom(0))), [0])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, "full"), 1).pipe(withRandom(1))), [1000])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, "equal"), 1).pipe(withRandom(0))), [500])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, "equal"), 1).pipe(withRandom(1))), [1000])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, { ratio: 0.1 }), 1).pipe(withRandom(0))), [900])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, { ratio: 0.1 }), 1).pipe(withRandom(1))), [1100])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.jittered(base, "none"), 1).pipe(withRandom(0))), [1000])
    }))

  it.effect("recurs(n) allows exactly n retries; within(total) stops before the budget is passed", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fixed(10).pipe(Backoff.recurs(3)), 10)), [10, 10, 10])
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fixed(10).pipe(Backoff.recurs(0)), 10)), [])
      const budgeted = Backoff.exponential({ initial: "1 second" }).pipe(Backoff.within("10 seconds"))
      assert.deepStrictEqual(ms(yield* Backoff.delays(budgeted, 10)), [1000, 2000, 4000])
    }))

  it.effect("honorRetryAfter takes the larger of the computed delay and the failure's hint", () =>
    Effect.gen(function*() {
      const schedule = Backoff.exponential({ initial: 100 }).pipe(Backoff.honorRetryAfter)
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 2, { retryAfter: Duration.seconds(1) })), [1000, 1000])
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 2, { retryAfter: Duration.millis(10) })), [100, 200])
      assert.deepStrictEqual(ms(yield* Backoff.delays(schedule, 2, "no hint")), [100, 200])
    }))

  it.effect("composes with Effect's own Schedule combinators", () =>
    Effect.gen(function*() {
      // A backoff is a Schedule: cap it with Schedule.min, bound it with Schedule.upTo.
      const composed = Schedule.min([Backoff.exponential({ initial: 100 }), Schedule.spaced("300 millis")]).pipe(
        Schedule.upTo({ times: 4 })
      )
      assert.deepStrictEqual(ms(yield* Backoff.delays(composed, 10)), [100, 200, 300, 300])
      // and drives Effect.retry directly
      let calls = 0
      const fiber = yield* Effect.forkChild(
        Effect.suspend(() => ++calls < 3 ? Effect.fail("boom") : Effect.succeed(calls)).pipe(
          Effect.retry(Backoff.fixed(50).pipe(Backoff.recurs(5)))
        )
      )
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(fiber), 3)
    }))
})

describe("seed 001's delay tables (no jitter, then the jitter range)", () => {
  it.effect("default configuration: factor 2, initial 1 s, max 60 s, ±10 %", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ maxRetries: 4, initialDelay: "1 second", maxDelay: "60 seconds", multiplier: 2, jitter: 0 })
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fromPolicy(policy), 10)), [1000, 2000, 4000, 8000])
      const jittered = Backoff.fromPolicy({ ...policy, jitter: { ratio: 0.1 } })
      assert.deepStrictEqual(ms(yield* Backoff.delays(jittered, 4).pipe(withRandom(0))), [900, 1800, 3600, 7200])
      assert.deepStrictEqual(
        ms(yield* Backoff.delays(jittered, 4).pipe(withRandom(1))).map((x) => Math.round(x)),
        [1100, 2200, 4400, 8800]
      )
    }))

  it.effect("aggressive configuration: factor 3, initial 5 s, max 300 s, ±20 % applied after the cap", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ maxRetries: 5, initialDelay: "5 seconds", maxDelay: "300 seconds", multiplier: 3, jitter: 0 })
      assert.deepStrictEqual(ms(yield* Backoff.delays(Backoff.fromPolicy(policy), 10)), [5000, 15000, 45000, 135000, 300000])
      const jittered = Backoff.fromPolicy({ ...policy, jitter: { ratio: 0.2 } })
      assert.deepStrictEqual(
        ms(yield* Backoff.delays(jittered, 5).pipe(withRandom(0))).map((x) => Math.round(x)),
        [4000, 12000, 36000, 108000, 240000]
      )
      assert.deepStrictEqual(
        ms(yield* Backoff.delays(jittered, 5).pipe(withRandom(1))).map((x) => Math.round(x)),
        [6000, 18000, 54000, 162000, 360000]
      )
    }))
})

/** Runs an always-failing call under a policy on the TestClock and returns the attempt times. */
const attemptTimes = (policy: Retry.RetryPolicyOptions<Error>, advance: Duration.Input) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const call = Effect.gen(function*() {
      times.push(yield* Clock.currentTimeMillis)
      return yield* Effect.fail(new Error("connection timeout"))
    })
    const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(Retry.retry({ ...policy, log: false }))))
    yield* TestClock.adjust(advance)
    const error = yield* Fiber.join(fiber)
    return { times, error }
  })

describe("seed timelines on the TestClock", () => {
  it.effect("seed 003: 1s → 2s → 4s → 8s between 5 attempts", () =>
    Effect.gen(function*() {
      const { error, times } = yield* attemptTimes({ maxAttempts: 5, initialDelay: "1 second", multiplier: 2, jitter: "none" }, "1 minute")
      assert.deepStrictEqual(times, [0, 1000, 3000, 7000, 15000])
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.strictEqual(error._tag === "RetriesExhausted" && error.attempts, 5)
    }))

  it.effect("seed 004: initial 1 s, base 2, capped at 30 s: 1, 2, 4, 8, 16, 30", () =>
    Effect.gen(function*() {
      const { times } = yield* attemptTimes({ maxAttempts: 7, initialDelay: "1 second", maxDelay: "30 seconds", jitter: "none" }, "5 minutes")
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      assert.deepStrictEqual(gaps, [1000, 2000, 4000, 8000, 16000, 30000])
    }))

  it.effect("seed 004's database health check: 3 attempts, 0.5 s → 1 s, cap 5 s", () =>
    Effect.gen(function*() {
      const { times } = yield* attemptTimes({ maxAttempts: 3, initialDelay: 500, maxDelay: "5 seconds", jitter: "none" }, "1 minute")
      assert.deepStrictEqual(times, [0, 500, 1500])
    }))

  it.effect("seed 004's Kafka publish: 3 attempts with 50–150 % jitter stays within its bounds", () =>
    Effect.gen(function*() {
      const { times } = yield* attemptTimes({ maxAttempts: 3, initialDelay: "1 second", maxDelay: "10 seconds", jitter: { ratio: 0.5 } }, "1 minute").pipe(
        Random.withSeed(7)
      )
      assert.strictEqual(times.length, 3)
      const [first, second] = [times[1]! - times[0]!, times[2]! - times[1]!]
      assert.isTrue(first >= 500 && first <= 1500, `first gap ${first}`)
      assert.isTrue(second >= 1000 && second <= 3000, `second gap ${second}`)
    }))
})

const Positive = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 10_000 }))
const Factor = Schema.Finite.check(Schema.isBetween({ minimum: 1, maximum: 4 }))
const Unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const Count = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 12 }))

describe("Backoff properties", () => {
  it.effect.prop(
    "ratio jitter stays within d·(1±r) of the capped delay",
    { initial: Positive, factor: Factor, cap: Positive, ratio: Unit, seed: Positive },
    ({ cap, factor, initial, ratio, seed }) =>
      Effect.gen(function*() {
        const max = Math.max(cap, initial)
        const plain = ms(yield* Backoff.delays(Backoff.exponential({ initial, factor }).pipe(Backoff.capped(max)), 8))
        const jittered = ms(
          yield* Backoff.delays(Backoff.exponential({ initial, factor }).pipe(Backoff.capped(max), Backoff.jittered({ ratio })), 8).pipe(
            Random.withSeed(seed)
          )
        )
        return jittered.every((d, i) => d >= plain[i]! * (1 - ratio) - 1e-9 && d <= plain[i]! * (1 + ratio) + 1e-9)
      }),
    { arbitrary: { runs: 100, seed: 1 } }
  )

  it.effect.prop(
    "full and equal jitter stay within [0, d] and [d/2, d]",
    { initial: Positive, seed: Positive },
    ({ initial, seed }) =>
      Effect.gen(function*() {
        const full = ms(yield* Backoff.delays(Backoff.exponential({ initial }).pipe(Backoff.jittered("full")), 6).pipe(Random.withSeed(seed)))
        const equal = ms(yield* Backoff.delays(Backoff.exponential({ initial }).pipe(Backoff.jittered("equal")), 6).pipe(Random.withSeed(seed)))
        const d = (k: number) => initial * 2 ** k
        return full.every((x, k) => x >= 0 && x <= d(k)) && equal.every((x, k) => x >= d(k) / 2 && x <= d(k))
      }),
    { arbitrary: { runs: 100, seed: 2 } }
  )

  it.effect.prop(
    "the cap holds and delays never decrease before it",
    { initial: Positive, factor: Factor, cap: Positive },
    ({ cap, factor, initial }) =>
      Effect.gen(function*() {
        const ds = ms(yield* Backoff.delays(Backoff.exponential({ initial, factor }).pipe(Backoff.capped(cap)), 12))
        return ds.every((d, i) => d <= cap && (i === 0 || d >= ds[i - 1]!))
      }),
    { arbitrary: { runs: 100, seed: 3 } }
  )

  it.effect.prop(
    "linear and fibonacci are monotone",
    { initial: Positive, step: Positive },
    ({ initial, step }) =>
      Effect.gen(function*() {
        const lin = ms(yield* Backoff.delays(Backoff.linear({ initial, step }), 10))
        const fib = ms(yield* Backoff.delays(Backoff.fibonacci({ initial }), 10))
        return [lin, fib].every((ds) => ds.every((d, i) => i === 0 || d >= ds[i - 1]!))
      }),
    { arbitrary: { runs: 50, seed: 4 } }
  )

  it.effect.prop(
    "decorrelated stays within [initial, max]",
    { initial: Positive, max: Positive, seed: Positive },
    ({ initial, max, seed }) =>
      Effect.gen(function*() {
        const cap = Math.max(initial, max)
        const ds = ms(yield* Backoff.delays(Backoff.decorrelated({ initial, max: cap }), 20).pipe(Random.withSeed(seed)))
        return ds.every((d) => d >= initial && d <= cap)
      }),
    { arbitrary: { runs: 100, seed: 5 } }
  )

  it.effect.prop(
    "recurs(n) yields exactly n retries through Retry.retry",
    { n: Count },
    ({ n }) =>
      Effect.gen(function*() {
        let calls = 0
        const call = Effect.suspend(() => {
          calls++
          return Effect.fail(new Error("ECONNRESET happened: connection reset"))
        })
        const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(
          Retry.retry({ schedule: Backoff.exponential({ initial: 10 }).pipe(Backoff.recurs(n)), log: false })
        )))
        yield* TestClock.adjust("1 hour")
        const error = yield* Fiber.join(fiber)
        return calls === n + 1 && error._tag === "RetriesExhausted" && error.attempts === n + 1
      }),
    { arbitrary: { runs: 13, seed: 6 } }
  )
})
