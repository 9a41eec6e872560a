/**
 * A time limit on an effect with one fiber where `Effect.timeoutOrElse` takes two. Effect races
 * the effect against a sleep, each in a fiber of its own; here the effect runs in one child fiber
 * and the parent waits for it with a timer beside it:
 *
 * * an effect that completes before it first suspends (a cached value, a validation failure)
 *   returns its exit at once: no timer is set and nothing waits;
 * * on the live clock the timer is a plain `setTimeout` (what the live clock's `sleep` does);
 * * on any other clock (`TestClock`) the timer is that clock's `sleep`, run in a fiber, so tests
 *   drive it exactly as they drive `Effect.timeout`.
 *
 * Otherwise it is `Effect.timeoutOrElse`: the child inherits the caller's context, is interrupted
 * (and awaited) when the time is up or the caller is interrupted, and the caller waits for that
 * interruption to finish before the fallback runs.
 */
import { Clock, Context, Duration, Effect, Fiber } from "effect"

// setTimeout's largest delay; beyond it the clock's own sleep (which chains timers) is used.
const MAX_TIMER_MILLIS = 2 ** 31 - 1

/** The clock a fiber has unless one is provided: Effect caches the reference's default value. */
const liveClock = (): Clock.Clock => Context.get(Context.empty(), Clock.Clock)

/** Runs `self`; past `duration` interrupts it and runs `orElse` instead. */
export const timeoutOrElse = <A, E, R, A2, E2>(
  self: Effect.Effect<A, E, R>,
  duration: Duration.Duration,
  orElse: () => Effect.Effect<A2, E2>
): Effect.Effect<A | A2, E | E2, R> => {
  const millis = Duration.toMillis(duration)
  if (!(millis < Infinity)) return self
  return Effect.withFiber((parent) => {
    const context = parent.context as Context.Context<R>
    const child = Effect.runForkWith(context)(self)
    const exit = child.pollUnsafe()
    if (exit !== undefined) return exit
    const clock = parent.getRef(Clock.Clock)
    return Effect.callback<A | A2, E | E2>((resume) => {
      let settled = false
      let cancelTimer: () => void = () => {}
      const stopWatching = child.addObserver((exit) => {
        if (settled) return
        settled = true
        cancelTimer()
        resume(exit)
      })
      const expire = (): void => {
        if (settled) return
        settled = true
        stopWatching()
        resume(Effect.andThen(Fiber.interrupt(child), orElse()))
      }
      if (clock === liveClock() && millis <= MAX_TIMER_MILLIS) {
        const handle = setTimeout(expire, millis)
        cancelTimer = () => clearTimeout(handle)
      } else {
        const timer = Effect.runForkWith(context)(clock.sleep(duration))
        timer.addObserver((exit) => {
          if (exit._tag === "Success") expire()
        })
        cancelTimer = () => timer.interruptUnsafe()
      }
      // The caller was interrupted: stop the timer, interrupt the effect and wait for it.
      return Effect.suspend(() => {
        settled = true
        stopWatching()
        cancelTimer()
        return Fiber.interrupt(child)
      })
    })
  })
}
