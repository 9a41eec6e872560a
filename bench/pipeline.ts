/**
 * Happy-path cost of a whole pipeline (Resilience.make): retry + budget + breaker + telemetry,
 * then with an attempt timeout and a bulkhead added, beside the one-frame floor, Effect's own
 * timeout and Effect's own equivalent of the realistic pipeline (timeout, retry, effect/persistence
 * breaker, semaphore), and cockatiel's `wrap(retry, breaker)`.
 */
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleAll, retry, wrap } from "cockatiel"
import { Effect, Schedule, Scope, Semaphore } from "effect"
import * as EffectCB from "effect/persistence/CircuitBreaker"
import { Policy, Resilience, Timeout } from "../src/index.ts"
import type { Group } from "./harness.ts"

const scope = Effect.runSync(Scope.make())
const make = (input: Resilience.Input) => Effect.runSync(Scope.provide(Resilience.make(input, { log: false }), scope))

const one = Effect.succeed(1)
// One successful call that suspends once (a promise), as every real call does.
const later = Effect.promise(() => Promise.resolve(1))
const http = { ...Policy.presets.http, budget: { type: "tokenBucket" } } as const
const full = make(http).execute(one)
const fullRatio = make({ ...Policy.presets.http, budget: { type: "ratio" } }).execute(one)
const withBulkhead = make({ ...http, bulkhead: { maxConcurrent: 100 } }).execute(one)
const withTimeout = make({ ...http, attemptTimeout: "5 seconds" }).execute(one)
const realistic = make({ ...http, attemptTimeout: "5 seconds", bulkhead: { maxConcurrent: 100 } })
const guarded = realistic.execute(one)
const guardedLater = realistic.execute(later)

// The floor: one frame (a state read/write in Effect.suspend, one exit observer with nothing to run).
const cell = { n: 0 }
const floor = Effect.suspend(() => {
  cell.n++
  return Effect.onExit(one, () => undefined as unknown as Effect.Effect<void>)
})

// Effect's own timeout, and Effect's own version of the realistic pipeline.
const effectTimeout = Effect.timeout(one, "5 seconds")
const ourTimeout = Timeout.attempt(one, "5 seconds")
const effectTimeoutLater = Effect.timeout(later, "5 seconds")
const ourTimeoutLater = Timeout.attempt(later, "5 seconds")
const effectBreaker = Effect.runSync(Scope.provide(
  EffectCB.make({ tripPolicy: EffectCB.consecutive(5), openDuration: "30 seconds" }).pipe(Effect.provide(EffectCB.layerStoreMemory())),
  scope
))
const semaphore = Effect.runSync(Semaphore.make(100))
const effectPipeline = (effect: Effect.Effect<number>) =>
  effect.pipe(
    Effect.timeout("5 seconds"),
    effectBreaker.execute({ key: "bench" }),
    Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.upTo({ times: 4 }))),
    Semaphore.withPermits(semaphore, 1)
  )
const effectOwn = effectPipeline(one)
const effectOwnLater = effectPipeline(later)

const asyncOne = async () => 1
const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { breaker: new ConsecutiveBreaker(5), halfOpenAfter: 10_000 })
)

const BARE_LATER = "bare Effect.runPromise(Effect.promise)"

export const pipelineGroups: ReadonlyArray<Group> = [
  {
    name: "pipeline (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "floor: Effect.suspend + Effect.onExit (nothing to run)", run: () => Effect.runPromise(floor) },
      { name: "Effect.timeout (Effect's own)", run: () => Effect.runPromise(effectTimeout) },
      { name: "Timeout.attempt", run: () => Effect.runPromise(ourTimeout) },
      { name: "http preset: retry + token budget + breaker + telemetry", run: () => Effect.runPromise(full) },
      { name: "http preset: retry + ratio budget + breaker + telemetry", run: () => Effect.runPromise(fullRatio) },
      { name: "… + bulkhead", run: () => Effect.runPromise(withBulkhead) },
      { name: "… + attempt timeout", run: () => Effect.runPromise(withTimeout) },
      { name: "realistic: … + attempt timeout + bulkhead", run: () => Effect.runPromise(guarded) },
      { name: "Effect's own: timeout + persistence breaker + retry + semaphore", run: () => Effect.runPromise(effectOwn) },
      { name: BARE_LATER, run: () => Effect.runPromise(later) },
      { name: "Effect.timeout over Effect.promise", baseline: BARE_LATER, run: () => Effect.runPromise(effectTimeoutLater) },
      { name: "Timeout.attempt over Effect.promise", baseline: BARE_LATER, run: () => Effect.runPromise(ourTimeoutLater) },
      { name: "realistic over Effect.promise", baseline: BARE_LATER, run: () => Effect.runPromise(guardedLater) },
      { name: "Effect's own over Effect.promise", baseline: BARE_LATER, run: () => Effect.runPromise(effectOwnLater) }
    ]
  },
  {
    name: "pipeline (promise libraries)",
    cases: [
      { name: "bare async call", run: () => asyncOne() },
      { name: "cockatiel wrap(retry, circuitBreaker).execute", run: () => cockatiel.execute(asyncOne) }
    ]
  }
]
