/**
 * Happy-path cost of a whole pipeline (Resilience.make): retry + budget + breaker + telemetry,
 * then with an attempt timeout and a bulkhead added, beside cockatiel's `wrap(retry, breaker)`.
 */
import { ConsecutiveBreaker, circuitBreaker, ExponentialBackoff, handleAll, retry, wrap } from "cockatiel"
import { Effect, Scope } from "effect"
import { Policy, Resilience } from "../src/index.ts"
import type { Group } from "./harness.ts"

const scope = Effect.runSync(Scope.make())
const make = (input: Resilience.Input) => Effect.runSync(Scope.provide(Resilience.make(input, { log: false }), scope))

const one = Effect.succeed(1)
const full = make({ ...Policy.presets.http, budget: { type: "tokenBucket" } }).execute(one)
const fullRatio = make({ ...Policy.presets.http, budget: { type: "ratio" } }).execute(one)
const withBulkhead = make({ ...Policy.presets.http, budget: { type: "tokenBucket" }, bulkhead: { maxConcurrent: 100 } }).execute(one)
const withTimeout = make({ ...Policy.presets.http, budget: { type: "tokenBucket" }, attemptTimeout: "5 seconds" }).execute(one)
const guarded = make({ ...Policy.presets.http, budget: { type: "tokenBucket" }, attemptTimeout: "5 seconds", bulkhead: { maxConcurrent: 100 } }).execute(one)
const asyncOne = async () => 1
const cockatiel = wrap(
  retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
  circuitBreaker(handleAll, { breaker: new ConsecutiveBreaker(5), halfOpenAfter: 10_000 })
)

export const pipelineGroups: ReadonlyArray<Group> = [
  {
    name: "pipeline (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "http preset: retry + token budget + breaker + telemetry", run: () => Effect.runPromise(full) },
      { name: "http preset: retry + ratio budget + breaker + telemetry", run: () => Effect.runPromise(fullRatio) },
      { name: "… + bulkhead", run: () => Effect.runPromise(withBulkhead) },
      { name: "… + attempt timeout", run: () => Effect.runPromise(withTimeout) },
      { name: "… + attempt timeout + bulkhead", run: () => Effect.runPromise(guarded) }
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
