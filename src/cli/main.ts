/**
 * The `effect-resilience` command line: `explain` prints what a policy will do, `demo` runs a
 * flaky dependency through one.
 *
 *   effect-resilience explain http
 *   effect-resilience explain ./policy.yaml --operation-time "2 seconds"
 *   effect-resilience demo --policy ./policy.json
 *
 * Files are JSON or YAML: a retry policy, a pipeline policy, or named pipeline policies (as
 * `Resilience.layerFile` reads them). A bad or missing file gets a message naming every bad field
 * and exit code 2.
 *
 * @since 0.1.0
 */
import { Console, Data, Duration, Effect, Option, Random, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { toDuration } from "../internal/fields.ts"
import { documentDecoder } from "../internal/document.ts"
import { readPolicyFile } from "../internal/policyFile.ts"
import { fieldScore } from "../internal/strict.ts"
import * as Policy from "../Policy.ts"
import * as Demo from "./demo.ts"
import { explain, render, renderPipeline } from "./explain.ts"
import { createRequire } from "node:module"

// src/cli and dist/cli both sit two levels below package.json: one version, the package's own.
const packageVersion = (createRequire(import.meta.url)("../../package.json") as { readonly version: string }).version

/**
 * The input could not be turned into a policy: exit code 2.
 *
 * @since 0.1.0
 */
export class BadInput extends Data.TaggedError("BadInput")<{ readonly message: string }> {}

const presetList = Object.keys(Policy.presets).join(", ")

/**
 * What a policy source holds: one or more named pipelines, or a bare retry policy.
 *
 * @since 0.1.0
 */
export type Loaded =
  | { readonly _tag: "Retry"; readonly title: string; readonly policy: Policy.RetryPolicy }
  | { readonly _tag: "Pipelines"; readonly pipelines: ReadonlyArray<{ readonly title: string; readonly policy: Policy.PipelinePolicy }> }

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const fromResult = <A>(source: string, result: Result.Result<A, Policy.PolicyError>): Effect.Effect<A, BadInput> =>
  Result.isSuccess(result)
    ? Effect.succeed(result.success)
    : Effect.fail(new BadInput({ message: `${source} is not a valid policy:\n${indent(result.failure.message)}` }))

/**
 * Reads what a document is: named policies (every value an object, no key a policy field), a
 * pipeline policy, or a retry policy (more of its keys are retry fields than pipeline fields).
 */
const classify = (document: Record<string, unknown>): "named" | "pipeline" | "retry" => {
  const keys = Object.keys(document)
  const pipeline = fieldScore(Policy.PipelinePolicy.ast, [...keys.filter((k) => k.toLowerCase() !== "preset")])
  const retry = fieldScore(Policy.RetryPolicy.ast, keys)
  if (keys.length > 0 && pipeline === 0 && retry === 0 && keys.every((k) => isObject(document[k]))) return "named"
  return retry > pipeline ? "retry" : "pipeline"
}

const documents = documentDecoder(Policy.PipelinePolicy.ast, Policy.decodePipelineResult, Policy.presets)

/**
 * Loads a policy by preset name or from a JSON or YAML file.
 *
 * @since 0.1.0
 */
export const loadPolicy = (source: string): Effect.Effect<Loaded, BadInput> =>
  Effect.gen(function*() {
    if (Policy.isPresetName(source)) {
      const preset = Policy.presets[source]
      const policy = yield* fromResult(source, Policy.decodePipelineResult(preset))
      return { _tag: "Pipelines", pipelines: [{ title: `${preset.name} - ${preset.description}`, policy }] } as const
    }
    if (!/\.(json|ya?ml)$/i.test(source) && !source.includes("/")) {
      return yield* new BadInput({ message: `Unknown preset "${source}". Presets: ${presetList}; or give a path to a JSON or YAML policy file.` })
    }
    const document = yield* readPolicyFile(source).pipe(Effect.mapError((error) => new BadInput({ message: error.message.replace(/^at <root>: /, "") })))
    if (!isObject(document)) {
      return yield* new BadInput({ message: `${source}: expected a policy object, got ${Array.isArray(document) ? "an array" : typeof document}` })
    }
    switch (classify(document)) {
      case "retry": {
        const policy = yield* fromResult(source, Policy.decodeRetryResult(document))
        return { _tag: "Retry", title: policy.name === undefined ? source : `${policy.name} (${source})`, policy } as const
      }
      case "pipeline": {
        const policy = yield* fromResult(source, documents.decodeWithPreset(document))
        return { _tag: "Pipelines", pipelines: [{ title: policy.name === undefined ? source : `${policy.name} (${source})`, policy }] } as const
      }
      case "named": {
        const named = yield* fromResult(source, Policy.decodeDocumentResult(document))
        return { _tag: "Pipelines", pipelines: named.map(([name, policy]) => ({ title: `${name} (${source})`, policy })) } as const
      }
    }
  })

const indent = (text: string): string => text.split("\n").map((line) => `  ${line}`).join("\n")

const parseOperationTime = (value: Option.Option<string>): Effect.Effect<number, BadInput> =>
  Option.match(value, {
    onNone: () => Effect.succeed(0),
    onSome: (text) => {
      const asNumber = Number(text)
      const duration = Number.isFinite(asNumber) && text.trim() !== "" ? Duration.millis(asNumber) : toDuration(text)
      return duration === undefined || !Duration.isFinite(duration) || Duration.toMillis(duration) < 0
        ? Effect.fail(new BadInput({ message: `--operation-time: expected a duration such as "2 seconds" or "2s", got "${text}"` }))
        : Effect.succeed(Duration.toMillis(duration))
    }
  })

const reportBadInput = (error: BadInput) =>
  Console.error(`error: ${error.message}`).pipe(Effect.andThen(Effect.sync(() => {
    process.exitCode = 2
  })))

const explainCommand = Command.make(
  "explain",
  {
    policy: Argument.String("policy").pipe(
      Argument.withDescription(`a preset (${presetList}) or a JSON policy file`)
    ),
    operationTime: Flag.String("operation-time").pipe(
      Flag.optional,
      Flag.withDescription("how long one attempt takes, for the worst-case total (e.g. \"2 seconds\")")
    ),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the table as JSON"))
  },
  ({ json, operationTime, policy }) =>
    Effect.gen(function*() {
      const operationMs = yield* parseOperationTime(operationTime)
      const loaded = yield* loadPolicy(policy)
      if (loaded._tag === "Retry") {
        yield* Console.log(
          json
            ? JSON.stringify({ policy: loaded.title, ...explain(loaded.policy, operationMs) }, null, 2)
            : render(loaded.title, loaded.policy, operationMs)
        )
        return
      }
      if (json) {
        const out = loaded.pipelines.map(({ policy, title }) => ({
          policy: title,
          ...(policy.retry === false ? {} : explain(policy.retry ?? Policy.defaults, operationMs)),
          pipeline: summary(policy)
        }))
        yield* Console.log(JSON.stringify(out.length === 1 ? out[0] : out, null, 2))
        return
      }
      yield* Console.log(loaded.pipelines.map(({ policy, title }) => renderPipeline(title, policy, operationMs)).join("\n\n"))
    }).pipe(Effect.catchTag("BadInput", reportBadInput))
).pipe(Command.withDescription("Print what a policy does: every stage, the delay table and the worst-case total time"))

// Durations in milliseconds, for --json.
const summary = (policy: Policy.PipelinePolicy) => ({
  timeoutMs: policy.timeout === undefined ? undefined : Duration.toMillis(policy.timeout),
  attemptTimeoutMs: policy.attemptTimeout === undefined ? undefined : Duration.toMillis(policy.attemptTimeout),
  circuitBreaker: policy.circuitBreaker !== undefined && policy.circuitBreaker !== false,
  budget: policy.budget === undefined || policy.budget === false ? undefined : policy.budget.type,
  bulkhead: policy.bulkhead,
  hedge: policy.hedge === undefined ? undefined : { delayMs: Duration.toMillis(policy.hedge.delay), maxAttempts: policy.hedge.maxAttempts },
  deadLetters: policy.deadLetters
})

const demoCommand = Command.make(
  "demo",
  {
    workers: Flag.Int("workers").pipe(Flag.withDefault(16), Flag.withDescription("concurrent workers")),
    seconds: Flag.Int("seconds").pipe(Flag.withDefault(20), Flag.withDescription("length of the scripted run")),
    seed: Flag.Int("seed").pipe(Flag.optional, Flag.withDescription("seed the randomness for a repeatable run")),
    policy: Flag.String("policy").pipe(
      Flag.optional,
      Flag.withDescription("a preset or a JSON/YAML policy file to run the demo through (default: the demo's own policy)")
    )
  },
  ({ policy, seconds, seed, workers }) =>
    Effect.gen(function*() {
      if (workers < 1 || workers > 1000 || seconds < 1 || seconds > 300) {
        return yield* new BadInput({ message: "--workers must be 1..1000 and --seconds 1..300" })
      }
      let layer = Demo.layer
      let label: string | undefined
      if (Option.isSome(policy)) {
        const loaded = yield* loadPolicy(policy.value)
        const chosen = loaded._tag === "Retry"
          ? { title: loaded.title, policy: { retry: loaded.policy } as Policy.PipelinePolicyInput }
          : loaded.pipelines.length === 1
          ? loaded.pipelines[0]!
          : yield* new BadInput({ message: `${policy.value} holds ${loaded.pipelines.length} policies; the demo runs one` })
        layer = Demo.layerFor(chosen.policy as Policy.PipelinePolicyInput)
        label = chosen.title
      }
      yield* Console.log(
        `Scripted dependency: ${Demo.phases.map((p) => p.name).join(" -> ")}; ${workers} workers, ${seconds} s.`
      )
      const report = yield* Demo.run({
        workers,
        duration: Duration.seconds(seconds),
        thinkTime: "20 millis",
        progressEvery: "1 second",
        inPlace: process.stdout.isTTY === true
      }).pipe(
        Effect.scoped,
        Effect.provide(layer),
        Effect.mapError((error) => new BadInput({ message: `the policy cannot run:\n${indent(error.message)}` }))
      )
      yield* Console.log(`\n${label === undefined ? Demo.render(report) : Demo.render(report, label)}`)
    }).pipe(
      Option.match(seed, { onNone: () => (e) => e, onSome: (s) => Random.withSeed(s) }),
      Effect.catchTag("BadInput", reportBadInput)
    )
).pipe(Command.withDescription("Run a flaky dependency through a policy and report what happened"))

const app = Command.make("effect-resilience").pipe(
  Command.withDescription("Resilience policies for Effect: inspect and exercise them"),
  Command.withSubcommands([explainCommand, demoCommand])
)

/**
 * Runs the CLI with `process.argv`.
 *
 * @since 0.1.0
 */
export const main = Command.run(app, { version: packageVersion })
