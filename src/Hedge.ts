/**
 * Hedge: when a call is slow, start another copy of it instead of waiting, and take whichever
 * answers first (tail-latency hedging, "The Tail at Scale", Dean & Barroso 2013).
 *
 * Only hedge idempotent calls: several copies may reach the server.
 *
 * @since 0.1.0
 */
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Result, Schema } from "effect"
import { dual } from "effect/Function"
import { isPermanent } from "./Failure.ts"
import { Delay, IntBetween, withDefault } from "./internal/fields.ts"
import { decodeOptions } from "./internal/strict.ts"

/**
 * Hedging's options as data, the one definition of their rules and defaults: `delay` (a
 * non-negative duration) and `maxAttempts` (attempts in flight at most, the first included: an
 * integer 1..100, default 2; 1 turns hedging off). `hedge` and pipeline policies both decode
 * through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Hedge } from "effect-resilience"
 * Schema.decodeUnknownSync(Hedge.HedgePolicy)({ delay: "200ms" }) // { delay: 200 ms, maxAttempts: 2 }
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const HedgePolicy = Schema.Struct({
  /** How long to wait for a result before starting the next attempt. */
  delay: Delay,
  /** Attempts in flight at most, the first included. */
  maxAttempts: withDefault(IntBetween(1, 100), 2)
})

/**
 * Options of `hedge`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long to wait for a result before starting the next attempt. */
  readonly delay: Duration.Input
  /** Attempts in flight at most, the first included (an integer 1..100). Default 2. */
  readonly maxAttempts?: number | undefined
}

/**
 * Hedges an effect: it starts at once; every `delay` without a result starts one more attempt,
 * up to `maxAttempts`. The first success wins and the other attempts are interrupted (the hedge
 * completes once they have stopped).
 *
 * When an attempt fails and attempts are left, the next one starts at once instead of after
 * `delay`. A `Failure.Permanent` error or a defect ends the hedge at once with that failure. When
 * every attempt has failed, the hedge fails with the failure of the attempt that failed **last**
 * (the freshest information). Invalid options make the effect die with a `Policy.PolicyError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const lookup: Effect.Effect<string, Error>
 *
 * // p99 latency is 2 s but p95 is 80 ms: ask again after 100 ms
 * const fast = lookup.pipe(Hedge.hedge({ delay: "100 millis", maxAttempts: 2 }))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const hedge: {
  (options: Options): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: Options): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, options: Options): Effect.Effect<A, E, R> => {
  const decoded = decodeOptions(HedgePolicy, options)
  if (Result.isFailure(decoded)) return Effect.die(decoded.failure)
  const { delay, maxAttempts } = decoded.success
  if (maxAttempts === 1) return self
  return hedged(self, delay, maxAttempts)
})

const isFatal = <E>(exit: Exit.Exit<unknown, E>): boolean =>
  Exit.isFailure(exit) && (Cause.hasDies(exit.cause) || Option.exists(Exit.findErrorOption(exit), isPermanent))

const hedged = <A, E, R>(self: Effect.Effect<A, E, R>, delay: Duration.Duration, maxAttempts: number): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const result = yield* Deferred.make<A, E>()
    // Completed when the main loop should act before `delay` is up: a result, or an early failure.
    let wake = yield* Deferred.make<void>()
    const fibers: Array<Fiber.Fiber<A, E>> = []
    let started = 0
    let pending = 0
    let decided = false

    const settle = (exit: Exit.Exit<A, E>): Effect.Effect<void> =>
      Effect.suspend(() => {
        pending--
        if (decided) return Effect.void
        if (Exit.isSuccess(exit) || isFatal(exit) || (started === maxAttempts && pending === 0)) {
          decided = true
          return Effect.andThen(Deferred.done(result, exit), Deferred.succeed(wake, undefined))
        }
        return started < maxAttempts ? Deferred.succeed(wake, undefined) : Effect.void
      })

    const launch = Effect.suspend(() => {
      started++
      pending++
      return Effect.forkChild(Effect.onExit(self, settle), { startImmediately: true })
    }).pipe(Effect.map((fiber) => {
      fibers.push(fiber)
    }))

    return yield* Effect.gen(function*() {
      yield* launch
      while (!decided && started < maxAttempts) {
        yield* Effect.timeoutOption(Deferred.await(wake), delay)
        if (decided) break
        wake = yield* Deferred.make<void>()
        yield* launch
      }
      return yield* Deferred.await(result)
    }).pipe(Effect.ensuring(Effect.suspend(() => Fiber.interruptAll(fibers))))
  })
