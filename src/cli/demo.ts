/**
 * `demo`: a flaky in-process dependency (healthy → 30 % transient errors → rate limiting with
 * Retry-After → full outage → recovery) called by concurrent workers through a named policy,
 * with a live progress line and a final report. Everything reads `Clock` and `Random`, so the
 * same program runs in real time from the CLI and instantly under `TestClock` in tests.
 *
 * @since 0.1.0
 */
import { Clock, Console, Duration, Effect, Fiber, Layer, Random, Ref, Stream } from "effect"
import type * as CircuitBreaker from "../CircuitBreaker.ts"
import * as DeadLetter from "../DeadLetter.ts"
import type { Kind } from "../internal/kind.ts"
import * as Policy from "../Policy.ts"
import * as Resilience from "../Resilience.ts"

/**
 * One phase of the scripted dependency.
 *
 * @since 0.1.0
 */
export interface Phase {
  readonly name: string
  /** Share of the phase's total time (the phases' weights are scaled to the run's duration). */
  readonly weight: number
  /** Decides one call's fate from a uniform draw. */
  readonly fate: (draw: number) => Fate
}

/**
 * What the dependency does with one call.
 *
 * @since 0.1.0
 */
export type Fate =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Fail"; readonly error: DemoError }

/**
 * The dependency's errors: HTTP-like statuses and Node network codes, so the default classifier
 * sorts them as it would in production.
 *
 * @since 0.1.0
 */
export interface DemoError {
  readonly message: string
  readonly status?: number
  readonly code?: string
  readonly headers?: Readonly<Record<string, string>>
}

const unavailable: DemoError = { message: "503 Service Unavailable", status: 503 }
const reset: DemoError = { message: "read ECONNRESET", code: "ECONNRESET" }
const throttled: DemoError = { message: "429 Too Many Requests", status: 429, headers: { "retry-after": "1" } }

/**
 * The script of issue #4: healthy, 30 % transient errors, rate limiting with Retry-After, full
 * outage, recovery.
 *
 * @example
 * ```ts
 * import { phases } from "effect-resilience/cli/demo"
 * phases.map((p) => p.name) // ["healthy", "flaky", "rate-limited", "outage", "recovery"]
 * ```
 * @since 0.1.0
 */
export const phases: ReadonlyArray<Phase> = [
  { name: "healthy", weight: 2, fate: () => ({ _tag: "Ok" }) },
  {
    name: "flaky",
    weight: 2,
    fate: (r) => r < 0.15 ? { _tag: "Fail", error: unavailable } : r < 0.3 ? { _tag: "Fail", error: reset } : { _tag: "Ok" }
  },
  { name: "rate-limited", weight: 2, fate: (r) => r < 0.5 ? { _tag: "Fail", error: throttled } : { _tag: "Ok" } },
  { name: "outage", weight: 3, fate: () => ({ _tag: "Fail", error: unavailable }) },
  { name: "recovery", weight: 3, fate: () => ({ _tag: "Ok" }) }
]

/**
 * The demo's policy: the `http` preset with a breaker that opens fast, a 10 % retry budget, an
 * attempt timeout and dead letters.
 *
 * @since 0.1.0
 */
export const demoPolicy: Policy.PipelinePolicyInput = {
  ...Policy.presets.http,
  retry: { ...Policy.presets.http.retry, maxRetries: 3, initialDelay: 100, maxDelay: "2 seconds" },
  circuitBreaker: { consecutiveFailures: 8, openFor: "500 millis", openForMultiplier: 2, maxOpenFor: "2 seconds", halfOpen: { probes: 2 } },
  budget: { type: "ratio", ratio: 0.1, minPerSecond: 20, window: "5 seconds" },
  attemptTimeout: "500 millis",
  deadLetters: true,
  durationSampling: 1
}

/**
 * The layers the demo runs on for a given policy: the policy as `demo` and an in-memory
 * dead-letter store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * import { layerFor, run } from "effect-resilience/cli/demo"
 * const report = run({ workers: 4, duration: "3 seconds", thinkTime: "20 millis" }).pipe(
 *   Effect.scoped,
 *   Effect.provide(layerFor(Policy.presets.http))
 * )
 * ```
 * @since 0.1.0
 */
export const layerFor = (policy: Policy.PipelinePolicyInput) =>
  Resilience.layer({ demo: policy }, { options: { demo: { log: false } } }).pipe(
    Layer.provideMerge(DeadLetter.layerMemory({ capacity: 10_000 }))
  )

