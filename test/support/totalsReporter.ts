// A silent vitest reporter that writes the run's totals to .vitest-report.json for .ci/run, so
// the test command's output still ends with vitest's own summary.
import { writeFileSync } from "node:fs"
import type { Reporter, TestModule } from "vitest/node"

export default class TotalsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    let failedModules = 0
    for (const module of testModules) {
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) failedModules++
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failed++
        else skipped++
      }
    }
    writeFileSync(
      ".vitest-report.json",
      JSON.stringify({
        numPassedTests: passed,
        numFailedTests: failed,
        numSkippedTests: skipped,
        numFailedTestSuites: failedModules + unhandledErrors.length,
        numTotalTests: passed + failed + skipped
      })
    )
  }
}
