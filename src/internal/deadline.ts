/**
 * The call's deadline: an absolute time on the `Clock` (milliseconds) past which nobody waits for
 * the answer. A total timeout sets it for everything inside (`Timeout.total`), an HTTP server
 * middleware sets it from the caller's time-left header; attempt timeouts and the retry loop read it.
 *
 * Read only where a timer is already being armed or a retry is already being decided, so a call
 * without timeouts never touches it.
 */
import { Clock, Context, Effect } from "effect"

/** The absolute deadline (`Clock` milliseconds) of the current call, or `undefined` for none. */
export const CurrentDeadline: Context.Reference<number | undefined> = Context.Reference<number | undefined>(
  "effect-resilience/Deadline/CurrentDeadline",
  { defaultValue: () => undefined }
)

/** The earlier of two deadlines (`undefined` is "none"). */
export const earlier = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

/**
 * Runs `self` with a deadline `millis` from now (or the inherited one, when that is sooner),
 * handing `run` the time actually left and whether the inherited deadline is what bounds it.
 */
export const bounded = <A, E, R>(
  millis: number,
  run: (left: number, inherited: boolean, provide: <X, Y, Z>(e: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
    const inherited = fiber.getRef(CurrentDeadline)
    const own = now + millis
    const deadline = inherited === undefined || own <= inherited ? own : inherited
    return run(Math.max(0, deadline - now), deadline !== own, (e) => Effect.provideService(e, CurrentDeadline, deadline))
  })

/** Milliseconds left before the current deadline, `undefined` without one (negative once passed). */
export const remainingMillis: Effect.Effect<number | undefined> = Effect.withFiber((fiber) => {
  const deadline = fiber.getRef(CurrentDeadline)
  return Effect.succeed(deadline === undefined ? undefined : deadline - fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())
})

/** Runs `self` with the deadline at `at` (absolute), or the inherited one when sooner. */
export const until = <A, E, R>(self: Effect.Effect<A, E, R>, at: number): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => Effect.provideService(self, CurrentDeadline, earlier(fiber.getRef(CurrentDeadline), at)))
