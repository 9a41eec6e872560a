/**
 * Runs every benchmark group in one process and prints a markdown table of ns/call and ratios.
 *
 *   npm run bench            (full: 5 interleaved rounds)
 *   npm run bench -- --quick (1 round, for a smoke check)
 *   npm run bench -- retry   (only groups whose name contains "retry")
 *   ROUNDS=3 npm run bench -- pipeline (fewer interleaved rounds)
 */
import { Effect } from "effect"
import { breakerGroups, checkBreakerCases, opossum } from "./breaker.ts"
import { runGroups, toMarkdown } from "./harness.ts"
import { pipelineGroups } from "./pipeline.ts"
import { retryGroups } from "./retry.ts"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const filter = args.find((a) => !a.startsWith("--"))
const groups = [...retryGroups, ...breakerGroups, ...pipelineGroups].filter((g) => filter === undefined || g.name.includes(filter))
await Effect.runPromise(checkBreakerCases)
const started = Date.now()
const results = await runGroups(groups, quick ? { rounds: 1, cpuTimeMs: 50 } : { rounds: Number(process.env.ROUNDS ?? 5) })
console.log(toMarkdown(results))
console.log(`\n${process.version}, ${results.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`)
opossum.shutdown()
