// Before/after comparison of the breaker in one process (interleaved rounds): imports the old
// source tree from BASE (a checkout of the commit to compare against) and this one.
//   BASE=/tmp/bbase node bench/compare-breaker.ts
import { Context, Effect, Scope } from "effect"
import { runGroups, toMarkdown } from "./harness.ts"

const base = process.env.BASE
if (base === undefined) throw new Error("set BASE to a checkout to compare against")
const trees = { before: await import(`${base}/src/index.ts`), after: await import("../src/index.ts") }
const one = Effect.succeed(1)
const scope = Effect.runSync(Scope.make())
const cases = []
for (const [label, lib] of Object.entries(trees)) {
  const { CircuitBreaker, Deadline, Failure, Pipeline, Resilience, Retry, RetryBudget, Timeout } = lib as typeof import("../src/index.ts")
  const make = (options: Parameters<typeof CircuitBreaker.make>[0]) => Effect.runSync(Scope.provide(CircuitBreaker.make(options), scope))
  const breaker = make({ name: "bench", log: false })
  const rated = make({
    name: "rated",
    log: false,
    trip: [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 10, window: "10 seconds" })]
  })
  const isolated = make({ name: "isolated", log: false })
  Effect.runSync(isolated.isolate)
  const guarded = breaker.execute(one)
  const guardedRated = rated.execute(one)
  const retried = breaker.execute(one).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false }))
  // Trees from before the Pipeline module fused through `Retry.retry({ breaker })`; compare those by hand.
  const fused = Pipeline === undefined ? undefined : one.pipe(Pipeline.retryThroughBreaker(breaker, { maxRetries: 3, initialDelay: 10, log: false }))
  const rejected = Effect.exit(isolated.execute(one))
  // Issue 16's rejections: classified, in a pipeline, a spent budget, an expired deadline.
  const classified = Effect.exit(isolated.execute(one).pipe(Failure.classify()))
  const pipeline = Effect.runSync(Scope.provide(Resilience.make({ retry: { maxRetries: 3 }, circuitBreaker: true }, { log: false }), scope))
  Effect.runSync(pipeline.breaker!.isolate)
  const inPipeline = Effect.exit(pipeline.execute(one))
  const spent = Effect.runSync(RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 }))
  const denied = Effect.exit(Effect.fail(Failure.transient({ status: 503 }, { kind: "Server" })).pipe(
    Retry.retry({ maxRetries: 3, initialDelay: 10, budget: spent, log: false })
  ))
  const expired = Effect.runPromiseWith(Context.make(Deadline.CurrentDeadline, 0))
  const late = Effect.exit(Timeout.attempt(one, "5 seconds"))
  const pastDeadline = Effect.exit(Effect.fail(Failure.transient({ status: 503 }, { kind: "Server" })).pipe(
    Retry.retry({ maxRetries: 3, initialDelay: 10, log: false })
  ))
  cases.push(
    { name: `${label}: … then Failure.classify (exit)`, run: () => Effect.runPromise(classified) },
    { name: `${label}: pipeline, isolated circuit (exit)`, run: () => Effect.runPromise(inPipeline) },
    { name: `${label}: Retry.retry, spent token budget (exit)`, run: () => Effect.runPromise(denied) },
    { name: `${label}: Timeout.attempt, expired deadline (exit)`, run: () => expired(late) },
    { name: `${label}: Retry.retry, deadline already past (exit)`, run: () => expired(pastDeadline) }
  )
  cases.push(
    { name: `${label}: execute (consecutive)`, run: () => Effect.runPromise(guarded) },
    { name: `${label}: execute (consecutive + 10 s failureRate)`, run: () => Effect.runPromise(guardedRated) },
    { name: `${label}: Retry.retry(breaker.execute)`, run: () => Effect.runPromise(retried) },
    ...(fused === undefined ? [] : [{ name: `${label}: Pipeline.retryThroughBreaker fused`, run: () => Effect.runPromise(fused) }]),
    { name: `${label}: isolated rejection (exit)`, run: () => Effect.runPromise(rejected) }
  )
}
const results = await runGroups([{
  name: "breaker before/after",
  cases: [{ name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) }, ...cases]
}], { rounds: Number(process.env.ROUNDS ?? 5) })
console.log(toMarkdown(results))
