/**
 * Runs every benchmark group in one process and prints a markdown table of ns/call and ratios.
 *
 *   npm run bench            (full: 5 interleaved rounds)
 *   npm run bench -- --quick (1 round, for a smoke check)
 *   npm run bench -- retry   (only groups whose name contains "retry")
 *   ROUNDS=3 npm run bench -- pipeline (fewer interleaved rounds)
 *   npm run bench -- targets (issue 16's cases in one group)
 */
import { Effect } from "effect"
import { breakerGroups, checkBreakerCases, opossum } from "./breaker.ts"
import { runGroups, toMarkdown } from "./harness.ts"
import { pipelineGroups } from "./pipeline.ts"
import { timeoutGroups } from "./timeout.ts"
import { retryGroups } from "./retry.ts"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const filter = args.find((a) => !a.startsWith("--"))
const all = [...retryGroups, ...breakerGroups, ...pipelineGroups, ...timeoutGroups]

// Issue 16's targets side by side in one group (one process, interleaved rounds): each case beside
// the bare call, the one-frame floor and Effect's own equivalent.
const targetCases = [
  "bare Effect.runPromise(Effect.succeed)",
  "floor: Effect.suspend + Effect.onExit (nothing to run)",
  "Pipeline.retryThroughBreaker (fused)",
  "Retry.retry(breaker.execute(effect))",
  "Effect.timeout (Effect's own)",
  "Timeout.attempt",
  "realistic: … + attempt timeout + bulkhead",
  "Effect's own: timeout + persistence breaker + retry + semaphore",
  "Effect.fail(tagged object) (exit): the floor",
  "isolated CircuitBreaker.execute (BreakerOpen exit)",
  "… then Failure.classify (Permanent CircuitOpen exit)",
  "pipeline, isolated circuit (Permanent CircuitOpen, counted)",
  "full Bulkhead.execute (BulkheadFull exit)",
  "pipeline, full bulkhead (BulkheadFull, counted)",
  "Retry.retry, exhausted token budget (RetriesExhausted budget exit)",
  "Timeout.attempt, expired deadline (Permanent TimeoutExceeded exit)",
  "pipeline, expired deadline (attempt timeout; Permanent, counted)",
  "Retry.retry, deadline already past (RetriesExhausted deadline exit)",
  "Effect.retry stopped by its predicate (Effect's own)"
]
const byName = new Map(all.flatMap((g) => g.cases.filter((c) => c.baseline === undefined).map((c) => [c.name, c] as const)))
const targets = { name: "targets (Effect)", cases: targetCases.map((name) => byName.get(name)!) }

const groups = [...all, targets].filter((g) => filter === undefined ? g !== targets : g.name.includes(filter))
await Effect.runPromise(checkBreakerCases)
const started = Date.now()
const results = await runGroups(groups, quick ? { rounds: 1, cpuTimeMs: 50 } : { rounds: Number(process.env.ROUNDS ?? 5) })
console.log(toMarkdown(results))
console.log(`\n${process.version}, ${results.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`)
opossum.shutdown()
