/**
 * Runs every benchmark group in one process and prints a markdown table of ns/call and ratios.
 *
 *   npm run bench            (full: 5 interleaved rounds)
 *   npm run bench -- --quick (1 round, for a smoke check)
 *   npm run bench -- retry   (only groups whose name contains "retry")
 */
import { breakerGroups, opossum } from "./breaker.ts"
import { runGroups, toMarkdown } from "./harness.ts"
import { pipelineGroups } from "./pipeline.ts"
import { timeoutGroups } from "./timeout.ts"
import { retryGroups } from "./retry.ts"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const filter = args.find((a) => !a.startsWith("--"))
const groups = [...retryGroups, ...breakerGroups, ...pipelineGroups, ...timeoutGroups].filter((g) => filter === undefined || g.name.includes(filter))
const started = Date.now()
const results = await runGroups(groups, quick ? { rounds: 1, cpuTimeMs: 50 } : { rounds: 5 })
console.log(toMarkdown(results))
console.log(`\n${process.version}, ${results.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`)
opossum.shutdown()
