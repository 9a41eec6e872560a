/**
 * Happy-path cost of circuit breakers: one successful call through a closed breaker, beside
 * Effect's own `effect/persistence` breaker, cockatiel and opossum.
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from "cockatiel"
import { Effect, Scope } from "effect"
import * as EffectCB from "effect/persistence/CircuitBreaker"
import CircuitBreakerOpossum from "opossum"
import { Bulkhead, CircuitBreaker, Failure, Pipeline, Retry } from "../src/index.ts"
import type { Group } from "./harness.ts"

const scope = Effect.runSync(Scope.make())
const breaker = Effect.runSync(Scope.provide(CircuitBreaker.make({ name: "bench", log: false }), scope))
const rated = Effect.runSync(Scope.provide(
  CircuitBreaker.make({
    name: "rated",
    log: false,
    trip: [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 10, window: "10 seconds" })]
  }),
  scope
))
const effectBreaker = Effect.runSync(
  Scope.provide(
    EffectCB.make({ tripPolicy: EffectCB.consecutive(5), openDuration: "30 seconds" }).pipe(
      Effect.provide(EffectCB.layerStoreMemory())
    ),
    scope
  )
)
const one = Effect.succeed(1)
// An isolated circuit rejects every call: the cost of a rejection in an outage.
const isolated = Effect.runSync(Scope.provide(CircuitBreaker.make({ name: "isolated", log: false }), scope))
Effect.runSync(isolated.isolate)
const rejected = Effect.exit(isolated.execute(one))
// The same rejection as a pipeline sees it: classified (Permanent, kind CircuitOpen).
const rejectedClassified = Effect.exit(isolated.execute(one).pipe(Failure.classify()))
// A full bulkhead (one slot, held for ever; no queue) rejects every call.
const bulkhead = Effect.runSync(Bulkhead.make({ name: "full", maxConcurrent: 1, maxQueue: 0 }))
Effect.runFork(bulkhead.execute(Effect.never))
const rejectedByBulkhead = Effect.exit(bulkhead.execute(one))
const failedError = Effect.exit(Effect.suspend(() => Effect.fail(new Error("boom"))))
const failedTagged = Effect.exit(Effect.suspend(() => Effect.fail({ _tag: "Busy" })))
const guarded = breaker.execute(one)
const guardedRated = rated.execute(one)
const retried = breaker.execute(one).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false }))
const fused = one.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 3, initialDelay: 10, log: false }))
const effectGuarded = one.pipe(effectBreaker.execute({ key: "bench" }))
const cockatiel = circuitBreaker(handleAll, { breaker: new ConsecutiveBreaker(5), halfOpenAfter: 10_000 })
const asyncOne = async () => 1
export const opossum = new CircuitBreakerOpossum(asyncOne, { timeout: false, resetTimeout: 10_000 })

// The floor of DESIGN.md §3: a synchronous state read/write inside Effect.suspend + Effect.onExit.
const cell = { n: 0 }
const floor = Effect.suspend(() => {
  cell.n++
  return Effect.onExit(one, () => Effect.void)
})

export const breakerGroups: ReadonlyArray<Group> = [
  {
    name: "breaker (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "floor: Effect.suspend + Effect.onExit", run: () => Effect.runPromise(floor) },
      { name: "CircuitBreaker.execute (consecutive)", run: () => Effect.runPromise(guarded) },
      { name: "CircuitBreaker.execute (consecutive + 10 s failureRate)", run: () => Effect.runPromise(guardedRated) },
      { name: "Retry.retry(breaker.execute(effect))", run: () => Effect.runPromise(retried) },
      { name: "Pipeline.retryThroughBreaker (fused)", run: () => Effect.runPromise(fused) },
      { name: "effect/persistence CircuitBreaker.execute", run: () => Effect.runPromise(effectGuarded) }
    ]
  },
  {
    name: "breaker rejections (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "Effect.fail(tagged object) (exit): the floor", run: () => Effect.runPromise(failedTagged) },
      { name: "Effect.fail(new Error()) (exit)", run: () => Effect.runPromise(failedError) },
      { name: "isolated CircuitBreaker.execute (BreakerOpen exit)", run: () => Effect.runPromise(rejected) },
      { name: "… then Failure.classify (Permanent CircuitOpen exit)", run: () => Effect.runPromise(rejectedClassified) },
      { name: "full Bulkhead.execute (BulkheadFull exit)", run: () => Effect.runPromise(rejectedByBulkhead) }
    ]
  },
  {
    name: "breaker (promise libraries)",
    cases: [
      { name: "bare async call", run: () => asyncOne() },
      { name: "cockatiel circuitBreaker.execute", run: () => cockatiel.execute(asyncOne) },
      { name: "opossum fire", run: () => opossum.fire() }
    ]
  }
]
