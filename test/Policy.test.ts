import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import { Backoff, Policy } from "../src/index.ts"

const DELAY = "Expected a non-negative finite duration, such as \"500 millis\", \"2 seconds\" or a number of milliseconds"
const STRATEGY = "Expected \"exponential\" | \"linear\" | \"fixed\" | \"fibonacci\" | \"decorrelated\""
const KIND = "Expected \"Network\" | \"Timeout\" | \"RateLimit\" | \"Server\" | \"Client\" | \"Auth\" | \"NotFound\" | \"Validation\" | \"CircuitOpen\" | \"Unknown\""

/** Each bad policy with the exact lines its PolicyError must contain (`at <path>: <message>`). */
const badPolicies: ReadonlyArray<readonly [name: string, input: unknown, lines: ReadonlyArray<string>]> = [
  ["negative maxRetries", { maxRetries: -1 }, ["at maxRetries: Expected a value greater than or equal to 0, got -1"]],
  ["fractional maxRetries", { maxRetries: 2.5 }, ["at maxRetries: Expected an integer, got 2.5"]],
  ["NaN maxRetries", { maxRetries: Number.NaN }, [
    "at maxRetries: Expected an integer, got NaN",
    "at maxRetries: Expected a value greater than or equal to 0, got NaN"
  ]],
  ["Infinity maxRetries", { maxRetries: Number.POSITIVE_INFINITY }, ["at maxRetries: Expected an integer, got Infinity"]],
  ["string maxRetries", { maxRetries: "3" }, ["at maxRetries: Expected number, got \"3\""]],
  ["null maxRetries", { maxRetries: null }, ["at maxRetries: Expected number, got null"]],
  ["zero maxAttempts", { maxAttempts: 0 }, ["at maxAttempts: Expected an integer of at least 1 (attempts include the first call), got 0"]],
  ["fractional maxAttempts", { maxAttempts: 1.5 }, ["at maxAttempts: Expected an integer of at least 1 (attempts include the first call), got 1.5"]],
  ["both maxAttempts and maxRetries", { maxAttempts: 3, maxRetries: 2 }, ["at maxAttempts: Give either maxAttempts or maxRetries, not both"]],
  ["negative initialDelay", { initialDelay: -5 }, [`at initialDelay: ${DELAY}, got -5`]],
  ["negative initialDelay string", { initialDelay: "-3 seconds" }, [`at initialDelay: ${DELAY}, got "-3 seconds"`]],
  ["non-numeric initialDelay", { initialDelay: "soon" }, [`at initialDelay: ${DELAY}, got "soon"`]],
  ["NaN initialDelay", { initialDelay: Number.NaN }, [`at initialDelay: ${DELAY}, got NaN`]],
  ["Infinity initialDelay", { initialDelay: Number.POSITIVE_INFINITY }, [`at initialDelay: ${DELAY}, got Infinity`]],
  ["\"Infinity\" initialDelay", { initialDelay: "Infinity" }, [`at initialDelay: ${DELAY}, got "Infinity"`]],
  ["unit-less string delay", { initialDelay: "100" }, [`at initialDelay: ${DELAY}, got "100"`]],
  ["boolean initialDelay", { initialDelay: true }, [`at initialDelay: ${DELAY}, got true`]],
  ["negative maxDelay", { maxDelay: -1 }, [`at maxDelay: ${DELAY}, got -1`]],
  ["maxDelay below initialDelay", { initialDelay: "10 seconds", maxDelay: "1 second" }, ["at maxDelay: Expected maxDelay to be at least initialDelay (10s), got \"1 second\""]],
  ["maxDelay below default initialDelay", { maxDelay: 10 }, ["at maxDelay: Expected maxDelay to be at least initialDelay (1s), got 10"]],
  ["multiplier below 1", { multiplier: 0.5 }, ["at multiplier: Expected a value greater than or equal to 1, got 0.5"]],
  ["negative multiplier", { multiplier: -2 }, ["at multiplier: Expected a value greater than or equal to 1, got -2"]],
  ["NaN multiplier", { multiplier: Number.NaN }, [
    "at multiplier: Expected a finite number, got NaN",
    "at multiplier: Expected a value greater than or equal to 1, got NaN"
  ]],
  ["Infinity multiplier", { multiplier: Number.POSITIVE_INFINITY }, ["at multiplier: Expected a finite number, got Infinity"]],
  ["jitter above 1", { jitter: 1.5 }, ["at jitter: Expected a value between 0 and 1, got 1.5"]],
  ["negative jitter", { jitter: -0.1 }, ["at jitter: Expected a value between 0 and 1, got -0.1"]],
  ["jitter ratio above 1", { jitter: { ratio: 2 } }, ["at jitter.ratio: Expected a value between 0 and 1, got 2"]],
  ["unknown jitter mode", { jitter: "decorrelated" }, ["at jitter: Expected \"none\" | \"full\" | \"equal\" | \"multiplicative\" | \"oneSided\", got \"decorrelated\""]],
  ["unknown strategy", { strategy: "cubic" }, [`at strategy: ${STRATEGY}, got "cubic"`]],
  ["numeric strategy", { strategy: 1 }, [`at strategy: ${STRATEGY}, got 1`]],
  ["bad step", { strategy: "linear", step: "a bit" }, [`at step: ${DELAY}, got "a bit"`]],
  ["negative timeout", { timeout: -1000 }, [`at timeout: ${DELAY}, got -1000`]],
  ["unknown kind in retryOn", { retryOn: ["Network", "Flaky"] }, [`at retryOn[1]: ${KIND}, got "Flaky"`]],
  ["retryOn not an array", { retryOn: "Network" }, ["at retryOn: Expected array, got \"Network\""]],
  ["unknown kind in neverRetryOn", { neverRetryOn: ["Auth", 7] }, [`at neverRetryOn[1]: ${KIND}, got 7`]],
  ["honorRetryAfter not boolean", { honorRetryAfter: "yes" }, ["at honorRetryAfter: Expected boolean, got \"yes\""]],
  ["bad unknownErrors", { unknownErrors: "retry" }, ["at unknownErrors: Expected \"Transient\" | \"Permanent\", got \"retry\""]],
  ["empty name", { name: "" }, ["at name: Expected a value with a length of at least 1, got \"\""]],
  ["alias and canonical both", { baseDelay: 100, initialDelay: 200 }, ["at baseDelay: Give either baseDelay or initialDelay, not both"]],
  ["bad aliased field", { initialBackoff: "later" }, [`at initialBackoff: ${DELAY}, got "later"`]],
  ["not an object", "retry please", ["at <root>: Expected object, got \"retry please\""]],
  ["null", null, ["at <root>: Expected object, got null"]],
  ["an array", [1, 2], ["at <root>: Expected object, got [1,2]"]],
  [
    "many bad fields at once",
    { maxRetries: -1, initialDelay: "soon", multiplier: 0, jitter: 7, strategy: "cubic", retryOn: ["Nope"] },
    [
      "at maxRetries: Expected a value greater than or equal to 0, got -1",
      `at initialDelay: ${DELAY}, got "soon"`,
      "at multiplier: Expected a value greater than or equal to 1, got 0",
      "at jitter: Expected a value between 0 and 1, got 7",
      `at strategy: ${STRATEGY}, got "cubic"`,
      `at retryOn[0]: ${KIND}, got "Nope"`
    ]
  ],
  [
    "a bad field and a cross-field problem together",
    { initialDelay: 5000, maxDelay: 10, jitter: 2 },
    ["at jitter: Expected a value between 0 and 1, got 2", "at maxDelay: Expected maxDelay to be at least initialDelay (5s), got 10"]
  ]
]

