// Policies from every source — Policy.decode, code constructors, JSON and YAML files,
// environment variables and `explain` — are decoded by the same strict schemas: the same values
// are accepted and rejected everywhere, every bad field is named with its path, and no input
// makes decoding throw or die.
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Duration, Effect, Exit, Layer, Result, Schema } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringify as toYaml } from "yaml"
import { explain } from "../src/cli/explain.ts"
import { loadPolicy } from "../src/cli/main.ts"
import { Bulkhead, CircuitBreaker, DeadLetter, Hedge, Policy, Resilience, Retry, RetryBudget, Timeout } from "../src/index.ts"

const dir = mkdtempSync(join(tmpdir(), "policy-sources-"))
let fileCount = 0
const writeFile = (ext: "json" | "yaml", content: unknown): string => {
  const file = join(dir, `p${fileCount++}.${ext}`)
  writeFileSync(file, ext === "json" ? JSON.stringify(content) : toYaml(content))
  return file
}

const layerError = (layer: Layer.Layer<Resilience.Policies, unknown>): Policy.PolicyError | undefined => {
  const exit = Effect.runSyncExit(Effect.scoped(Layer.build(layer)))
  if (Exit.isSuccess(exit)) return undefined
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  return reason?._tag === "Fail" && reason.error instanceof Policy.PolicyError ? reason.error : undefined
}

// Pipelines that keep dead letters need a store to put them in.
const runPromiseLayer = (layer: Layer.Layer<Resilience.Policies, unknown, DeadLetter.DeadLetters>) =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(Layer.build(Layer.provide(layer, DeadLetter.layerMemory())), (ctx) => Effect.succeed(ctx))).pipe(Effect.exit)
  )

const fileLayerError = async (ext: "json" | "yaml", document: unknown): Promise<Policy.PolicyError | undefined> => {
  const exit = await runPromiseLayer(Resilience.layerFile(writeFile(ext, document)))
  if (Exit.isSuccess(exit)) return undefined
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  return reason?._tag === "Fail" && reason.error instanceof Policy.PolicyError ? reason.error : undefined
}

/**
 * Bad pipeline documents (JSON-safe, so every file source can carry them): the paths every
 * error must name, and a fragment its message must hold.
 */
