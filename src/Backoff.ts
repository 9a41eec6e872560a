/**
 * Backoff: retry delays as Effect `Schedule`s.
 *
 * Every constructor returns a plain `Schedule`, so backoffs compose with Effect's own combinators
 * (`Schedule.upTo`, `Schedule.while`, `Schedule.min`, …) and drive `Effect.retry` as well as
 * `Retry.retry`. Randomness comes only from `Random` and time only from `Clock`, so a seeded
 * `Random` and `TestClock` make every delay reproducible.
 *
 * Formulas (k = retry number, 1-based): exponential `initial·factor^(k-1)`; linear
 * `initial + (k-1)·step`; fibonacci `initial·fib(k)`; decorrelated
 * `min(max, uniform(initial, previous·3))`; jitter full `uniform(0, d)`, equal
 * `d/2 + uniform(0, d/2)`, multiplicative `d·(0.5 + uniform(0, 1))`, ratio `d·uniform(1-r, 1+r)`,
 * one-sided `d + uniform(0, r·d)`, applied after the cap.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Pull, Random, Schedule } from "effect"
import { dual } from "effect/Function"
import * as delays_ from "./internal/delays.ts"
import { hintOf } from "./internal/hints.ts"
import type { RetryPolicy } from "./Policy.ts"

const millisOf = (input: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(input))

const fromFormula = (delayAt: (k: number) => number): Schedule.Schedule<Duration.Duration> =>
  Schedule.fromStepWithMetadata(Effect.succeed((meta: Schedule.InputMetadata<unknown>) => {
    const delay = Duration.millis(delayAt(meta.attempt))
    return Effect.succeed([delay, delay] as [Duration.Duration, Duration.Duration])
  }))

/**
 * Exponential backoff: `initial · factor^(k-1)` (factor defaults to 2). Unbounded: combine with
 * `capped` and `recurs`.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }) // 1s, 2s, 4s, 8s, …
 * ```
 * @since 0.1.0
 */
export const exponential = (options: {
  readonly initial: Duration.Input
  readonly factor?: number | undefined
}): Schedule.Schedule<Duration.Duration> => {
  const initial = millisOf(options.initial)
  const factor = options.factor ?? 2
  return fromFormula((k) => delays_.exponential(initial, factor, k))
}

/**
 * Linear backoff: `initial + (k-1) · step` (step defaults to initial).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.linear({ initial: "100 millis" }) // 100, 200, 300, … ms
 * ```
 * @since 0.1.0
 */
export const linear = (options: {
  readonly initial: Duration.Input
  readonly step?: Duration.Input | undefined
}): Schedule.Schedule<Duration.Duration> => {
  const initial = millisOf(options.initial)
  const step = options.step === undefined ? initial : millisOf(options.step)
  return fromFormula((k) => delays_.linear(initial, step, k))
}

/**
 * The same delay before every retry.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fixed("50 millis") // 50, 50, 50, … ms
 * ```
 * @since 0.1.0
 */
export const fixed = (delay: Duration.Input): Schedule.Schedule<Duration.Duration> => {
  const ms = millisOf(delay)
  return fromFormula(() => ms)
}

/**
 * Fibonacci backoff: `initial · fib(k)`, i.e. 1, 1, 2, 3, 5, … times initial.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fibonacci({ initial: "100 millis" }) // 100, 100, 200, 300, 500 ms
 * ```
 * @since 0.1.0
 */
export const fibonacci = (options: { readonly initial: Duration.Input }): Schedule.Schedule<Duration.Duration> => {
  const initial = millisOf(options.initial)
  return fromFormula((k) => delays_.fibonacci(initial, k))
}

/**
 * Decorrelated jitter (Brooker, AWS 2015): each delay is `min(max, uniform(initial, previous · 3))`,
 * starting from `previous = initial`. Random by construction, so `jittered` is not needed.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.decorrelated({ initial: "100 millis", max: "10 seconds" })
 * ```
 * @since 0.1.0
 */
