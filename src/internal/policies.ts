/**
 * The service of named pipelines behind `Resilience.layer*`: each decoded policy built once (every
 * bad field of every policy reported together, under its name), and their telemetry published
 * periodically and when the layer closes.
 */
import { Effect, Result, type Scope } from "effect"
import type { MakeOptions, Pipeline } from "../Pipeline.ts"
import type { PipelinePolicy } from "../Policy.ts"
import { DelayAtLeast } from "./fields.ts"
import { PolicyError, type PolicyIssue, prefixIssues } from "./policyError.ts"
import { decodeStrict } from "./strict.ts"

// A shorter interval would spend a core publishing; zero, negative or NaN would spin.
const PublishEvery = DelayAtLeast(100, "100 millis")

export interface BuildOptions {
  readonly publishEvery?: unknown
  readonly options?: Readonly<Record<string, MakeOptions>> | undefined
}

export interface Named<U> {
  readonly names: ReadonlyArray<string>
  readonly get: (name: string) => Effect.Effect<Pipeline, U>
  readonly getUnsafe: (name: string) => Pipeline | undefined
}

export const buildPolicies = <U>(
  policies: ReadonlyArray<readonly [name: string, policy: PipelinePolicy]>,
  options: BuildOptions,
  build: {
    readonly make: (policy: PipelinePolicy, options: MakeOptions) => Effect.Effect<Pipeline, PolicyError, Scope.Scope>
    readonly unknown: (name: string, available: ReadonlyArray<string>) => U
  }
): Effect.Effect<Named<U>, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const publishEvery = decodeStrict(PublishEvery, options.publishEvery ?? "10 seconds")
    if (Result.isFailure(publishEvery)) {
      return yield* new PolicyError({ issues: prefixIssues(["publishEvery"], publishEvery.failure.issues) })
    }
    const pipelines = new Map<string, Pipeline>()
    const issues: Array<PolicyIssue> = []
    for (const [name, policy] of policies) {
      const own = options.options !== undefined && Object.prototype.hasOwnProperty.call(options.options, name)
        ? options.options[name]
        : undefined
      const made = yield* Effect.result(build.make(policy, { name, ...own }))
      if (made._tag === "Success") pipelines.set(name, made.success)
      else issues.push(...prefixIssues([name], made.failure.issues))
    }
    if (issues.length > 0) return yield* new PolicyError({ issues })
    const names = [...pipelines.keys()]
    const publishAll = Effect.forEach(pipelines.values(), (p) => p.publish, { discard: true })
    yield* Effect.forkScoped(
      Effect.forever(Effect.andThen(Effect.sleep(publishEvery.success), publishAll))
    )
    yield* Effect.addFinalizer(() => publishAll)
    return {
      names,
      getUnsafe: (name: string) => pipelines.get(name),
      get: (name: string) => {
        const pipeline = pipelines.get(name)
        return pipeline === undefined ? Effect.fail(build.unknown(name, names)) : Effect.succeed(pipeline)
      }
    }
  })
