// Error values that fight back: throwing getters, Proxies that throw on every trap, revoked
// Proxies, cycles, a throwing toString. Whatever a dependency fails with, every guard must keep it
// as the caller's typed error (classified, retried, fallen back from, written down), never turn
// it into a defect or throw at the call site.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { DeadLetter, Failure, Fallback, Resilience, Retry } from "../src/index.ts"

const boom = () => {
  throw new Error("getter throws")
}

const throwingGetters = (): object => {
  const value: Record<string, unknown> = {}
  for (const key of ["message", "name", "code", "status", "statusCode", "stack", "cause", "headers", "response", "_tag", "errors", "retryable", "$response"]) {
    Object.defineProperty(value, key, { get: boom, enumerable: true })
  }
  return value
}

const trapEverything = (): object =>
  new Proxy({}, {
    get: boom,
    has: boom,
    ownKeys: boom,
    getOwnPropertyDescriptor: boom,
    getPrototypeOf: boom
  })

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

const cyclic = (): object => {
  const a: Record<string, unknown> = { message: "a", status: 503 }
  const b: Record<string, unknown> = { message: "b", cause: a }
  a.cause = b
  a.errors = [a, b]
  return a
}

const badToString = (): object => ({
  toString: boom,
  [Symbol.toPrimitive]: boom,
  toJSON: boom,
  message: { toString: boom }
})

const deepCauses = (): object => {
  let error: Record<string, unknown> = { message: "root", code: "ECONNRESET" }
  for (let i = 0; i < 10_000; i++) error = { message: `wrap ${i}`, cause: error }
  return error
}

const hostile: ReadonlyArray<readonly [string, () => unknown]> = [
  ["throwing getters", throwingGetters],
  ["a Proxy that throws on every trap", trapEverything],
  ["a revoked Proxy", revoked],
  ["a cycle of causes", cyclic],
  ["a throwing toString / toJSON", badToString],
  ["10 000 nested causes", deepCauses]
]

/** The exit failed with a typed error (no defect, no interruption) whose tag is one of `tags`. */
const assertTypedFailure = (exit: Exit.Exit<unknown, unknown>, tags: ReadonlyArray<string>) => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  if (!Exit.isFailure(exit)) return
  assert.isFalse(Cause.hasDies(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  assert.isDefined(failure)
  const tag = (failure as { readonly error: { readonly _tag?: unknown } }).error._tag
  assert.include(tags, tag)
}

describe("hostile error values", () => {
  for (const [label, make] of hostile) {
    describe(label, () => {
      it.effect("Failure.classify gives a verdict, never a defect", () =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(Effect.fail(make()).pipe(Failure.classify()))
          assertTypedFailure(exit, ["Transient", "Permanent"])
        }))

      it.effect("Retry.retry (with its log lines) ends in a typed error", () =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(Effect.exit(
            Effect.fail(make()).pipe(Retry.retry({ maxRetries: 2, initialDelay: 10, jitter: "none", unknownErrors: "Transient" }))
          ))
          yield* TestClock.adjust("1 minute")
          const exit = yield* Fiber.join(fiber)
          assertTypedFailure(exit, ["Permanent", "RetriesExhausted"])
        }))

      it.effect("Fallback.orElse and Fallback.byKind fall back", () =>
        Effect.gen(function*() {
          const a = yield* Effect.fail(make()).pipe(Fallback.orElse({ value: "fallback" }))
          assert.strictEqual(a, "fallback")
          const b = yield* Effect.fail(make()).pipe(Fallback.byKind({ default: "by kind" }))
          assert.strictEqual(b, "by kind")
        }))

      it.effect("DeadLetter.onExhausted stores a letter of a final failure and keeps the caller's error", () =>
        Effect.gen(function*() {
          const error = make()
          // Permanent, or RetriesExhausted for a transient verdict: both are final failures.
          const final = yield* Effect.flip(Effect.fail(error).pipe(Retry.retry({ maxRetries: 0, log: false })))
          const exit = yield* Effect.exit(Effect.fail(final).pipe(DeadLetter.onExhausted({ operation: "hostile" })))
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) {
            assert.isFalse(Cause.hasDies(exit.cause))
            const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
            assert.strictEqual((failure as { readonly error: unknown }).error, final)
          }
          const letters = yield* (yield* DeadLetter.DeadLetters).list
          assert.strictEqual(letters.length, 1)
          assert.strictEqual(letters[0]!.operation, "hostile")
        }).pipe(Effect.provide(DeadLetter.layerMemory())))

      it.effect("a pipeline with retry, breaker, budget and timeouts ends in a typed error", () =>
        Effect.gen(function*() {
          const pipeline = yield* Resilience.make({
            name: "hostile",
            retry: { maxRetries: 2, initialDelay: 10, jitter: "none", unknownErrors: "Transient" },
            circuitBreaker: { consecutiveFailures: 2, openFor: "1 second" },
            budget: { type: "tokenBucket" },
            attemptTimeout: "5 seconds",
            timeout: "30 seconds"
          }, { log: false })
          for (let call = 0; call < 4; call++) {
            const fiber = yield* Effect.forkChild(Effect.exit(pipeline.execute(Effect.fail(make()))))
            yield* TestClock.adjust("10 seconds")
            const exit = yield* Fiber.join(fiber)
            assertTypedFailure(exit, ["Permanent", "RetriesExhausted"])
          }
          const stats = yield* pipeline.stats
          assert.isAtLeast(stats.attempts, 4)
        }))
    })
  }
})