export const decorrelated = (options: {
  readonly initial: Duration.Input
  readonly max: Duration.Input
}): Schedule.Schedule<Duration.Duration> => {
  const initial = millisOf(options.initial)
  const max = millisOf(options.max)
  return Schedule.fromStep(Effect.sync(() => {
    let previous = initial
    return (_now: number, _input: unknown) =>
      Effect.map(Random.next, (r) => {
        previous = delays_.decorrelated(initial, max, previous, r)
        const delay = Duration.millis(previous)
        return [delay, delay] as [Duration.Duration, Duration.Duration]
      })
  }))
}

/**
 * How delays are randomised: `"none"`, `"full"` (`uniform(0, d)`), `"equal"`
 * (`d/2 + uniform(0, d/2)`), `"multiplicative"` (`d · (0.5 + uniform(0, 1))`), `{ ratio }`
 * (`d · uniform(1 - ratio, 1 + ratio)`) or `{ oneSided }` (`d + uniform(0, oneSided · d)`).
 *
 * @since 0.1.0
 */
export type JitterMode = delays_.JitterMode

/**
 * Randomises a schedule's delays. Apply it after `capped` so the cap does not swallow the jitter
 * (seed 001: 300 s capped, ±20 % gives 240–360 s).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(
 *   Backoff.capped("30 seconds"),
 *   Backoff.jittered({ ratio: 0.1 })
 * )
 * ```
 * @since 0.1.0
 */
export const jittered: {
  (mode: JitterMode): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, mode: JitterMode): Schedule.Schedule<O, I, E, R>
} = dual(
  2,
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, mode: JitterMode): Schedule.Schedule<O, I, E, R> =>
    mode === "none"
      ? self
      : Schedule.modifyDelay(self, ({ duration }) =>
        Effect.map(Random.next, (r) => Duration.millis(delays_.jitter(Duration.toMillis(duration), mode, r))))
)

/**
 * Caps every delay at `max`.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(Backoff.capped("30 seconds"))
 * ```
 * @since 0.1.0
 */
export const capped: {
  (max: Duration.Input): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R>
} = dual(2, <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R> => {
  const cap = Duration.fromInputUnsafe(max)
  return Schedule.modifyDelay(self, ({ duration }) => Effect.succeed(Duration.min(duration, cap)))
})

/**
 * Allows at most `n` retries (so at most `n + 1` attempts).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.fixed("1 second").pipe(Backoff.recurs(3)) // 3 retries
 * ```
 * @since 0.1.0
 */
export const recurs: {
  (n: number): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, n: number): Schedule.Schedule<O, I, E, R>
} = dual(
  2,
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, n: number): Schedule.Schedule<O, I, E, R> =>
    Schedule.while(self, ({ attempt }) => attempt <= n)
)

/**
 * Stops once the next retry would start later than `total` after the first failure: a retry is
 * only scheduled when the time spent so far plus its delay fits in the budget.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "1 second" }).pipe(Backoff.within("10 seconds"))
 * // 1s, 2s, 4s (7 s in all); the next (8 s) would end at 15 s, so it stops
 * ```
 * @since 0.1.0
 */
export const within: {
  (total: Duration.Input): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, total: Duration.Input): Schedule.Schedule<O, I, E, R>
} = dual(2, <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, total: Duration.Input): Schedule.Schedule<O, I, E, R> => {
  const budget = millisOf(total)
  return Schedule.while(self, ({ elapsed, duration }) => elapsed + Duration.toMillis(duration) <= budget)
})

/**
 * Like `honorRetryAfter`, with the longest hint worth waiting for: a failure whose hint is above
 * `max` ends the schedule instead of becoming a sleep the caller never allowed.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "100 millis" }).pipe(Backoff.honorRetryAfterUpTo("1 minute"))
 * ```
 * @since 0.1.0
 */
