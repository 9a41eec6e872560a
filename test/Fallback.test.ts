import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Bulkhead, Failure, Fallback, Retry } from "../src/index.ts"

const breakerOpen = { _tag: "BreakerOpen" as const, name: "payments" }
const rateLimited = Failure.transient("slow down", { kind: "RateLimit" })
const exhaustedRateLimit = new Retry.RetriesExhausted({
  attempts: 3,
  elapsed: Duration.zero,
  last: rateLimited,
  reason: "schedule"
})

describe("Fallback.orElse", () => {
  it.effect("without kinds it handles every failure, and the error type is never", () =>
    Effect.gen(function*() {
      const safe: Effect.Effect<string, never> = Effect.fail(breakerOpen).pipe(Fallback.orElse({ value: "cached" }))
      assert.strictEqual(yield* safe, "cached")
    }))

  it.effect("with kinds it handles only those; other kinds keep failing with the original error", () =>
    Effect.gen(function*() {
      const onlyOpen = Fallback.orElse({ kinds: ["CircuitOpen"], value: "cached" })
      const handled: Effect.Effect<string, typeof breakerOpen> = Effect.fail(breakerOpen).pipe(onlyOpen)
      assert.strictEqual(yield* handled, "cached")
      const permanent = Failure.permanent("bad key", { kind: "Auth" })
      const error = yield* Effect.flip(Effect.fail(permanent).pipe(onlyOpen))
      assert.strictEqual(error, permanent)
    }))

  it.effect("the effect form sees the error and its kind (RetriesExhausted → last.kind)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const result = yield* Effect.fail(exhaustedRateLimit).pipe(
        Fallback.orElse({
          effect: (error, kind) => Effect.sync(() => seen.push(`${error._tag}/${kind}`)).pipe(Effect.as(0))
        })
      )
      assert.strictEqual(result, 0)
      assert.deepStrictEqual(seen, ["RetriesExhausted/RateLimit"])
    }))

  it.effect("defects are not handled", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.die("bug").pipe(Fallback.orElse({ value: 1 })))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))

  it.effect("after a real retry loop gives up", () =>
    Effect.gen(function*() {
      const call = Effect.fail(Failure.transient("503", { kind: "Server" })).pipe(
        Retry.retry({ schedule: Backoff.fixed(10).pipe(Backoff.recurs(2)), log: false }),
        Fallback.orElse({ kinds: ["Server"], value: "stale" })
      )
      const fiber = yield* Effect.forkChild(call)
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(fiber), "stale")
    }))
})

describe("Fallback.byKind", () => {
  it.effect("picks the entry for the failure's kind, effects are run, default covers the rest", () =>
    Effect.gen(function*() {
      const fallback = Fallback.byKind({
        CircuitOpen: "cached",
        RateLimit: Effect.succeed("queued"),
        default: "unavailable"
      })
      assert.strictEqual(yield* Effect.fail(breakerOpen).pipe(fallback), "cached")
      assert.strictEqual(yield* Effect.fail(exhaustedRateLimit).pipe(fallback), "queued")
      const full = new Bulkhead.BulkheadFull({ name: "db", maxConcurrent: 1, maxQueue: 0 })
      assert.strictEqual(yield* Effect.fail(full).pipe(fallback), "queued") // BulkheadFull is RateLimit
      const safe: Effect.Effect<string, never> = Effect.fail(Failure.permanent("x", { kind: "Auth" })).pipe(fallback)
      assert.strictEqual(yield* safe, "unavailable")
    }))

  it.effect("without a default, unlisted kinds re-fail and the error type keeps E", () =>
    Effect.gen(function*() {
      const auth = Failure.permanent("no", { kind: "Auth" })
      const partial: Effect.Effect<number, typeof auth> = Effect.fail(auth).pipe(Fallback.byKind({ CircuitOpen: 0 }))
      assert.strictEqual(yield* Effect.flip(partial), auth)
    }))

  it("rejects keys that are not kinds at compile time", () => {
    // @ts-expect-error "Circuitopen" is not a Kind
    const typo = Fallback.byKind({ Circuitopen: 1 })
    assert.isFunction(typo)
  })
})
