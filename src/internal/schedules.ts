/**
 * The schedules behind `Backoff`: delay formulas as Effect `Schedule`s, jitter, caps and limits,
 * Retry-After hints, and the schedule a retry policy describes.
 */
import { Duration, Effect, Pull, Random, Schedule } from "effect"
import { dual } from "effect/Function"
import * as delays_ from "./delays.ts"
import { hintOf } from "./hints.ts"
import type { RetryPolicy } from "./retryPolicy.ts"

const millisOf = (input: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(input))

const fromFormula = (delayAt: (k: number) => number): Schedule.Schedule<Duration.Duration> =>
  Schedule.fromStepWithMetadata(Effect.succeed((meta: Schedule.InputMetadata<unknown>) => {
    const delay = Duration.millis(delayAt(meta.attempt))
    return Effect.succeed([delay, delay] as [Duration.Duration, Duration.Duration])
  }))

/**
 * Exponential backoff: `initial · factor^(k-1)` (factor defaults to 2). Unbounded: combine with
 * `capped` and `recurs`.
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
 */
export const fixed = (delay: Duration.Input): Schedule.Schedule<Duration.Duration> => {
  const ms = millisOf(delay)
  return fromFormula(() => ms)
}

/**
 * Fibonacci backoff: `initial · fib(k)`, i.e. 1, 1, 2, 3, 5, … times initial.
 */
export const fibonacci = (options: { readonly initial: Duration.Input }): Schedule.Schedule<Duration.Duration> => {
  const initial = millisOf(options.initial)
  return fromFormula((k) => delays_.fibonacci(initial, k))
}

/**
 * Decorrelated jitter (Brooker, AWS 2015): each delay is `min(max, uniform(initial, previous · 3))`,
 * starting from `previous = initial`. Random by construction, so `jittered` is not needed.
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
 */
export type JitterMode = delays_.JitterMode

/**
 * Randomises a schedule's delays. Apply it after `capped` so the cap does not swallow the jitter
 * (300 s capped, ±20 % gives 240–360 s).
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
 */
export const honorRetryAfter = <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>): Schedule.Schedule<O, I, E, R> =>
  honorRetryAfterUpTo(self, defaultMaxRetryAfter)

/**
 * The schedule a retry policy describes: the strategy's delays, capped at `maxDelay`, then
 * jittered, then stretched to honour `Retry-After` (ending on a hint above `maxRetryAfter`),
 * limited to `maxRetries` retries and, if set, to the policy's `timeout`.
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
