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
    // A time limit catches a hung test, it does not measure speed: CPU-bound tests (the model and
    // property tests) take several times their usual second on a loaded 2-core machine, past
    // vitest's 5 s default. Tests that need more say so themselves.
    testTimeout: 60_000,
    pool: "threads",
    maxWorkers: 2,
    // Starting a database or a redis-server (installing it when missing) in a hook is slower still.
    hookTimeout: 120_000
  }
})
