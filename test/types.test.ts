// Type-level tests: `tsc --noEmit` (run by .ci/run) checks the expectTypeOf lines; vitest runs
// the runtime assertions beside them.
import { assert, describe, expectTypeOf, it } from "@effect/vitest"
import { Effect } from "effect"
import { Backoff, CircuitBreaker, Failure, Pipeline, Retry } from "../src/index.ts"

interface HttpError {
  readonly _tag: "HttpError"
  readonly status: number
}
type X = { readonly x: 1 }
type Y = { readonly y: 2 }

const verdicts: Effect.Effect<string, Failure.Transient<X> | Failure.Permanent<Y>> = Effect.succeed("ok")
const raw: Effect.Effect<number, HttpError> = Effect.succeed(1)
const mixed: Effect.Effect<number, Failure.Transient<X> | HttpError> = Effect.succeed(2)
const infallible: Effect.Effect<number> = Effect.succeed(3)

describe("types", () => {
  it("Retry.retry over Transient<X> | Permanent<Y> fails with Permanent<Y> | RetriesExhausted<X>", () => {
    const retried = verdicts.pipe(Retry.retry({ maxRetries: 2 }))
    expectTypeOf(retried).toEqualTypeOf<Effect.Effect<string, Failure.Permanent<Y> | Retry.RetriesExhausted<X>>>()
    const bySchedule = Retry.retry(verdicts, { schedule: Backoff.fixed(10) })
    expectTypeOf(bySchedule).toEqualTypeOf<Effect.Effect<string, Failure.Permanent<Y> | Retry.RetriesExhausted<X>>>()
    assert.isTrue(Effect.isEffect(retried))
  })

  it("an unclassified error may come out either way", () => {
    const retried = raw.pipe(Retry.retry({ maxRetries: 2 }))
    expectTypeOf(retried).toEqualTypeOf<Effect.Effect<number, Failure.Permanent<HttpError> | Retry.RetriesExhausted<HttpError>>>()
    assert.isTrue(Effect.isEffect(retried))
  })

  it("verdicts keep their side; other errors get both", () => {
    const classified = mixed.pipe(Failure.classify())
    expectTypeOf(classified).toEqualTypeOf<
      Effect.Effect<number, Failure.Transient<X> | Failure.Transient<HttpError> | Failure.Permanent<HttpError>>
    >()
    const retried = mixed.pipe(Retry.retry({ maxRetries: 1 }))
    expectTypeOf(retried).toEqualTypeOf<
      Effect.Effect<number, Retry.RetriesExhausted<X> | Failure.Permanent<HttpError> | Retry.RetriesExhausted<HttpError>>
    >()
    assert.isTrue(Effect.isEffect(classified))
  })

  it("with a breaker, BreakerOpen joins the error channel", () =>
    Effect.runSync(Effect.scoped(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      const retried = raw.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 2 }))
      expectTypeOf(retried).toEqualTypeOf<
        Effect.Effect<
          number,
          | Failure.Permanent<HttpError>
          | Retry.RetriesExhausted<HttpError>
          | Failure.Permanent<CircuitBreaker.BreakerOpen>
          | Retry.RetriesExhausted<CircuitBreaker.BreakerOpen>
        >
      >()
      assert.strictEqual(yield* retried, 1)
    }))))

  it("an effect that cannot fail still cannot fail", () => {
    const retried = infallible.pipe(Retry.retry({ maxRetries: 1 }))
    expectTypeOf(retried).toEqualTypeOf<Effect.Effect<number>>()
    assert.isTrue(Effect.isEffect(retried))
  })

  it("a schedule's while predicate sees a typed Transient", () => {
    const retried = raw.pipe(Retry.retry({
      schedule: Backoff.fixed(1),
      while: (error) => {
        expectTypeOf(error).toEqualTypeOf<Failure.Transient<HttpError>>()
        return error.error.status !== 418
      }
    }))
    assert.isTrue(Effect.isEffect(retried))
  })
})
