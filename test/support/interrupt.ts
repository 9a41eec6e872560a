// Random interruption for breaker tests: `calls` calls that would run for 10 seconds, each
// interrupted after a random number of TestClock milliseconds in [0, maxMs] (some before they
// start), using the fiber's seeded `Random`.
import { Effect, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import type { CircuitBreaker } from "../../src/index.ts"

export const interruptRandomly = (breaker: CircuitBreaker.CircuitBreaker, calls: number, maxMs: number) =>
  Effect.gen(function*() {
    const fibers = yield* Effect.forEach(Array.from({ length: calls }), () =>
      Effect.forkChild(breaker.execute(Effect.sleep("10 seconds")), { startImmediately: true }))
    const delays = yield* Effect.forEach(fibers, () => Random.nextIntBetween(0, maxMs))
    for (let ms = 0; ms <= maxMs; ms++) {
      yield* Effect.forEach(fibers.filter((_, i) => delays[i] === ms), (f) => Fiber.interrupt(f), { discard: true })
      yield* TestClock.adjust("1 millis")
    }
  })