const badDocuments: ReadonlyArray<readonly [name: string, doc: Record<string, unknown>, expected: ReadonlyArray<readonly [path: string, fragment: string]>]> = [
  ["top-level typo", { attemptTimout: "1s" }, [["attemptTimout", "did you mean attemptTimeout?"]]],
  ["breaker spelled breaker", { breaker: { consecutiveFailures: 3 } }, [["breaker", "did you mean circuitBreaker?"]]],
  ["retry typo", { retry: { initalDelay: "2 seconds" } }, [["retry.initalDelay", "did you mean initialDelay?"]]],
  ["maxRetry", { retry: { maxRetry: 5 } }, [["retry.maxRetry", "did you mean maxRetries?"]]],
  ["two typos", { retry: { maxRetry: 5, initalDelay: "2 seconds" } }, [["retry.maxRetry", "maxRetries"], ["retry.initalDelay", "initialDelay"]]],
  ["breaker typo", { circuitBreaker: { consecutiveFailure: 3 } }, [["circuitBreaker.consecutiveFailure", "did you mean consecutiveFailures?"]]],
  ["breaker nested typo", { circuitBreaker: { halfOpen: { probe: 2 } } }, [["circuitBreaker.halfOpen.probe", "did you mean probes?"]]],
  ["rate rule typo", { circuitBreaker: { failureRate: { treshold: 0.5, window: 10 } } }, [["circuitBreaker.failureRate.treshold", "did you mean threshold?"]]],
  ["budget typo", { budget: { type: "ratio", ratoi: 0.1 } }, [["budget.ratoi", "did you mean ratio?"]]],
  ["bulkhead typo", { bulkhead: { maxConcurent: 3 } }, [["bulkhead.maxConcurent", "did you mean maxConcurrent?"]]],
  ["hedge typo", { hedge: { dealy: "1s" } }, [["hedge.dealy", "did you mean delay?"]]],
  ["jitter object typo", { retry: { jitter: { ration: 0.2 } } }, [["retry.jitter.ration", "did you mean ratio?"]]],
  ["two spellings", { retry: { maxAttempts: 3, max_attempts: 4 } }, [["retry.max_attempts", "Give either max_attempts or maxAttempts, not both"]]],
  ["alias and field", { retry: { maxRetries: 3, maxAttempts: 4 } }, [["retry.maxAttempts", "Give either maxAttempts or maxRetries, not both"]]],
  ["camel and snake", { retry: { initialDelay: "1s", initial_delay: "2s" } }, [["retry.initial_delay", "not both"]]],
  ["backoff aliases twice", { retry: { initialBackoff: "1s", baseDelay: "1s" } }, [["retry", "not both"]]],
  ["factor aliases twice", { retry: { backoffFactor: 2, exponentialBase: 3 } }, [["retry", "not both"]]],
  ["jitter aliases twice", { retry: { jitterFraction: 0.1, jitter: 0.2 } }, [["retry.jitterFraction", "not both"]]],
  ["dead letters twice", { deadLetters: true, dead_letters: false }, [["dead_letters", "not both"]]],
  ["snake bare number", { retry: { initial_delay: 1.0 } }, [["retry.initial_delay", "write \"1s\" or \"1ms\""]]],
  ["snake bare max", { retry: { max_delay: 10 } }, [["retry.max_delay", "write \"10s\""]]],
  ["unit-less string", { retry: { initialDelay: "100" } }, [["retry.initialDelay", "non-negative finite duration"]]],
  ["unknown unit", { retry: { initialDelay: "5 fortnights" } }, [["retry.initialDelay", "non-negative finite duration"]]],
  ["negative delay", { retry: { maxDelay: "-1s" } }, [["retry.maxDelay", "non-negative"]]],
  ["negative timeout", { timeout: -5 }, [["timeout", "non-negative"]]],
  ["attempt timeout text", { attemptTimeout: "soon" }, [["attemptTimeout", "non-negative"]]],
  ["string for number", { retry: { maxRetries: "3" } }, [["retry.maxRetries", "Expected number"]]],
  ["huge retries", { retry: { maxRetries: 20_000_000 } }, [["retry.maxRetries", "less than or equal to 1000"]]],
  ["huge attempts", { retry: { maxAttempts: 1e9 } }, [["retry.maxAttempts", "less than or equal to 1000"]]],
  ["zero attempts", { retry: { maxAttempts: 0 } }, [["retry.maxAttempts", "at least 1"]]],
  ["fractional retries", { retry: { maxRetries: 1.5 } }, [["retry.maxRetries", "integer"]]],
  ["huge count window", { circuitBreaker: { failureRate: { threshold: 0.5, window: 1e12 } } }, [["circuitBreaker.failureRate.window", "1..1000000"]]],
  ["zero window", { circuitBreaker: { failureRate: { threshold: 0.5, window: 0 } } }, [["circuitBreaker.failureRate.window", "whole number of calls"]]],
  ["too many buckets", { circuitBreaker: { failureRate: { threshold: 0.5, window: "1m", buckets: 1e7 } } }, [["circuitBreaker.failureRate.buckets", "less than or equal to 1000"]]],
  ["slow rule without slowerThan", { circuitBreaker: { slowCallRate: { threshold: 0.5, window: 10 } } }, [["circuitBreaker.slowCallRate.slowerThan", "Missing"]]],
  ["threshold above 1", { circuitBreaker: { failureRate: { threshold: 2, window: 10 } } }, [["circuitBreaker.failureRate.threshold", "between 0 and 1"]]],
  ["probes zero", { circuitBreaker: { halfOpen: { probes: 0 } } }, [["circuitBreaker.halfOpen.probes", "greater than or equal to 1"]]],
  ["open multiplier below 1", { circuitBreaker: { openForMultiplier: 0.5 } }, [["circuitBreaker.openForMultiplier", "greater than or equal to 1"]]],
  ["breaker as string", { circuitBreaker: "yes" }, [["circuitBreaker", "Expected"]]],
  ["budget type unknown", { budget: { type: "leaky" } }, [["budget", "Expected"]]],
  ["budget ratio too high", { budget: { type: "ratio", ratio: 1.5 } }, [["budget.ratio", "between 0 and 1"]]],
  ["budget capacity zero", { budget: { type: "tokenBucket", capacity: 0 } }, [["budget.capacity", "greater than or equal to 1"]]],
  ["budget cost fractional", { budget: { type: "tokenBucket", retryCost: 0.5 } }, [["budget.retryCost", "integer"]]],
  ["budget buckets huge", { budget: { type: "ratio", buckets: 5000 } }, [["budget.buckets", "less than or equal to 1000"]]],
  ["budget window zero", { budget: { type: "ratio", window: 0 } }, [["budget.window", "positive"]]],
  ["bulkhead zero", { bulkhead: { maxConcurrent: 0 } }, [["bulkhead.maxConcurrent", "greater than or equal to 1"]]],
  ["bulkhead missing", { bulkhead: {} }, [["bulkhead.maxConcurrent", "Missing"]]],
  ["bulkhead queue negative", { bulkhead: { maxConcurrent: 2, maxQueue: -1 } }, [["bulkhead.maxQueue", "greater than or equal to 0"]]],
  ["hedge attempts zero", { hedge: { delay: "1s", maxAttempts: 0 } }, [["hedge.maxAttempts", "greater than or equal to 1"]]],
  ["hedge without delay", { hedge: { maxAttempts: 2 } }, [["hedge.delay", "Missing"]]],
  ["sampling zero", { durationSampling: 0 }, [["durationSampling", "greater than or equal to 1"]]],
  ["strategy unknown", { retry: { strategy: "cubic" } }, [["retry.strategy", "exponential"]]],
  ["jitter type decorrelated", { retry: { jitterType: "decorrelated" } }, [["retry.jitterType", "strategy: \"decorrelated\""]]],
  ["jitter above 1", { retry: { jitter: 1.5 } }, [["retry.jitter", "between 0 and 1"]]],
  ["jitter both forms", { retry: { jitter: { ratio: 0.1, oneSided: 0.2 } } }, [["retry.jitter", "exactly one of ratio, oneSided"]]],
  ["retryOn unknown kind", { retry: { retryOn: ["Network", "Flaky"] } }, [["retry.retryOn[1]", "Network"]]],
  ["foreign setting with advice", { retry: { customConditions: [] } }, [["retry.customConditions", "`while` option"]]],
  ["prefixed foreign name", { retry: { inference_max_retries: 3 } }, [["retry.inference_max_retries", "did you mean"]]],
  ["maxDelay below initialDelay", { retry: { initialDelay: "10s", maxDelay: "1s" } }, [["retry.maxDelay", "at least initialDelay"]]],
  ["a bad field and a cross-field problem", { retry: { initialDelay: 5000, maxDelay: 10, jitter: 2 } }, [["retry.maxDelay", "at least initialDelay"], ["retry.jitter", "between 0 and 1"]]],
  ["__proto__ as a field", JSON.parse("{\"retry\":{\"__proto__\":{\"maxRetries\":1}}}"), [["retry.__proto__", "unknown field"]]],
  ["deeply nested", JSON.parse(`{"retry":{"jitter":${"{\"ratio\":".repeat(2000)}1${"}".repeat(2000)}}}`), [["retry.jitter.ratio", "Expected"]]],
  ["deep array", JSON.parse(`{"retry":${"[".repeat(3000)}${"]".repeat(3000)}}`), [["retry", "Expected"]]],
  ["many bad fields at once", { retry: { maxRetries: -1, initalDelay: "1s" }, bulkhead: { maxConcurrent: 0 }, hedge: { delay: "x" }, spans: "yes" }, [
    ["retry.maxRetries", "greater than or equal to 0"],
    ["retry.initalDelay", "initialDelay"],
    ["bulkhead.maxConcurrent", "1"],
    ["hedge.delay", "duration"],
    ["spans", "boolean"]
  ]]
]

