/**
 * Bulkhead: a cap on concurrent calls to one dependency, so a slow dependency cannot take every
 * fiber, connection or socket of the process with it.
 *
 * At most `maxConcurrent` calls run; at most `maxQueue` more wait (first come, first served);
 * anything beyond is rejected at once with `BulkheadFull`. `Failure.defaultClassifier` treats that
 * rejection as `Transient` of kind `"RateLimit"`: it is load shedding, like a server's 429, and
 * clears as soon as a slot frees up.
 *
 * @since 0.1.0
 */
import { Data, Deferred, Effect, Result, Schema } from "effect"
import { dual } from "effect/Function"
import { bounds, IntBetween, withDefault } from "./internal/fields.ts"
import type { PolicyError } from "./internal/policyError.ts"
import { withSlots } from "./internal/fused.ts"
import { NOTHING } from "./internal/onExit.ts"
import { decodeOptions } from "./internal/strict.ts"
import { failExit, shared } from "./internal/traceless.ts"


/**
 * The rejection when every slot and every queue place is taken.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const guarded: Effect.Effect<string, Bulkhead.BulkheadFull>
 * const handled = guarded.pipe(Effect.catchTag("BulkheadFull", (e) => Effect.succeed(`${e.name} is busy`)))
 * ```
 * @since 0.1.0
 * @category errors
 */
export class BulkheadFull extends Data.TaggedError("BulkheadFull")<{
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
}> {
  override get message(): string {
    return `Bulkhead ${this.name} is full (${this.maxConcurrent} running, ${this.maxQueue} queued)`
  }
}

/**
 * A snapshot of a bulkhead.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Calls holding a slot now. */
  readonly running: number
  /** Calls waiting for a slot now. */
  readonly queued: number
  /** Calls rejected since the bulkhead was made. */
  readonly rejected: number
}

/**
 * A bulkhead; share one value between every call it guards.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bulkhead {
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
  /** Runs the effect in a slot, waits for one, or fails with `BulkheadFull`. */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BulkheadFull, R>
  readonly stats: Effect.Effect<Stats>
  readonly statsUnsafe: () => Stats
}

/**
 * A bulkhead's options as data, the one definition of their rules and defaults: `maxConcurrent`
 * (an integer 1..1 000 000) and `maxQueue` (0..1 000 000, default 0). `make` and pipeline
 * policies both decode through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Bulkhead } from "effect-resilience"
 * Schema.decodeUnknownSync(Bulkhead.BulkheadPolicy)({ maxConcurrent: 10 }) // { maxConcurrent: 10, maxQueue: 0 }
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const BulkheadPolicy = Schema.Struct({
  /** Calls allowed to run at once. */
  maxConcurrent: IntBetween(1, bounds.size),
  /** Calls allowed to wait for a slot. */
  maxQueue: withDefault(IntBetween(0, bounds.size), 0)
})

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Calls allowed to run at once (an integer >= 1). */
  readonly maxConcurrent: number
  /** Calls allowed to wait for a slot (an integer >= 0). Default 0: reject when all slots are busy. */
  readonly maxQueue?: number | undefined
  /** For errors and logs. Default `"bulkhead"`. */
  readonly name?: string | undefined
}

/**
 * Makes a bulkhead. A waiting call that is interrupted leaves the queue. Fails with
 * `Policy.PolicyError` naming every bad option.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const query: Effect.Effect<string>
 *
 * const program = Effect.gen(function*() {
 *   const bulkhead = yield* Bulkhead.make({ maxConcurrent: 10, maxQueue: 20, name: "db" })
 *   return yield* bulkhead.execute(query)
 * })
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Bulkhead, PolicyError> =>
  Effect.suspend(() => {
    const decoded = decodeOptions(BulkheadPolicy, options, ["name"])
    if (Result.isFailure(decoded)) return Effect.fail(decoded.failure)
    const { maxConcurrent, maxQueue } = decoded.success
    const name = options.name ?? "bulkhead"
    // One error for every rejection (its fields are the bulkhead's, true for each), frozen, with its exit.
    const full = shared(new BulkheadFull({ name, maxConcurrent, maxQueue }))
    // A counter, not a semaphore: a call that finds a free slot pays for one onExit and nothing
    // else. Waiters queue in order; a freed slot is handed to the first of them directly.
    let running = 0
    let rejected = 0
    const waiters: Array<Deferred.Deferred<void>> = []
    const release = (): void => {
      const next = waiters.shift()
      if (next === undefined) running--
      else Deferred.doneUnsafe(next, Effect.void)
    }
    const onExitRelease = (): Effect.Effect<void> => {
      release()
      return NOTHING
    }
    const execute = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | BulkheadFull, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend((): Effect.Effect<A, E | BulkheadFull, R> => {
          if (running < maxConcurrent) {
            running++
            return Effect.onExit(restore(self), onExitRelease)
          }
          if (waiters.length >= maxQueue) {
            rejected++
            return failExit(full)
          }
          const turn = Deferred.makeUnsafe<void>()
          waiters.push(turn)
          return restore(Deferred.await(turn)).pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                const index = waiters.indexOf(turn)
                // Still waiting: just leave the queue. Handed a slot already: pass it on.
                if (index >= 0) waiters.splice(index, 1)
                else release()
              })
            ),
            Effect.andThen(Effect.onExit(restore(self), onExitRelease))
          )
        })
      )
    const statsUnsafe = (): Stats => ({ running, queued: waiters.length, rejected })
    // A pipeline takes a free slot in its own frame and releases it from its exit observer, and
    // rejects without a frame when the bulkhead is full.
    const tryAcquire = (): boolean => {
      if (running >= maxConcurrent) return false
      running++
      return true
    }
    const rejectNow = (): BulkheadFull | undefined => {
      if (running < maxConcurrent || waiters.length < maxQueue) return undefined
      rejected++
      return full
    }
    return Effect.succeed<Bulkhead>(withSlots({
      name,
      maxConcurrent,
      maxQueue,
      execute,
      stats: Effect.sync(statsUnsafe),
      statsUnsafe
    }, { tryAcquire, release, rejectNow }))
  })

/**
 * Pipeable `bulkhead.execute`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const bulkhead: Bulkhead.Bulkhead
 * const guarded = Effect.succeed("ok").pipe(Bulkhead.protect(bulkhead))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (bulkhead: Bulkhead): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BulkheadFull, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, bulkhead: Bulkhead): Effect.Effect<A, E | BulkheadFull, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, bulkhead: Bulkhead) => bulkhead.execute(self))
