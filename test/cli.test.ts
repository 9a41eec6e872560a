import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { explain, render } from "../src/cli/explain.ts"
import { Policy } from "../src/index.ts"

const runCli = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, ["src/cli/bin.ts", ...args], { encoding: "utf8", timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe("explain", () => {
  it.effect("reproduces seed 001's aggressive table: rows, cap and ±20 % ranges", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ maxRetries: 5, initialDelay: "5 seconds", maxDelay: "300 seconds", multiplier: 3, jitter: 0.2 })
      const e = explain(policy)
      assert.deepStrictEqual(e.rows.map((r) => r.delayMs), [0, 5000, 15000, 45000, 135000, 300000])
      assert.deepStrictEqual(e.rows.map((r) => r.rangeMs.map(Math.round)), [[0, 0], [4000, 6000], [12000, 18000], [36000, 54000], [108000, 162000], [240000, 360000]])
      assert.deepStrictEqual(e.rows.map((r) => r.capped), [false, false, false, false, false, true])
      assert.strictEqual(e.rows[5]!.calculation, "5s × 3^4")
      const text = render("aggressive", policy)
      assert.include(text, "| 6       | 5s × 3^4    | 300s (capped)       | 240s - 360s |")
    }))

  it.effect("computes seed 003's worst case: sum of delays + attempts × operation time", () =>
    Effect.gen(function*() {
      // seed 003: 3 attempts, 2 s operation: (1 s + 2 s) + 3 × 2 s = 9 s
      const policy = yield* Policy.decode({ maxAttempts: 3, initialDelay: "1 second", jitter: "none" })
      const e = explain(policy, 2000)
      assert.strictEqual(e.totalDelayMs, 3000)
      assert.strictEqual(e.worstCaseMs, 9000)
      assert.include(render("seed 003", policy, 2000), "= 3s + 3 × 2s = 9s")
    }))

  it("bounds the worst case by a total timeout", () => {
    const e = explain({ ...Policy.presets.s3.retry, timeout: Policy.presets.s3.retry.maxDelay }, 60_000)
    assert.strictEqual(e.worstCaseMs, 30_000)
  })

  it("gives decorrelated backoff a range, not a fixed delay", () => {
    const policy = { ...Policy.defaults, strategy: "decorrelated" as const }
    const e = explain(policy)
    assert.deepStrictEqual(e.rows.map((r) => r.rangeMs), [[0, 0], [1000, 3000], [1000, 9000], [1000, 27000]])
    assert.strictEqual(e.rows[1]!.delayMs, undefined)
  })
})

// Each test starts Node on the TypeScript sources (up to three times): seconds apiece on a loaded
// machine, so these tests get a budget that only a hung process exhausts.
describe("effect-resilience explain (the real command)", { timeout: 180_000 }, () => {
  it("prints a preset's table", () => {
    const { status, stdout } = runCli("explain", "database")
    assert.strictEqual(status, 0)
    assert.include(stdout, "Pipeline: database - Database calls")
    assert.include(stdout, "| 3       | 100ms × 2^1 | 200ms")
  })

  it("reads a JSON policy file, also one with a `retry` field", () => {
    const dir = mkdtempSync(join(tmpdir(), "explain-"))
    const file = join(dir, "policy.json")
    writeFileSync(file, JSON.stringify({ retry: { name: "payments", maxAttempts: 3, initialDelay: "250 millis", jitter: "none" } }))
    const { status, stdout } = runCli("explain", file, "--json")
    assert.strictEqual(status, 0)
    const parsed = JSON.parse(stdout) as { rows: Array<{ delayMs: number }>; maxAttempts: number }
    assert.deepStrictEqual(parsed.rows.map((r) => r.delayMs), [0, 250, 500])
    assert.strictEqual(parsed.maxAttempts, 3)
  })

  it("rejects a bad file with every bad field named and exit code 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "explain-"))
    const file = join(dir, "bad.json")
    writeFileSync(file, JSON.stringify({ maxRetries: -1, initialDelay: "soon", jitter: 3 }))
    const { status, stderr } = runCli("explain", file)
    assert.strictEqual(status, 2)
    assert.include(stderr, "at maxRetries: Expected a value greater than or equal to 0, got -1")
    assert.include(stderr, "at initialDelay:")
    assert.include(stderr, "at jitter: Expected a value between 0 and 1, got 3")
  })

  it("rejects unreadable input, broken JSON and unknown presets with exit code 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "explain-"))
    const broken = join(dir, "broken.json")
    writeFileSync(broken, "{ not json")
    const a = runCli("explain", broken)
    assert.strictEqual(a.status, 2)
    assert.include(a.stderr, "is not valid JSON")
    const b = runCli("explain", join(dir, "missing.json"))
    assert.strictEqual(b.status, 2)
    assert.include(b.stderr, "Cannot read")
    const c = runCli("explain", "nonsense")
    assert.strictEqual(c.status, 2)
    assert.include(c.stderr, "Unknown preset \"nonsense\"")
  }, 60_000)
})
