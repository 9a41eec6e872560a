import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A real redis-server for test/redis (installed when missing); see test/redis/globalSetup.ts.
    globalSetup: ["test/redis/globalSetup.ts"],
    // The default reporter prints vitest's usual summary, last; a silent reporter writes the
    // totals to .vitest-report.json so .ci/run can print plain "N passed, M failed" totals that
    // cannot be mistaken for a run that executed nothing.
    reporters: ["default", "./test/support/totalsReporter.ts"],
    pool: "threads",
    maxWorkers: 2,
    // A time limit guards against hangs; it is not an assertion. Tests that start processes, a
    // database or 10 000 decodes take several times longer on a loaded 2-core machine than alone.
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
