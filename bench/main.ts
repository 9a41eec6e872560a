/**
 * Runs every benchmark group in one process and prints a markdown table of ns/call and ratios.
 *
 *   npm run bench            (full: 5 rounds)
 *   npm run bench -- --quick (1 round, for a smoke check)
 */
import { runGroups, toMarkdown } from "./harness.ts"
import { retryGroups } from "./retry.ts"

const quick = process.argv.includes("--quick")
const started = Date.now()
const results = await runGroups([...retryGroups], quick ? { rounds: 1, cpuTimeMs: 50 } : { rounds: 5 })
console.log(toMarkdown(results))
console.log(`\n${process.version}, ${results.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`)