/**
 * The layers the demo runs on by default: `demoPolicy` as the policy `demo`, and dead letters.
 *
 * @since 0.1.0
 */
export const layer = layerFor(demoPolicy)

/**
 * Options of `run`.
 *
 * @since 0.1.0
 */
export interface DemoOptions {
  readonly workers: number
  /** The whole script's length. */
  readonly duration: Duration.Input
  /** Pause between one worker's calls. */
  readonly thinkTime: Duration.Input
  /** Print a progress line this often (none when undefined). */
  readonly progressEvery?: Duration.Input | undefined
  /** Overwrite the progress line in place (a terminal) instead of printing one per tick. */
  readonly inPlace?: boolean | undefined
}

/**
 * The numbers the final report is made of.
 *
 * @since 0.1.0
 */
export interface Report {
  readonly durationMs: number
  readonly workers: number
  readonly calls: number
  readonly succeeded: number
  readonly failed: number
  readonly failuresByTag: Readonly<Record<string, number>>
  readonly pipeline: Resilience.Stats
  readonly transitions: ReadonlyArray<{ readonly atMs: number; readonly phase: string; readonly from: string; readonly to: string; readonly reason: string }>
  readonly deadLetters: number
  readonly latency: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly byPhase: ReadonlyArray<{ readonly phase: string; readonly calls: number; readonly succeeded: number }>
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/**
 * Runs the demo and returns its report. Needs a `Scope`, the `demo` policy and dead letters (`layer`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { layer, run } from "effect-resilience/cli/demo"
 * const report = Effect.runPromise(
 *   run({ workers: 8, duration: "6 seconds", thinkTime: "20 millis" }).pipe(Effect.scoped, Effect.provide(layer))
 * )
 * ```
 * @since 0.1.0
 */
export const run = (options: DemoOptions) =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const start = clock.currentTimeMillisUnsafe()
    const totalMs = Duration.toMillis(Duration.fromInputUnsafe(options.duration))
    const totalWeight = phases.reduce((n, p) => n + p.weight, 0)
    const bounds: Array<{ readonly phase: Phase; readonly until: number }> = []
    let acc = 0
    for (const phase of phases) {
      acc += phase.weight
      bounds.push({ phase, until: (acc / totalWeight) * totalMs })
    }
    const phaseAt = (elapsed: number): Phase => (bounds.find((b) => elapsed < b.until) ?? bounds[bounds.length - 1]!).phase

    const deadLetters = yield* DeadLetter.DeadLetters
    const pipeline = yield* Effect.flatMap(Resilience.Policies, (policies) => policies.get("demo"))
    const breaker = pipeline.breaker as CircuitBreaker.CircuitBreaker
    const transitions = yield* Ref.make<Array<Report["transitions"][number]>>([])
    yield* breaker.changes.pipe(
      Stream.runForEach((t) =>
        Ref.update(transitions, (list) => [...list, { atMs: t.at - start, phase: phaseAt(t.at - start).name, from: t.from, to: t.to, reason: t.reason }])
      ),
      Effect.forkScoped({ startImmediately: true })
    )

    const dependency = Effect.gen(function*() {
      yield* Effect.sleep(Duration.millis(5 + Math.floor((yield* Random.next) * 20)))
      const fate = phaseAt(clock.currentTimeMillisUnsafe() - start).fate(yield* Random.next)
      if (fate._tag === "Fail") return yield* Effect.fail(fate.error)
      return "ok" as const
    })

    const latencies: Array<number> = []
    const failuresByTag: Record<string, number> = {}
    const perPhase = new Map<string, { calls: number; succeeded: number }>()
    let calls = 0
    let succeeded = 0
    const worker = Effect.gen(function*() {
      while (clock.currentTimeMillisUnsafe() - start < totalMs) {
        const began = clock.currentTimeMillisUnsafe()
        const phase = phaseAt(began - start).name
        const outcome = yield* Effect.result(dependency.pipe(Resilience.protect("demo")))
        latencies.push(clock.currentTimeMillisUnsafe() - began)
        calls++
        const slot = perPhase.get(phase) ?? { calls: 0, succeeded: 0 }
        slot.calls++
        if (outcome._tag === "Success") {
          succeeded++
          slot.succeeded++
        } else {
          const error = outcome.failure as { readonly _tag: string; readonly kind?: Kind }
          const tag = error._tag === "Permanent" && error.kind !== undefined ? `Permanent(${error.kind})` : error._tag
          failuresByTag[tag] = (failuresByTag[tag] ?? 0) + 1
        }
        perPhase.set(phase, slot)
        yield* Effect.sleep(options.thinkTime)
      }
    })

