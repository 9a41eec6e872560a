/**
 * The `effect-resilience` command line: `explain` prints what a retry policy will do.
 *
 *   effect-resilience explain http
 *   effect-resilience explain ./policy.json --operation-time "2 seconds"
 *
 * A bad policy file gets a message naming every bad field and exit code 2.
 *
 * @since 0.1.0
 */
import { Console, Data, Duration, Effect, FileSystem, Option, Random } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Policy from "../Policy.ts"
import * as Demo from "./demo.ts"
import { explain, render } from "./explain.ts"

/**
 * The input could not be turned into a policy: exit code 2.
 *
 * @since 0.1.0
 */
export class BadInput extends Data.TaggedError("BadInput")<{ readonly message: string }> {}

const presetList = Object.keys(Policy.presets).join(", ")

/**
 * Loads a policy by preset name or from a JSON file (either a retry policy, or an object with a
 * `retry` field).
 *
 * @since 0.1.0
 */
export const loadPolicy = (
  source: string
): Effect.Effect<{ readonly title: string; readonly policy: Policy.RetryPolicy }, BadInput, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    if (Policy.isPresetName(source)) {
      const preset = Policy.presets[source]
      return { title: `${preset.name} (${preset.source}) - ${preset.description}`, policy: preset.retry }
    }
    if (!source.endsWith(".json") && !source.includes("/")) {
      return yield* new BadInput({ message: `Unknown preset "${source}". Presets: ${presetList}; or give a path to a JSON policy file.` })
    }
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(source).pipe(
      Effect.mapError((error) => new BadInput({ message: `Cannot read ${source}: ${error.message}` }))
    )
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) => new BadInput({ message: `${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` })
    })
    const retryInput = typeof json === "object" && json !== null && "retry" in json ? (json as { retry: unknown }).retry : json
    const policy = yield* Policy.decode(retryInput).pipe(
      Effect.mapError((error) => new BadInput({ message: `${source} is not a valid retry policy:\n${indent(error.message)}` }))
    )
    return { title: policy.name === undefined ? source : `${policy.name} (${source})`, policy }
  })

const indent = (text: string): string => text.split("\n").map((line) => `  ${line}`).join("\n")

const parseOperationTime = (value: Option.Option<string>): Effect.Effect<number, BadInput> =>
  Option.match(value, {
    onNone: () => Effect.succeed(0),
    onSome: (text) => {
      const asNumber = Number(text)
      const duration = Number.isFinite(asNumber) ? Option.some(Duration.millis(asNumber)) : Duration.fromInput(text as Duration.Input)
      return Option.match(Option.filter(duration, (d) => Duration.isFinite(d) && Duration.toMillis(d) >= 0), {
        onNone: () => Effect.fail(new BadInput({ message: `--operation-time: expected a duration such as "2 seconds", got "${text}"` })),
        onSome: (d) => Effect.succeed(Duration.toMillis(d))
      })
    }
  })

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
      if (json) {
        yield* Console.log(JSON.stringify({ policy: loaded.title, ...explain(loaded.policy, operationMs) }, null, 2))
      } else {
        yield* Console.log(render(loaded.title, loaded.policy, operationMs))
      }
    }).pipe(
      Effect.catchTag("BadInput", (error) =>
        Console.error(`error: ${error.message}`).pipe(Effect.andThen(Effect.sync(() => {
          process.exitCode = 2
        }))))
    )
).pipe(Command.withDescription("Print the delay table and worst-case total time of a retry policy"))

const demoCommand = Command.make(
  "demo",
  {
    workers: Flag.Int("workers").pipe(Flag.withDefault(16), Flag.withDescription("concurrent workers")),
    seconds: Flag.Int("seconds").pipe(Flag.withDefault(20), Flag.withDescription("length of the scripted run")),
    seed: Flag.Int("seed").pipe(Flag.optional, Flag.withDescription("seed the randomness for a repeatable run"))
  },
  ({ seconds, seed, workers }) =>
    Effect.gen(function*() {
      if (workers < 1 || workers > 1000 || seconds < 1 || seconds > 300) {
        yield* Console.error("error: --workers must be 1..1000 and --seconds 1..300")
        return yield* Effect.sync(() => {
          process.exitCode = 2
        })
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
      }).pipe(Effect.scoped, Effect.provide(Demo.layer))
      yield* Console.log(`\n${Demo.render(report)}`)
    }).pipe(Option.match(seed, { onNone: () => (e) => e, onSome: (s) => Random.withSeed(s) }))
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
export const main = Command.run(app, { version: "0.1.0" })
