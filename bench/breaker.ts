/**
 * Benchmark: the cost of one successful call through a closed breaker, as a ratio to a bare
 * `Effect.runPromise(Effect.succeed(1))`, beside Effect's own breaker, cockatiel and opossum.
 * Run: node_modules/.bin/node bench/breaker.ts
 */
import { ConsecutiveBreaker, circuitBreaker, handleAll } from "cockatiel"
import { Effect, Scope } from "effect"
import * as EffectCB from "effect/persistence/CircuitBreaker"
import { bench, run } from "mitata"
import CircuitBreakerOpossum from "opossum"
import { CircuitBreaker, Retry } from "../src/index.ts"

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
const guarded = breaker.execute(one)
const guardedRated = rated.execute(one)
const retried = breaker.execute(one).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10 }))
const effectGuarded = one.pipe(effectBreaker.execute({ key: "bench" }))
const cockatiel = circuitBreaker(handleAll, { breaker: new ConsecutiveBreaker(5), halfOpenAfter: 10_000 })
const asyncOne = async () => 1
const opossum = new CircuitBreakerOpossum(asyncOne, { timeout: false, resetTimeout: 10_000 })

// The floor: a synchronous state read/write inside Effect.suspend + Effect.onExit (DESIGN.md §3).
const cell = { n: 0 }
const floor = Effect.suspend(() => {
  cell.n++
  return Effect.onExit(one, () => Effect.void)
})

const names = {
  bare: "bare Effect.runPromise(Effect.succeed(1))",
  floor: "floor: Effect.suspend + Effect.onExit",
  breaker: "CircuitBreaker.execute (consecutive)",
  rated: "CircuitBreaker.execute (consecutive + 10 s failureRate)",
  retry: "Retry.retry + CircuitBreaker.execute",
  effect: "effect/persistence CircuitBreaker.execute",
  asyncBare: "bare async call",
  cockatiel: "cockatiel circuitBreaker.execute",
  opossum: "opossum fire"
}
bench(names.bare, () => Effect.runPromise(one))
bench(names.floor, () => Effect.runPromise(floor))
bench(names.breaker, () => Effect.runPromise(guarded))
bench(names.rated, () => Effect.runPromise(guardedRated))
bench(names.retry, () => Effect.runPromise(retried))
bench(names.effect, () => Effect.runPromise(effectGuarded))
bench(names.asyncBare, () => asyncOne())
bench(names.cockatiel, () => cockatiel.execute(asyncOne))
bench(names.opossum, () => opossum.fire())

const result = await run({ format: "quiet" } as never)
const avg = new Map<string, number>()
for (const b of (result as { benchmarks: Array<{ alias: string; runs: Array<{ stats?: { avg: number } }> }> }).benchmarks) {
  const stats = b.runs[0]?.stats
  if (stats) avg.set(b.alias, stats.avg)
}
const bare = avg.get(names.bare)!
const asyncBare = avg.get(names.asyncBare)!
for (const [name, ns] of avg) {
  const base = name === names.cockatiel || name === names.opossum || name === names.asyncBare ? asyncBare : bare
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(7)} ns/call  ${(ns / base).toFixed(2)}x ${base === bare ? "bare Effect" : "bare async"}  (${(ns / bare).toFixed(2)}x bare Effect)`)
}
opossum.shutdown()