describe("Policy.decode", () => {
  it.effect("applies seed 000's defaults", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({})
      assert.strictEqual(policy.maxRetries, 3)
      assert.strictEqual(Duration.toMillis(policy.initialDelay), 1000)
      assert.strictEqual(Duration.toMillis(policy.maxDelay), 30_000)
      assert.strictEqual(policy.multiplier, 2)
      assert.deepStrictEqual(policy.jitter, { ratio: 0.1 })
      assert.strictEqual(policy.strategy, "exponential")
      assert.deepStrictEqual(policy, Policy.defaults)
    }))

  it.effect("accepts durations as strings or milliseconds, and seed field names", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ maxAttempts: 5, baseDelay: "200 millis", maxBackoff: 60_000, backoffFactor: 1.5, jitter: true })
      assert.strictEqual(policy.maxRetries, 4)
      assert.strictEqual(Duration.toMillis(policy.initialDelay), 200)
      assert.strictEqual(Duration.toMillis(policy.maxDelay), 60_000)
      assert.strictEqual(policy.multiplier, 1.5)
      // `jitter: true` is the one-sided jitter d + uniform(0, d/4).
      assert.deepStrictEqual(policy.jitter, { oneSided: 0.25 })
      const none = yield* Policy.decode({ jitter: false })
      assert.strictEqual(none.jitter, "none")
      const zero = yield* Policy.decode({ jitter: 0 })
      assert.strictEqual(zero.jitter, "none")
    }))

  it("names every bad field of at least 40 bad policies", () => {
    assert.isAtLeast(badPolicies.length, 40)
    const mismatches: Array<string> = []
    for (const [name, input, lines] of badPolicies) {
      const error = Effect.runSync(Effect.flip(Policy.decode(input)))
      assert.instanceOf(error, Policy.PolicyError, name)
      const actual = error.message.split("\n")
      if (JSON.stringify([...actual].sort()) !== JSON.stringify([...lines].sort()) || error.issues.length !== lines.length) {
        mismatches.push(`${name}:\n  got      ${JSON.stringify(actual)}\n  expected ${JSON.stringify(lines)}`)
      }
    }
    assert.deepStrictEqual(mismatches, [])
  })

  it("the RetryPolicy schema itself decodes and rejects", () => {
    const policy = Schema.decodeUnknownSync(Policy.RetryPolicy)({ maxRetries: 5, initialDelay: "200 millis" })
    assert.strictEqual(policy.maxRetries, 5)
    assert.throws(() => Schema.decodeUnknownSync(Policy.RetryPolicy)({ maxRetries: -5 }))
  })
})