const checkError = (label: string, error: Policy.PolicyError | undefined, expected: ReadonlyArray<readonly [string, string]>, prefix = ""): Array<string> => {
  if (error === undefined) return [`${label}: accepted`]
  const problems: Array<string> = []
  for (const [path, fragment] of expected) {
    const full = prefix === "" ? path : `${prefix}.${path}`
    const found = error.issues.some((i) => Policy.formatPath(i.path) === full && i.message.includes(fragment)) ||
      (path === "retry" && error.issues.some((i) => Policy.formatPath(i.path).startsWith(`${full}.`) && i.message.includes(fragment)))
    if (!found) problems.push(`${label}: no issue at ${full} with "${fragment}" in ${JSON.stringify(error.message)}`)
  }
  return problems
}

describe("bad documents: one PolicyError naming every bad field, from every source", () => {
  it("there are at least 60 of them", () => {
    assert.isAtLeast(badDocuments.length, 60)
  })

  it("Policy.decodePipeline", () => {
    const problems = badDocuments.flatMap(([name, doc, expected]) => {
      const exit = Effect.runSyncExit(Policy.decodePipeline(doc))
      const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
      return checkError(name, error?._tag === "Some" ? error.value : undefined, expected)
    })
    assert.deepStrictEqual(problems, [])
  })

  it("layerFile, JSON and YAML: the same issues under the policy's name", async () => {
    const problems: Array<string> = []
    for (const [name, doc, expected] of badDocuments) {
      if (name.startsWith("deep")) continue // YAML's own parser limits nesting; tested below
      for (const ext of ["json", "yaml"] as const) {
        problems.push(...checkError(`${name} (${ext})`, await fileLayerError(ext, { payments: doc }), expected, "payments"))
      }
    }
    assert.deepStrictEqual(problems, [])
  })

  it("explain reads the same files and reports the same issues", async () => {
    const problems: Array<string> = []
    for (const [name, doc, expected] of badDocuments) {
      const file = writeFile("json", doc)
      const exit = await Effect.runPromiseExit(loadPolicy(file))
      if (Exit.isSuccess(exit)) {
        problems.push(`${name}: explain accepted it`)
        continue
      }
      const error = Cause.findErrorOption(exit.cause)
      const message = error._tag === "Some" ? error.value.message : ""
      for (const [path, fragment] of expected) {
        if (!message.includes(`at ${path}`) || !message.includes(fragment)) problems.push(`${name}: ${path} / ${fragment} not in ${JSON.stringify(message)}`)
      }
    }
    assert.deepStrictEqual(problems, [])
  })

  it("the real explain command: exit code 2 and a message, for a bad, a deep and a missing file", () => {
    const run = (...args: Array<string>) => spawnSync(process.execPath, ["src/cli/bin.ts", ...args], { encoding: "utf8", timeout: 60_000 })
    const huge = run("explain", writeFile("json", { retry: { maxRetries: 20_000_000 } }))
    assert.strictEqual(huge.status, 2)
    assert.include(huge.stderr, "at retry.maxRetries: Expected a value less than or equal to 1000 (the limit), got 20000000")
    const deep = join(dir, "deep.json")
    writeFileSync(deep, `{"retry":${"[".repeat(5000)}${"]".repeat(5000)}}`)
    const d = run("explain", deep)
    assert.strictEqual(d.status, 2)
    assert.include(d.stderr, "at retry: Expected")
    assert.notInclude(d.stderr, "    at ") // no stack trace
    const missing = run("explain", join(dir, "missing.yaml"))
    assert.strictEqual(missing.status, 2)
    assert.strictEqual(missing.stderr.trim().split("\n").length, 1)
  }, 120_000)

  it("layerConfig: unknown variables and bad values name the variable", () => {
    const error = layerError(Resilience.layerConfig({ names: ["pay"] }).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
        env: {
          RESILIENCE_PAY_MAX_RETRY: "5",
          RESILIENCE_PAY_RETRY_INITIAL_DELAY: "soon",
          RESILIENCE_PAY_BREAKER_HALF_OPEN_PROBES: "0",
          RESILIENCE_PAY_HEDGE_DELAY: "1s",
          RESILIENCE_PAY_HEDGE_MAX_ATTEMPTS: "0",
          RESILIENCE_PAY_MAX_ATTEMPTS: "3",
          RESILIENCE_PAY_MAX_RETRIES: "2"
        }
      })))
    ))
    assert.isDefined(error)
    const message = error!.message
    assert.include(message, "Unknown variable RESILIENCE_PAY_MAX_RETRY")
    assert.include(message, "did you mean RESILIENCE_PAY_MAX_RETRIES")
    const second = layerError(Resilience.layerConfig({ names: ["pay"] }).pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
        env: {
          RESILIENCE_PAY_RETRY_INITIAL_DELAY: "soon",
          RESILIENCE_PAY_BREAKER_HALF_OPEN_PROBES: "0",
          RESILIENCE_PAY_HEDGE_DELAY: "1s",
          RESILIENCE_PAY_HEDGE_MAX_ATTEMPTS: "0",
          RESILIENCE_PAY_MAX_ATTEMPTS: "3",
          RESILIENCE_PAY_MAX_RETRIES: "2",
          RESILIENCE_PAY_BUDGET_RATIO: "2"
        }
      })))
    ))!.message
    assert.include(second, "at pay.retry.initialDelay: Expected a non-negative finite duration")
    assert.include(second, "(from RESILIENCE_PAY_RETRY_INITIAL_DELAY)")
    assert.include(second, "at pay.circuitBreaker.halfOpen.probes: Expected a value greater than or equal to 1, got 0 (from RESILIENCE_PAY_BREAKER_HALF_OPEN_PROBES)")
    assert.include(second, "at pay.hedge.maxAttempts: Expected a value greater than or equal to 1, got 0 (from RESILIENCE_PAY_HEDGE_MAX_ATTEMPTS)")
    assert.include(second, "at pay.retry.maxAttempts: Give either maxAttempts or maxRetries, not both")
    assert.include(second, "at pay.budget.ratio: Expected a value between 0 and 1, got 2 (from RESILIENCE_PAY_BUDGET_RATIO)")
  })

  it("layerConfig with prefix \"\" reads <NAME>_<FIELD>", () => {
    const exit = Effect.runSyncExit(Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(Resilience.layerConfig({ names: ["inference"], prefix: "" }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { INFERENCE_MAX_RETRIES: "5", _INFERENCE_MAX_RETRIES: "9" } })))
      ))
      const policies = yield* Effect.provide(Resilience.Policies, Layer.succeedContext(ctx))
      return policies.getUnsafe("inference")!.policy
    })))
    assert.isTrue(Exit.isSuccess(exit))
    const policy = Exit.isSuccess(exit) ? exit.value : undefined
    assert.strictEqual(policy?.retry !== false && policy?.retry?.maxRetries, 5)
  })
})

