// Prints "N passed, M failed" from the totals that test/support/totalsReporter.ts writes and the
// consumer test's report (.ci/consumer/run.mjs). A type-check failure counts as one failed check;
// a missing report or zero executed tests is a failure, never a green run.
import { readFileSync } from "node:fs"

const [reportPath, typecheckStatus = "0", consumerReportPath] = process.argv.slice(2)
let passed = 0
let failed = Number(typecheckStatus) === 0 ? 0 : 1
const read = (path) => {
  try {
    return JSON.parse(readFileSync(path, "utf8"))
  } catch (error) {
    console.error(`no test report at ${path}: ${error instanceof Error ? error.message : String(error)}`)
    failed += 1
    return undefined
  }
}
const report = read(reportPath)
if (report !== undefined) {
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0)
  if ((report.numTotalTests ?? 0) === 0) failed += 1
}
if (consumerReportPath !== undefined) {
  const consumer = read(consumerReportPath)
  if (consumer !== undefined) {
    passed += consumer.passed ?? 0
    failed += consumer.failed ?? 0
    if ((consumer.passed ?? 0) + (consumer.failed ?? 0) === 0) failed += 1
  }
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