describe("Policy.presets", () => {
  const table: ReadonlyArray<readonly [Policy.PresetName, number, number, string, boolean, boolean]> = [
    // name, attempts, initial ms, strategy, breaker, dead letters — seed 002's list, then seeds 001, 000, 003, 004
    ["database", 3, 100, "exponential", true, false],
    ["http", 5, 200, "exponential", true, false],
    ["s3", 4, 500, "exponential", false, true],
    ["cache", 2, 50, "fixed", false, false],
    ["inference", 4, 1000, "exponential", false, false],
    ["llm", 4, 1000, "exponential", false, false],
    ["cloudStorage", 3, 1000, "exponential", false, false],
    ["kafka", 3, 1000, "exponential", true, false]
  ]
  for (const [name, attempts, initial, strategy, breaker, deadLetters] of table) {
    it(`${name}: ${attempts} attempts, ${initial} ms, ${strategy}`, () => {
      const preset = Policy.presets[name]
      assert.strictEqual(preset.retry.maxRetries + 1, attempts)
      assert.strictEqual(Duration.toMillis(preset.retry.initialDelay), initial)
      assert.strictEqual(preset.retry.strategy, strategy)
      assert.strictEqual(preset.circuitBreaker, breaker)
      assert.strictEqual(preset.deadLetters, deadLetters)
      assert.strictEqual(preset.retry.name, name)
    })
  }

  it.effect("http uses full jitter; inference caps at 60 s (seed 001)", () =>
    Effect.gen(function*() {
      assert.strictEqual(Policy.presets.http.retry.jitter, "full")
      assert.strictEqual(Duration.toMillis(Policy.presets.inference.retry.maxDelay), 60_000)
      const delays = yield* Backoff.delays(Backoff.fromPolicy({ ...Policy.presets.inference.retry, jitter: "none" }), 10)
      assert.deepStrictEqual(delays.map(Duration.toMillis), [1000, 2000, 4000])
    }))
})