// ---------------------------------------------------------------------------------------------
// Every field of a pipeline policy is reachable from a file and from the environment
// ---------------------------------------------------------------------------------------------

/** A valid value for every leaf of PipelinePolicy, as text (env) and as data (files). */
const samples: Record<string, readonly [text: string, data: unknown]> = {
  name: ["orders", "orders"],
  description: ["Order calls", "Order calls"],
  retry: ["false", false],
  "retry.name": ["op", "op"],
  "retry.strategy": ["linear", "linear"],
  "retry.maxRetries": ["7", 7],
  "retry.initialDelay": ["250ms", "250ms"],
  "retry.maxDelay": ["2m30s", "2m30s"],
  "retry.multiplier": ["3", 3],
  "retry.step": ["1.5s", "1.5s"],
  "retry.jitter": ["multiplicative", "multiplicative"],
  "retry.jitter.ratio": ["0.3", 0.3],
  "retry.jitter.oneSided": ["0.4", 0.4],
  "retry.honorRetryAfter": ["false", false],
  "retry.maxRetryAfter": ["1m", "1m"],
  "retry.timeout": ["1h", "1h"],
  "retry.retryOn": ["Network,Timeout", ["Network", "Timeout"]],
  "retry.neverRetryOn": ["Auth", ["Auth"]],
  "retry.unknownErrors": ["Transient", "Transient"],
  circuitBreaker: ["true", true],
  "circuitBreaker.consecutiveFailures": ["9", 9],
  "circuitBreaker.failureRate.threshold": ["0.4", 0.4],
  "circuitBreaker.failureRate.minimumCalls": ["11", 11],
  "circuitBreaker.failureRate.window": ["50", 50],
  "circuitBreaker.failureRate.buckets": ["12", 12],
  "circuitBreaker.slowCallRate.threshold": ["0.6", 0.6],
  "circuitBreaker.slowCallRate.minimumCalls": ["13", 13],
  "circuitBreaker.slowCallRate.window": ["2m", "2m"],
  "circuitBreaker.slowCallRate.buckets": ["14", 14],
  "circuitBreaker.slowCallRate.slowerThan": ["3s", "3s"],
  "circuitBreaker.openFor": ["45s", "45s"],
  "circuitBreaker.maxOpenFor": ["20m", "20m"],
  "circuitBreaker.halfOpen.probes": ["4", 4],
  "circuitBreaker.halfOpen.successesToClose": ["6", 6],
  "circuitBreaker.openForMultiplier": ["1.5", 1.5],
  budget: ["false", false],
  "budget.type": ["tokenBucket", "tokenBucket"],
  "budget.capacity": ["77", 77],
  "budget.retryCost": ["3", 3],
  "budget.timeoutRetryCost": ["8", 8],
  "budget.successRefund": ["2", 2],
  "budget.ratio": ["0.2", 0.2],
  "budget.minPerSecond": ["4", 4],
  "budget.window": ["30s", "30s"],
  "budget.buckets": ["20", 20],
  timeout: ["9s", "9s"],
  attemptTimeout: ["900ms", "900ms"],
  "bulkhead.maxConcurrent": ["5", 5],
  "bulkhead.maxQueue": ["6", 6],
  "hedge.delay": ["120ms", "120ms"],
  "hedge.maxAttempts": ["3", 3],
  deadLetters: ["true", true],
  "deadLetters.rejected": ["true", true],
  tags: ["tenant,region", ["tenant", "region"]],
  spans: ["true", true],
  durationSampling: ["16", 16]
}

