/**
 * Happy-path cost of circuit breakers: one successful call through a closed breaker, beside
 * Effect's own `effect/persistence` breaker, cockatiel and opossum.
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from "cockatiel"
import { Clock, Context, Effect, type Exit, Schedule, Scope } from "effect"
import * as EffectCB from "effect/persistence/CircuitBreaker"
import CircuitBreakerOpossum from "opossum"
import { Bulkhead, CircuitBreaker, Deadline, Failure, Pipeline, Resilience, Retry, RetryBudget, Timeout } from "../src/index.ts"
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
// The same rejections as a pipeline sees them (classified, counted by its telemetry).
const pipelineOf = (input: Resilience.Input) => Effect.runSync(Scope.provide(Resilience.make(input, { log: false }), scope))
const isolatedPipeline = pipelineOf({ retry: { maxRetries: 3 }, circuitBreaker: true })
Effect.runSync(isolatedPipeline.breaker!.isolate)
const rejectedByPipeline = Effect.exit(isolatedPipeline.execute(one))
const fullPipeline = pipelineOf({ retry: { maxRetries: 3 }, bulkhead: { maxConcurrent: 1 } })
Effect.runFork(fullPipeline.execute(Effect.never))
const rejectedByFullPipeline = Effect.exit(fullPipeline.execute(one))
// An exhausted retry budget: a transient failure whose retry the budget denies (retryCost > capacity).
const emptyBudget = Effect.runSync(RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 }))
const transientFailure = Effect.fail(Failure.transient({ status: 503 }, { kind: "Server" }))
const deniedByBudget = Effect.exit(transientFailure.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, budget: emptyBudget, log: false })))
// An expired deadline (as an HTTP server's time-left header of 0 would set it, in the fiber's
// context): the attempt is not started, it fails Permanent; alone, and in a pipeline that counts it.
const expired = Effect.runPromiseWith(Context.make(Deadline.CurrentDeadline, 0))
const noTimeLeft = Effect.exit(Timeout.attempt(one, "5 seconds"))
const timedPipeline = pipelineOf({ retry: { maxRetries: 3 }, attemptTimeout: "5 seconds" })
const noTimeLeftInPipeline = Effect.exit(timedPipeline.execute(one))
// A call that fails at once (transient) under a deadline already past: the retry ends with reason "deadline".
const pastDeadline = Effect.exit(transientFailure.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false })))
// Effect's own nearest equivalent: a retry that its predicate stops at once.
const effectStopped = Effect.exit(transientFailure.pipe(Effect.retry({ schedule: Schedule.exponential(10), while: () => false })))

// The failure path of a breaker: a closed circuit's failure, and a half-open probe that fails
// (consecutive(1): the probe re-opens the circuit; the clock moves past openFor before each call).
const manual = { millis: 0 }
const live = Context.get(Context.empty(), Clock.Clock)
const manualClock: Clock.Clock = {
  ...live,
  sleep: (duration) => live.sleep(duration),
  currentTimeMillisUnsafe: () => manual.millis,
  currentTimeMillis: Effect.sync(() => manual.millis),
  currentTimeNanosUnsafe: () => BigInt(manual.millis) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(manual.millis) * 1_000_000n)
}
const probing = Effect.runSync(Scope.provide(
  CircuitBreaker.make({ name: "probing", log: false, trip: CircuitBreaker.consecutive(1), openFor: 1000 }).pipe(
    Effect.provideService(Clock.Clock, manualClock)
  ),
  scope
))
const failing = Effect.fail({ status: 503 })
Effect.runSync(Effect.exit(probing.execute(failing)))
const failedProbe = Effect.exit(Effect.suspend(() => {
  manual.millis += 1000
  return probing.execute(failing)
}))
// A closed circuit that never trips here (reset well before its million consecutive failures).
const patient = Effect.runSync(Scope.provide(CircuitBreaker.make({ name: "patient", log: false, trip: CircuitBreaker.consecutive(1_000_000) }), scope))
const patientFailure = Effect.exit(patient.execute(failing))
let patientCalls = 0
const closedFailure = Effect.suspend(() => ++patientCalls % 100_000 === 0 ? Effect.andThen(patient.reset, patientFailure) : patientFailure)
const failedError = Effect.exit(Effect.suspend(() => Effect.fail(new Error("boom"))))
const failedTagged = Effect.exit(Effect.suspend(() => Effect.fail({ _tag: "Busy" })))
const guarded = breaker.execute(one)
const guardedRated = rated.execute(one)
const retried = breaker.execute(one).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false }))
const fused = one.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 3, initialDelay: 10, log: false }))
const effectGuarded = one.pipe(effectBreaker.execute({ key: "bench" }))
const effectPatient = Effect.runSync(Scope.provide(
  EffectCB.make({ tripPolicy: EffectCB.consecutive(Number.MAX_SAFE_INTEGER), openDuration: "30 seconds" }).pipe(Effect.provide(EffectCB.layerStoreMemory())),
  scope
))
// Effect's own half-open probe that fails: consecutive(1), the clock past openDuration before each call.
const effectProbing = Effect.runSync(Scope.provide(
  EffectCB.make({ tripPolicy: EffectCB.consecutive(1), openDuration: "1 second" }).pipe(Effect.provide(EffectCB.layerStoreMemory())),
  scope
))
const effectFailedProbe = Effect.exit(Effect.suspend(() => {
  manual.millis += 1000
  return failing.pipe(effectProbing.execute({ key: "probing" }))
}).pipe(Effect.provideService(Clock.Clock, manualClock)))
const effectFailure = Effect.exit(Effect.fail({ status: 503 }).pipe(effectPatient.execute({ key: "failing" })))
const cockatiel = circuitBreaker(handleAll, { breaker: new ConsecutiveBreaker(5), halfOpenAfter: 10_000 })
const asyncOne = async () => 1
export const opossum = new CircuitBreakerOpossum(asyncOne, { timeout: false, resetTimeout: 10_000 })

// The floor of DESIGN.md §3: a synchronous state read/write inside Effect.suspend + Effect.onExit
// (whose handler has nothing to run, as the breaker's has not on a success).
const cell = { n: 0 }
const floor = Effect.suspend(() => {
  cell.n++
  return Effect.onExit(one, () => undefined as unknown as Effect.Effect<void>)
})

/** Checks that the failure-path cases measure what they say (run once before the rounds). */
export const checkBreakerCases = Effect.gen(function*() {
  for (let i = 0; i < 3; i++) yield* failedProbe
  const stats = yield* probing.stats
  if (stats.state !== "Open" || stats.calls < 4) throw new Error(`the half-open probe case is not probing: ${JSON.stringify(stats)}`)
  for (let i = 0; i < 3; i++) {
    const exit = yield* effectFailedProbe
    // A probe runs the call, so its exit is the call's own failure, not a CircuitOpen.
    if (exit._tag !== "Failure" || !JSON.stringify(exit).includes("503")) throw new Error("Effect's half-open probe case is not probing")
  }
  const closed = yield* closedFailure
  if (closed._tag !== "Failure" || (yield* patient.stats).state !== "Closed") throw new Error("the closed failure case is not closed")
  const denied = yield* deniedByBudget
  if (denied._tag !== "Failure" || JSON.stringify(denied).includes("budget") === false) throw new Error("the budget case is not denied by the budget")
  const ended = yield* Effect.promise(() => expired(pastDeadline))
  if (ended._tag !== "Failure" || !JSON.stringify(ended).includes('"reason":"deadline"')) throw new Error("the past deadline case does not end by the deadline")
  for (const late of [noTimeLeft, noTimeLeftInPipeline] as ReadonlyArray<Effect.Effect<Exit.Exit<unknown, unknown>>>) {
    const exit = yield* Effect.promise(() => expired(late))
    if (exit._tag !== "Failure" || !JSON.stringify(exit).includes('"scope":"deadline"')) throw new Error("the expired deadline case is not rejected by the deadline")
  }
})

