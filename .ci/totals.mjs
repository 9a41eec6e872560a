// Prints "N passed, M failed" from the totals that test/support/totalsReporter.ts writes. A
// type-check failure counts as one failed check; a missing report or zero executed tests is a
// failure, never a green run.
import { readFileSync } from "node:fs"

const [reportPath, typecheckStatus = "0"] = process.argv.slice(2)
let passed = 0
let failed = Number(typecheckStatus) === 0 ? 0 : 1
try {
  const report = JSON.parse(readFileSync(reportPath, "utf8"))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0)
  if ((report.numTotalTests ?? 0) === 0) failed += 1
} catch (error) {
  console.error(`no test report at ${reportPath}: ${error instanceof Error ? error.message : String(error)}`)
  failed += 1
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