// Fields that need a sibling to decode (a rule needs its threshold and window, a hedge its delay).
const companions = (path: string): Record<string, unknown> => {
  const [head, rule] = path.split(".")
  if (head === "circuitBreaker" && (rule === "failureRate" || rule === "slowCallRate")) {
    return { [`circuitBreaker.${rule}.threshold`]: 0.5, [`circuitBreaker.${rule}.window`]: 10, ...(rule === "slowCallRate" ? { "circuitBreaker.slowCallRate.slowerThan": "1s" } : {}) }
  }
  if (head === "hedge") return { "hedge.delay": "1s" }
  if (head === "bulkhead") return { "bulkhead.maxConcurrent": 2 }
  if (path === "budget.type") return {}
  return {}
}

const setIn = (target: Record<string, unknown>, path: string, value: unknown) => {
  const keys = path.split(".")
  let node = target
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
  node[keys[keys.length - 1]!] = value
}

const getIn = (value: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((node, key) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined), value)

const normal = (u: unknown): unknown => (Duration.isDuration(u) ? Duration.toMillis(u) : u)

describe("every field of a pipeline policy is reachable", () => {
  const leaves = Policy.fields().map((f) => f.path.join("."))

  it("the sample table covers every field", () => {
    assert.deepStrictEqual(leaves.filter((p) => !(p in samples)), [])
  })

  it("from a file (JSON and YAML) and from environment variables", async () => {
    const problems: Array<string> = []
    for (const path of leaves) {
      const [text, data] = samples[path]!
      const doc: Record<string, unknown> = {}
      for (const [p, v] of Object.entries(companions(path))) if (p !== path) setIn(doc, p, v)
      setIn(doc, path, data)
      const expected = normal(getIn(Effect.runSync(Policy.decodePipeline(doc)), path))
      for (const ext of ["json", "yaml"] as const) {
        const exit = await runPromiseLayer(Resilience.layerFile(writeFile(ext, { p: doc })))
        if (Exit.isFailure(exit)) {
          problems.push(`${path} (${ext}): ${Cause.pretty(exit.cause).split("\n")[0]}`)
          continue
        }
        const policy = Effect.runSync(Effect.provide(Resilience.Policies, Layer.succeedContext(exit.value))).getUnsafe("p")!.policy
        if (JSON.stringify(normal(getIn(policy, path))) !== JSON.stringify(expected)) problems.push(`${path} (${ext}): ${JSON.stringify(getIn(policy, path))}`)
      }
      const env: Record<string, string> = {}
      const variable = (p: string) => `RESILIENCE_P_${p.split(".").map((s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_")}`
      for (const [p, v] of Object.entries(companions(path))) if (p !== path) env[variable(p)] = String(v)
      env[variable(path)] = text
      const exit = await runPromiseLayer(Resilience.layerConfig({ names: ["p"] }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
      ))
      if (Exit.isFailure(exit)) {
        problems.push(`${path} (env ${variable(path)}): ${Cause.pretty(exit.cause).split("\n")[0]}`)
        continue
      }
      const policy = Effect.runSync(Effect.provide(Resilience.Policies, Layer.succeedContext(exit.value))).getUnsafe("p")!.policy
      if (JSON.stringify(normal(getIn(policy, path))) !== JSON.stringify(expected)) problems.push(`${path} (env): ${JSON.stringify(getIn(policy, path))}`)
    }
    assert.deepStrictEqual(problems, [])
  })

  it("a policy named __proto__ is a policy, from JSON and YAML", async () => {
    for (const ext of ["json", "yaml"] as const) {
      const file = join(dir, `proto.${ext}`)
      writeFileSync(file, ext === "json" ? "{\"__proto__\": {\"retry\": {\"maxRetries\": 2}}}" : "__proto__:\n  retry:\n    maxRetries: 2\n")
      const exit = await runPromiseLayer(Resilience.layerFile(file))
      assert.isTrue(Exit.isSuccess(exit), ext)
      const policies = Effect.runSync(Effect.provide(Resilience.Policies, Layer.succeedContext(Exit.isSuccess(exit) ? exit.value : undefined as never)))
      assert.deepStrictEqual([...policies.names], ["__proto__"])
      const policy = policies.getUnsafe("__proto__")!.policy
      assert.strictEqual(policy.retry !== false && policy.retry?.maxRetries, 2)
    }
  })

  it("publishEvery of 0, negative or NaN is rejected with the bound", () => {
    for (const publishEvery of [0, -5, Number.NaN, "0 millis", 5]) {
      const error = layerError(Resilience.layer({ a: {} }, { publishEvery }))
      assert.isDefined(error, String(publishEvery))
      assert.include(error!.message, "at publishEvery: Expected a finite duration of at least 100 millis")
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Code and data accept and reject the same values
// ---------------------------------------------------------------------------------------------

const codeFails = (effect: Effect.Effect<unknown, unknown, any>): boolean => {
  const exit = Effect.runSyncExit(Effect.scoped(effect) as Effect.Effect<unknown, unknown>)
  if (Exit.isSuccess(exit)) return false
  const error = Cause.findErrorOption(exit.cause)
  const defect = exit.cause.reasons.find((r) => r._tag === "Die")
  return (error._tag === "Some" && error.value instanceof Policy.PolicyError) ||
    (defect?._tag === "Die" && defect.defect instanceof Policy.PolicyError)
}

const dataFails = (doc: unknown): boolean => Exit.isFailure(Effect.runSyncExit(Policy.decodePipeline(doc)))

describe("code and data agree, guard by guard", () => {
  const ints = [-1, 0, 1, 2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e7, 1e12]
  const delays: Array<unknown> = [-1, 0, 1, 250, "1s", "2m30s", "soon", "100", Number.NaN, Number.POSITIVE_INFINITY, "-1 seconds", Duration.seconds(1)]
  const ratios = [-0.1, 0, 0.5, 1, 1.5, Number.NaN]

  it("Bulkhead", () => {
    for (const maxConcurrent of ints) {
      for (const maxQueue of [0, 3, -1, 0.5]) {
        assert.strictEqual(codeFails(Bulkhead.make({ maxConcurrent, maxQueue })), dataFails({ bulkhead: { maxConcurrent, maxQueue } }), `${maxConcurrent}/${maxQueue}`)
      }
    }
  })

  it("Hedge", () => {
    for (const delay of delays) {
      for (const maxAttempts of ints) {
        const code = codeFails(Hedge.hedge(Effect.void, { delay: delay as Duration.Input, maxAttempts }))
        assert.strictEqual(code, dataFails({ hedge: { delay, maxAttempts } }), `${String(delay)}/${maxAttempts}`)
      }
    }
  })

  it("Timeout", () => {
    for (const d of delays) {
      assert.strictEqual(codeFails(Timeout.attempt(Effect.void, d as Duration.Input)), dataFails({ attemptTimeout: d }), String(d))
      assert.strictEqual(codeFails(Timeout.total(Effect.void, d as Duration.Input)), dataFails({ timeout: d }), String(d))
    }
  })

  it("RetryBudget", () => {
    for (const n of ints) {
      for (const field of ["capacity", "retryCost", "timeoutRetryCost", "successRefund"] as const) {
        assert.strictEqual(codeFails(RetryBudget.tokenBucket({ [field]: n })), dataFails({ budget: { type: "tokenBucket", [field]: n } }), `${field} ${n}`)
      }
      assert.strictEqual(codeFails(RetryBudget.ratio({ buckets: n })), dataFails({ budget: { type: "ratio", buckets: n } }), `buckets ${n}`)
      assert.strictEqual(codeFails(RetryBudget.ratio({ minPerSecond: n })), dataFails({ budget: { type: "ratio", minPerSecond: n } }), `minPerSecond ${n}`)
    }
    for (const r of ratios) assert.strictEqual(codeFails(RetryBudget.ratio({ ratio: r })), dataFails({ budget: { type: "ratio", ratio: r } }), `ratio ${r}`)
    for (const d of delays) {
      assert.strictEqual(codeFails(RetryBudget.ratio({ window: d as Duration.Input })), dataFails({ budget: { type: "ratio", window: d } }), `window ${String(d)}`)
    }
  })

  it("CircuitBreaker and its rules", () => {
    for (const n of ints) {
      assert.strictEqual(codeFails(CircuitBreaker.make({ trip: CircuitBreaker.consecutive(n), log: false })), dataFails({ circuitBreaker: { consecutiveFailures: n } }), `consecutive ${n}`)
      assert.strictEqual(codeFails(CircuitBreaker.make({ halfOpen: { probes: n }, log: false })), dataFails({ circuitBreaker: { halfOpen: { probes: n } } }), `probes ${n}`)
      for (const window of [n, "1m"]) {
        assert.strictEqual(
          codeFails(CircuitBreaker.make({ trip: CircuitBreaker.failureRate({ threshold: 0.5, window, minimumCalls: 2 }), log: false })),
          dataFails({ circuitBreaker: { failureRate: { threshold: 0.5, window, minimumCalls: 2 } } }),
          `window ${window}`
        )
      }
      assert.strictEqual(
        codeFails(CircuitBreaker.make({ trip: CircuitBreaker.failureRate({ threshold: 0.5, window: "1m", buckets: n }), log: false })),
        dataFails({ circuitBreaker: { failureRate: { threshold: 0.5, window: "1m", buckets: n } } }),
        `buckets ${n}`
      )
    }
    for (const r of ratios) {
      assert.strictEqual(
        codeFails(CircuitBreaker.make({ trip: CircuitBreaker.slowCallRate({ threshold: r, window: 10, slowerThan: "1 second" }), log: false })),
        dataFails({ circuitBreaker: { slowCallRate: { threshold: r, window: 10, slowerThan: "1s" } } }),
        `threshold ${r}`
      )
    }
    for (const d of delays) {
      assert.strictEqual(codeFails(CircuitBreaker.make({ openFor: d as Duration.Input, log: false })), dataFails({ circuitBreaker: { openFor: d } }), `openFor ${String(d)}`)
      assert.strictEqual(codeFails(CircuitBreaker.make({ maxOpenFor: d as Duration.Input, log: false })), dataFails({ circuitBreaker: { maxOpenFor: d } }), `maxOpenFor ${String(d)}`)
    }
  })

  it("Retry", () => {
    const fieldsAndValues: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
      ["maxRetries", ints],
      ["maxAttempts", ints],
      ["initialDelay", delays],
      ["maxRetryAfter", delays],
      ["multiplier", [0.5, 1, 2, Number.NaN]],
      ["exponentialBase", [0.5, 2]],
      ["jitter", [...ratios, true, false, "full", "oneSided", "multiplicative", "wobbly", { ratio: 0.1 }, { oneSided: 2 }]],
      ["maxRetry", [3]]
    ]
    for (const [field, values] of fieldsAndValues) {
      for (const value of values) {
        const code = codeFails(Effect.ignore(Retry.retry(Effect.void, { [field]: value, log: false } as Retry.RetryPolicyOptions<never>)))
        assert.strictEqual(code, dataFails({ retry: { [field]: value } }), `${field} ${String(value)}`)
      }
    }
  })

  it("DeadLetter memory store", () => {
    for (const capacity of ints) {
      const code = codeFails(Effect.asVoid(Layer.build(DeadLetter.layerMemory({ capacity }))))
      const data = Result.isFailure(Schema.decodeUnknownResult(DeadLetter.MemoryPolicy)({ capacity }))
      assert.strictEqual(code, data, String(capacity))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Other systems' configurations
// ---------------------------------------------------------------------------------------------

const rangesOf = (policy: Policy.RetryPolicy) => explain(policy).rows.slice(1).map((r) => r.rangeMs.map((ms) => Math.round(ms)))

describe("configurations written for other retry libraries", () => {
  it.effect("a Go config struct (PascalCase, MaxRetries/InitialBackoff/MaxBackoff/BackoffFactor/Jitter) decodes to its behaviour", () =>
    Effect.gen(function*() {
      const defaults = yield* Policy.decode({ MaxRetries: 3, InitialBackoff: "1s", MaxBackoff: "30s", BackoffFactor: 2.0, Jitter: 0.1 })
      assert.deepStrictEqual(defaults, Policy.defaults)
      const custom = yield* Policy.decode({ MaxRetries: 5, InitialBackoff: "500ms", MaxBackoff: "10s", BackoffFactor: 1.5, Jitter: 0.2 })
      assert.deepStrictEqual(explain(custom).rows.map((r) => r.delayMs), [0, 500, 750, 1125, 1687.5, 2531.25])
      assert.deepStrictEqual(rangesOf(custom)[0], [400, 600])
    }))

  it("a YAML client config with prefixed keys fails saying how to write it; unprefixed it decodes", async () => {
    const prefixed = await fileLayerError("yaml", {
      client: { inference_max_retries: 3, inference_initial_backoff: "1s", inference_max_backoff: "60s", inference_backoff_factor: 2.0, inference_jitter_fraction: 0.1 }
    })
    assert.include(prefixed!.message, "at client.inference_max_retries: unknown field — did you mean retry.maxRetries?")
    const file = join(dir, "inference.yaml")
    writeFileSync(file, "inference:\n  retry:\n    max_retries: 3\n    initial_backoff: 1s\n    max_backoff: 60s\n    backoff_factor: 2.0\n    jitter_fraction: 0.1\n")
    const exit = await runPromiseLayer(Resilience.layerFile(file))
    assert.isTrue(Exit.isSuccess(exit))
    const policy = Effect.runSync(Effect.provide(Resilience.Policies, Layer.succeedContext(Exit.isSuccess(exit) ? exit.value : undefined as never))).getUnsafe("inference")!.policy
    const retry = policy.retry !== false ? policy.retry! : Policy.defaults
    assert.deepStrictEqual({ ...retry, name: "inference" }, Policy.presets.inference.retry)
    assert.deepStrictEqual(explain(retry).rows.map((r) => r.delayMs), [0, 1000, 2000, 4000])
  })

  it.effect("a config with MaxAttempts/BaseDelay/Strategy/JitterType decodes; JitterType with JitterMaxDeviation says how to write it", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ MaxAttempts: 5, BaseDelay: "200ms", MaxDelay: "10s", Timeout: "2m", Strategy: "exponential", Multiplier: 1.5, JitterType: "equal" })
      assert.strictEqual(policy.maxRetries, 4)
      assert.strictEqual(policy.jitter, "equal")
      assert.strictEqual(Duration.toMillis(policy.timeout!), 120_000)
      const both = yield* Effect.flip(Policy.decode({ JitterType: "equal", JitterMaxDeviation: 0.1 }))
      assert.include(both.message, "at JitterMaxDeviation: Give either JitterMaxDeviation or JitterType, not both")
      const breaker = yield* Effect.flip(Policy.decode({ MaxAttempts: 3, EnableCircuitBreaker: true }))
      assert.include(breaker.message, "write circuitBreaker: true next to retry")
      const pipeline = yield* Policy.decodePipeline({ enableCircuitBreaker: true, enableDeadLetter: true, retry: { MaxAttempts: 3, BaseDelay: "100ms" } })
      assert.strictEqual(pipeline.circuitBreaker, true)
      assert.strictEqual(pipeline.deadLetters, true)
    }))

  it.effect("Jitter: true is base + uniform(0, base/4)", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.decode({ MaxAttempts: 3, InitialDelay: "1s", MaxDelay: "30s", Multiplier: 2.0, Jitter: true })
      assert.deepStrictEqual(policy.jitter, { oneSided: 0.25 })
      assert.deepStrictEqual(rangesOf(policy), [[1000, 1250], [2000, 2500]])
    }))

  it.effect("Python keyword arguments in seconds fail saying how to write them; written with units they decode", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Policy.decode({ max_attempts: 3, initial_delay: 1.0, max_delay: 10.0, exponential_base: 2.0, jitter: true }))
      assert.include(error.message, "at initial_delay: A bare number is ambiguous in a snake_case field")
      assert.include(error.message, "write \"1s\" or \"1ms\"")
      assert.include(error.message, "at max_delay:")
      const policy = yield* Policy.decode({ max_attempts: 3, initial_delay: "1s", max_delay: "10s", exponential_base: 2.0, jitter: "multiplicative" })
      assert.strictEqual(policy.maxRetries, 2)
      assert.deepStrictEqual(rangesOf(policy), [[500, 1500], [1000, 3000]])
    }))
})

