// Prometheus output of a pipeline's telemetry, through effect/observability's PrometheusMetrics.
// Run: node examples/prometheus.ts   (type-checked by `npm run typecheck`)
import { Effect, Layer } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { Policy, Resilience } from "../src/index.ts"

let calls = 0
const flaky = Effect.suspend(() => ++calls % 3 === 0 ? Effect.fail({ status: 503 }) : Effect.succeed("ok"))

const program = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.ignore(flaky.pipe(Resilience.protect("catalog")))
  yield* Resilience.stats("catalog") // publishes the counts to the Metrics
  const text = yield* PrometheusMetrics.format({ prefix: "shop" })
  yield* Effect.log(`\n${text}`)
})

const Live = Resilience.layer({
  catalog: { ...Policy.presets.http, retry: { ...Policy.presets.http.retry, initialDelay: 1, maxDelay: 5 } }
}, { options: { catalog: { log: false } } })

export const main = program.pipe(Effect.provide(Layer.mergeAll(Live)))

if (process.argv[1]?.endsWith("prometheus.ts")) Effect.runPromise(main)
