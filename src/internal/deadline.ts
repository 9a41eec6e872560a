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
 * `self` with the deadline `millis` from when it starts (the inherited one when sooner). What a
 * total timeout runs inside its timer: the timer is built once, this reads the clock per call.
 */
export const settingDeadline = <A, E, R>(self: Effect.Effect<A, E, R>, millis: number): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const own = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe() + millis
    const inherited = fiber.getRef(CurrentDeadline)
    // updateContext directly: provideService builds a `dual` wrapper on every call.
    return inherited !== undefined && inherited <= own ? self : Effect.updateContext(self, Context.add(CurrentDeadline, own))
  })

/**
 * A timeout of `millis` inside the current deadline: `bounded` (built once, for a call whose
 * deadline is absent or later than the timeout) or, when the deadline comes first, `cut` with the
 * time actually left (zero or less once it has passed).
 */
export const boundedBy = <A, E, R>(
  bounded: Effect.Effect<A, E, R>,
  millis: number,
  cut: (left: number) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const inherited = fiber.getRef(CurrentDeadline)
    if (inherited === undefined) return bounded
    const left = inherited - fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
    return left < millis ? cut(left) : bounded
  })

/** Milliseconds left before the current deadline, `undefined` without one (negative once passed). */
export const remainingMillis: Effect.Effect<number | undefined> = Effect.withFiber((fiber) => {
  const deadline = fiber.getRef(CurrentDeadline)
  return Effect.succeed(deadline === undefined ? undefined : deadline - fiber.getRef(Clock.Clock).currentTimeMillisUnsafe())
})

/** Runs `self` with the deadline at `at` (absolute), or the inherited one when sooner. */
export const until = <A, E, R>(self: Effect.Effect<A, E, R>, at: number): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => Effect.provideService(self, CurrentDeadline, earlier(fiber.getRef(CurrentDeadline), at)))