export const honorRetryAfterUpTo: {
  (max: Duration.Input): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R>
} = dual(2, <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R> => {
  const cap = millisOf(max)
  const stretched = Schedule.modifyDelay(self, ({ duration, input }) => {
    const hint = hintOf(input)
    return Effect.succeed(hint === undefined ? duration : Duration.max(duration, hint))
  })
  return Schedule.while(stretched, ({ input }) => {
    const hint = hintOf(input)
    return hint === undefined || Duration.toMillis(hint) <= cap
  })
})

const defaultMaxRetryAfter = Duration.millis(delays_.defaultMaxRetryAfterMillis)

/**
 * Makes each delay `max(computed, retryAfter)`, where `retryAfter` is the hint carried by the
 * failure being retried (`Failure.Transient`'s field, set from `Retry-After` headers). A hint
 * above 5 minutes ends the schedule (see `honorRetryAfterUpTo` for another limit).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 * const schedule = Backoff.exponential({ initial: "100 millis" }).pipe(Backoff.honorRetryAfter)
 * ```
 * @since 0.1.0
 */
export const honorRetryAfter = <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>): Schedule.Schedule<O, I, E, R> =>
  honorRetryAfterUpTo(self, defaultMaxRetryAfter)

/**
 * The schedule a retry policy describes: the strategy's delays, capped at `maxDelay`, then
 * jittered, then stretched to honour `Retry-After` (ending on a hint above `maxRetryAfter`),
 * limited to `maxRetries` retries and, if set, to the policy's `timeout`.
 *
 * @example
 * ```ts
 * import { Backoff, Policy } from "effect-resilience"
 * const schedule = Backoff.fromPolicy(Policy.defaults) // 1s, 2s, 4s ±10 %, 3 retries
 * ```
 * @since 0.1.0
 */
export const fromPolicy = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration> => {
  const base = strategySchedule(policy)
  const shaped = policy.strategy === "decorrelated"
    ? base
    : base.pipe(capped(policy.maxDelay), jittered(policy.jitter))
  const hinted = policy.honorRetryAfter ? honorRetryAfterUpTo(shaped, policy.maxRetryAfter) : shaped
  const limited = recurs(hinted, policy.maxRetries)
  return policy.timeout === undefined ? limited : within(limited, policy.timeout)
}

const strategySchedule = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration> => {
  switch (policy.strategy) {
    case "exponential":
      return exponential({ initial: policy.initialDelay, factor: policy.multiplier })
    case "linear":
      return linear({ initial: policy.initialDelay, step: policy.step ?? policy.initialDelay })
    case "fixed":
      return fixed(policy.initialDelay)
    case "fibonacci":
      return fibonacci({ initial: policy.initialDelay })
    case "decorrelated":
      return decorrelated({ initial: policy.initialDelay, max: policy.maxDelay })
  }
}

/**
 * The first `n` delays a schedule produces (fewer if it stops earlier), stepping it by hand with a
 * virtual clock that advances by each delay. Jittered schedules draw from the current `Random`:
 * provide a seeded one for reproducible output.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 * const ms = Effect.runSync(Backoff.delays(Backoff.exponential({ initial: 100 }), 4)).map(Duration.toMillis)
 * // [100, 200, 400, 800]
 * ```
 * @since 0.1.0
 */
export const delays: {
  (n: number, input?: unknown): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Effect.Effect<Array<Duration.Duration>, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, n: number, input?: I): Effect.Effect<Array<Duration.Duration>, E, R>
} = dual(
  (args) => Schedule.isSchedule(args[0]),
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, n: number, input?: I): Effect.Effect<Array<Duration.Duration>, E, R> =>
    Effect.gen(function*() {
      const step = yield* Schedule.toStep(self)
      const out: Array<Duration.Duration> = []
      let now = 0
      for (let i = 0; i < n; i++) {
        const next = yield* Pull.catchDone(step(now, input as I), () => Effect.succeed(undefined))
        if (next === undefined) break
        const delay = next[1]
        out.push(delay)
        now += Duration.toMillis(delay)
      }
      return out
    }) as Effect.Effect<Array<Duration.Duration>, E, R>
)