    const progress = options.progressEvery === undefined ? undefined : yield* Effect.forkScoped(
      Effect.forever(Effect.gen(function*() {
        yield* Effect.sleep(options.progressEvery!)
        const elapsed = clock.currentTimeMillisUnsafe() - start
        const state = yield* breaker.state
        const line = `[${(elapsed / 1000).toFixed(1).padStart(5)}s ${phaseAt(elapsed).name.padEnd(12)}] calls ${String(calls).padStart(5)}  ok ${
          String(succeeded).padStart(5)
        }  failed ${String(calls - succeeded).padStart(5)}  retries ${String(pipeline.recorder.stats().retries).padStart(5)}  circuit ${state._tag.padEnd(8)}`
        yield* options.inPlace ? Effect.sync(() => process.stdout.write(`\r${line}`)) : Console.log(line)
      }))
    )

    yield* Effect.forEach(Array.from({ length: options.workers }), () => worker, { concurrency: "unbounded", discard: true })
    if (progress !== undefined) yield* Fiber.interrupt(progress)
    if (options.inPlace) yield* Effect.sync(() => process.stdout.write("\n"))

    const sorted = [...latencies].sort((a, b) => a - b)
    const report: Report = {
      durationMs: clock.currentTimeMillisUnsafe() - start,
      workers: options.workers,
      calls,
      succeeded,
      failed: calls - succeeded,
      failuresByTag,
      pipeline: yield* pipeline.stats,
      transitions: yield* Ref.get(transitions),
      deadLetters: (yield* deadLetters.list).length,
      latency: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 },
      byPhase: phases.map((p) => ({ phase: p.name, ...(perPhase.get(p.name) ?? { calls: 0, succeeded: 0 }) }))
    }
    return report
  })

/**
 * Renders the final report as text.
 *
 * @example
 * ```ts
 * import { render } from "effect-resilience/cli/demo"
 * declare const report: Parameters<typeof render>[0]
 * console.log(render(report))
 * ```
 * @since 0.1.0
 */
export const render = (report: Report, policyLabel = "http preset + breaker + 10 % retry budget + dead letters"): string => {
  const s = report.pipeline
  const lines: Array<string> = []
  const pct = (n: number, d: number) => d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`
  lines.push(`Demo report: ${report.workers} workers for ${(report.durationMs / 1000).toFixed(1)} s through policy "demo" (${policyLabel})`)
  lines.push("")
  lines.push(`calls      ${report.calls}  succeeded ${report.succeeded} (${pct(report.succeeded, report.calls)})  failed ${report.failed}`)
  lines.push(`attempts   ${s.attempts}  (${(s.attempts / Math.max(1, s.calls)).toFixed(2)} per call)  retries ${s.retries}`)
  lines.push(`retries by kind     ${Object.entries(s.retriesByKind).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  lines.push(`retries by attempt  ${s.retriesByAttempt.map((n, i) => `after #${i + 1}: ${n}`).join(", ") || "none"}`)
  lines.push(`failures            ${Object.entries(report.failuresByTag).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  lines.push(`rejections          ${Object.entries(s.rejections).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
  lines.push(`budget denials      ${s.budgetDenied}`)
  lines.push(`dead letters        ${report.deadLetters}`)
  lines.push(`latency (ms)        p50 ${report.latency.p50}  p90 ${report.latency.p90}  p99 ${report.latency.p99}  max ${report.latency.max}`)
  lines.push("")
  lines.push("by phase:")
  for (const p of report.byPhase) lines.push(`  ${p.phase.padEnd(13)} calls ${String(p.calls).padStart(5)}  succeeded ${pct(p.succeeded, p.calls).padStart(6)}`)
  lines.push("")
  lines.push("circuit transitions:")
  if (report.transitions.length === 0) lines.push("  none")
  for (const t of report.transitions) {
    lines.push(`  ${(t.atMs / 1000).toFixed(2).padStart(6)} s  ${t.phase.padEnd(13)} ${t.from} -> ${t.to} (${t.reason})`)
  }
  return lines.join("\n")
}