// ---------------------------------------------------------------------------------------------
// Fuzzing: no input makes decoding throw or die
// ---------------------------------------------------------------------------------------------

// mulberry32: a small seeded generator, so a failure reproduces.
const prng = (seed: number) => () => {
  seed = (seed + 0x6D2B79F5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const keyPool = [
  "retry", "circuitBreaker", "budget", "bulkhead", "hedge", "timeout", "attemptTimeout", "deadLetters", "name", "preset",
  "maxRetries", "maxAttempts", "max_attempts", "initialDelay", "initial_delay", "maxDelay", "jitter", "jitterType", "strategy",
  "failureRate", "slowCallRate", "threshold", "window", "buckets", "halfOpen", "probes", "type", "ratio", "capacity", "delay",
  "maxConcurrent", "__proto__", "constructor", "toString", "", "💥", "a.b", "x".repeat(200)
]

const randomValue = (next: () => number, depth: number): unknown => {
  const r = next()
  if (depth > 5 || r < 0.35) {
    const p = next()
    if (p < 0.15) return Math.floor(next() * 20) - 5
    if (p < 0.25) return [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, -1e12, 0.5, Number.MAX_SAFE_INTEGER][Math.floor(next() * 7)]
    if (p < 0.45) return ["1s", "2m30s", "500 millis", "soon", "", "http", "ratio", "tokenBucket", "full", "-1s", "1e999 seconds"][Math.floor(next() * 11)]
    if (p < 0.55) return next() < 0.5
    if (p < 0.6) return null
    return next() * 1000
  }
  if (r < 0.5) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1))
  const out: Record<string, unknown> = {}
  const n = Math.floor(next() * 5)
  for (let i = 0; i < n; i++) {
    Object.defineProperty(out, keyPool[Math.floor(next() * keyPool.length)]!, { value: randomValue(next, depth + 1), enumerable: true, configurable: true, writable: true })
  }
  return out
}