describe("Policy.decodePipeline", () => {
  it.effect("decodes a full pipeline with nested retry aliases and breaker rules", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decodePipeline({
        name: "payments",
        retry: { maxAttempts: 4, baseDelay: "200 millis", jitter: "full" },
        circuitBreaker: { failureRate: { threshold: 0.5, minimumCalls: 20, window: "1 minute" }, halfOpen: { probes: 3 } },
        budget: { type: "ratio", ratio: 0.1 },
        attemptTimeout: "2 seconds",
        timeout: 10_000,
        bulkhead: { maxConcurrent: 10, maxQueue: 100 }
      })
      assert.strictEqual(policy.retry !== false && policy.retry?.maxRetries, 3)
      assert.strictEqual(policy.retry !== false && policy.retry && Duration.toMillis(policy.retry.initialDelay), 200)
      const breaker = policy.circuitBreaker
      assert.isTrue(typeof breaker === "object" && Duration.isDuration(breaker.failureRate?.window))
      assert.strictEqual(typeof breaker === "object" && Duration.toMillis(breaker.openFor), 30_000)
      assert.strictEqual(policy.timeout && Duration.toMillis(policy.timeout), 10_000)
      assert.strictEqual(policy.deadLetters, false)
    }))

  it.effect("accepts the presets as pipeline policies", () =>
    Effect.gen(function*() {
      for (const preset of Object.values(Policy.presets)) {
        const policy = yield* Policy.decodePipeline(preset)
        assert.strictEqual(policy.circuitBreaker, preset.circuitBreaker, preset.name)
        assert.strictEqual(policy.deadLetters, preset.deadLetters, preset.name)
        assert.deepStrictEqual(policy.retry, preset.retry, preset.name)
      }
    }))

  it("names every bad nested field by its full path", () => {
    const error = Effect.runSync(Effect.flip(Policy.decodePipeline({
      retry: { maxRetries: -1, initialDelay: 5000, maxDelay: 10 },
      circuitBreaker: { consecutiveFailures: 0, failureRate: { threshold: 2, window: 0 }, halfOpen: { probes: 0 } },
      budget: { type: "ratio", ratio: 1.5 },
      bulkhead: { maxConcurrent: 0 },
      hedge: { delay: "soon", maxAttempts: 0 },
      attemptTimeout: -1
    })))
    const paths = error.issues.map((i) => Policy.formatPath(i.path))
    for (
      const expected of [
        "retry.maxRetries",
        "retry.maxDelay",
        "circuitBreaker.consecutiveFailures",
        "circuitBreaker.failureRate.threshold",
        "circuitBreaker.failureRate.window",
        "circuitBreaker.halfOpen.probes",
        "budget.ratio",
        "bulkhead.maxConcurrent",
        "hedge.delay",
        "hedge.maxAttempts",
        "attemptTimeout"
      ]
    ) {
      assert.include(paths, expected)
    }
    assert.include(error.message, "at retry.maxDelay: Expected maxDelay to be at least initialDelay (5s), got 10")
  })
})

describe("policies that start from a preset", () => {
  it.effect("keep the preset's description while unchanged, and say what a document changed", () =>
    Effect.gen(function*() {
      const doc = yield* Policy.decodeDocument({
        plain: { preset: "llm" },
        tuned: { preset: "llm", retry: { jitter: "none", maxRetries: 1 }, timeout: "2m" }
      })
      const byName = new Map(doc)
      assert.strictEqual(byName.get("plain")?.description, Policy.presets.llm.description)
      const tuned = byName.get("tuned")?.description ?? ""
      assert.notInclude(tuned, "±10 %")
      assert.include(tuned, "llm preset")
      for (const path of ["retry.jitter", "retry.maxRetries", "timeout"]) assert.include(tuned, path)
      const retry = byName.get("tuned")?.retry
      assert.strictEqual(retry !== undefined && retry !== false && retry.maxRetries, 1)
    }))
})