export const breakerGroups: ReadonlyArray<Group> = [
  {
    name: "breaker (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "floor: Effect.suspend + Effect.onExit (nothing to run)", run: () => Effect.runPromise(floor) },
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
      { name: "full Bulkhead.execute (BulkheadFull exit)", run: () => Effect.runPromise(rejectedByBulkhead) },
      { name: "pipeline, isolated circuit (Permanent CircuitOpen, counted)", run: () => Effect.runPromise(rejectedByPipeline) },
      { name: "pipeline, full bulkhead (BulkheadFull, counted)", run: () => Effect.runPromise(rejectedByFullPipeline) },
      { name: "Retry.retry, exhausted token budget (RetriesExhausted budget exit)", run: () => Effect.runPromise(deniedByBudget) },
      { name: "Timeout.attempt, expired deadline (Permanent TimeoutExceeded exit)", run: () => expired(noTimeLeft) },
      { name: "pipeline, expired deadline (attempt timeout; Permanent, counted)", run: () => expired(noTimeLeftInPipeline) },
      { name: "Retry.retry, deadline already past (RetriesExhausted deadline exit)", run: () => expired(pastDeadline) },
      { name: "Effect.retry stopped by its predicate (Effect's own)", run: () => Effect.runPromise(effectStopped) }
    ]
  },
  {
    name: "breaker failure path (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "Effect.fail(object) (exit): the floor", run: () => Effect.runPromise(Effect.exit(failing)) },
      { name: "closed CircuitBreaker.execute, a failure (exit)", run: () => Effect.runPromise(closedFailure) },
      { name: "half-open probe that fails and re-opens (exit)", run: () => Effect.runPromise(failedProbe) },
      { name: "effect/persistence CircuitBreaker.execute, a failure (Effect's own)", run: () => Effect.runPromise(effectFailure) },
      { name: "effect/persistence half-open probe that fails (Effect's own)", run: () => Effect.runPromise(effectFailedProbe) }
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