const deepValue = (next: () => number): unknown => {
  const depth = 500 + Math.floor(next() * 4000)
  const key = keyPool[Math.floor(next() * 12)]!
  let value: unknown = next() < 0.5 ? 1 : "x"
  for (let i = 0; i < depth; i++) value = next() < 0.5 ? [value] : { [key]: value }
  return next() < 0.5 ? { retry: value } : value
}

describe("fuzzing the decoders", () => {
  it("10 000 random and deep documents: no throw, no defect, only typed PolicyErrors", () => {
    const next = prng(20240613)
    let throws = 0
    let defects = 0
    let decoded = 0
    const documents = 10_000
    for (let i = 0; i < documents; i++) {
      const input = i % 20 === 0 ? deepValue(next) : randomValue(next, 0)
      const runs: ReadonlyArray<(u: unknown) => Effect.Effect<unknown, Policy.PolicyError>> = [Policy.decodePipeline, Policy.decode, Policy.decodeDocument]
      for (const run of runs) {
        try {
          const exit = Effect.runSyncExit(run(input))
          if (Exit.isSuccess(exit)) decoded++
          else if (!exit.cause.reasons.every((r) => r._tag === "Fail" && r.error instanceof Policy.PolicyError)) defects++
          else void exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error.message : "")).join()
        } catch {
          throws++
        }
      }
    }
    assert.strictEqual(throws, 0)
    assert.strictEqual(defects, 0)
    // Some random documents are valid policies: the fuzzer reaches the success path too.
    assert.isAbove(decoded, 0)
  })
})
