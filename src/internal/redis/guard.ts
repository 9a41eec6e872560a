/**
 * What every Redis store does when Redis is down or slow: each command is bounded by a timeout;
 * the first failure of an outage is logged at Warn (once, not per call) and the store stops
 * asking Redis for `retryEvery`, answering "unavailable" at once so callers take their fallback
 * without waiting; after that, the next call tries Redis again, and the first success logs the
 * recovery at Info. Nothing here fails: an unavailable store is `undefined`.
 *
 * @internal
 */
import { Clock, Effect, Option, Schema } from "effect"
import { Delay, PositiveDelay, withDefault } from "../fields.ts"

/**
 * The fields a shared breaker and a shared budget both take for an outage, with their defaults
 * in one place: how long an idle key lives, what callers do while Redis is away (decide in this
 * process, or reject), how long a command may take, and how long to stop asking after a failure.
 */
export const outageFields = {
  idleTimeToLive: withDefault(PositiveDelay, "1 hour"),
  onStoreError: withDefault(Schema.Literals(["allow", "reject"]), "allow"),
  storeTimeout: withDefault(PositiveDelay, "100 millis"),
  retryStoreAfter: withDefault(Delay, "1 second")
}

/** Options of a guard, in milliseconds. */
export interface GuardOptions {
  /** Names the store in log lines, e.g. `breaker payments`. */
  readonly what: string
  readonly timeout: number
  readonly retryEvery: number
  /** What callers do while the store is unavailable, for the log line. */
  readonly fallback: string
}

/** Runs store commands with a timeout, logging outages once and skipping Redis for a while after a failure. */
export class Guard {
  readonly options: GuardOptions
  readonly clock: Clock.Clock
  /** In an outage (logged once). */
  down = false
  /** Until this time (ms), calls do not try Redis. */
  skipUntil = 0
  /** Calls answered "unavailable" since the outage began. */
  unavailable = 0

  constructor(options: GuardOptions, clock: Clock.Clock) {
    this.options = options
    this.clock = clock
  }

  /**
   * The command's result, or `undefined` when Redis failed, timed out or is being skipped. When
   * the command was sent but no reply came, `abandoned` runs in the background: Redis may still
   * apply the command later (a paused server, a slow network), and the caller has already taken
   * its fallback, so the command's effect must be undone (a probe slot released).
   */
  run<A, E>(command: Effect.Effect<A, E>, abandoned?: Effect.Effect<unknown, unknown>): Effect.Effect<A | undefined> {
    return Effect.suspend(() => {
      if (this.down && this.clock.currentTimeMillisUnsafe() < this.skipUntil) {
        this.unavailable++
        return Effect.succeed(undefined)
      }
      return command.pipe(
        Effect.timeoutOption(this.options.timeout),
        Effect.result,
        Effect.flatMap((result) => {
          if (result._tag === "Success" && Option.isSome(result.success)) {
            const value = result.success.value
            if (!this.down) return Effect.succeed(value)
            this.down = false
            const skipped = this.unavailable
            this.unavailable = 0
            return Effect.as(
              Effect.logInfo(`Redis ${this.options.what}: store available again (${skipped} calls fell back meanwhile)`),
              value
            )
          }
          this.unavailable++
          this.skipUntil = this.clock.currentTimeMillisUnsafe() + this.options.retryEvery
          // Sent on the same connection after the command, so Redis applies it after the command.
          const undo = abandoned === undefined ? Effect.void : Effect.asVoid(Effect.forkDetach(Effect.ignore(abandoned)))
          if (this.down) return Effect.as(undo, undefined)
          this.down = true
          const cause = result._tag === "Failure" ? result.failure : `no reply within ${this.options.timeout} ms`
          return Effect.as(
            Effect.andThen(undo, Effect.logWarning(`Redis ${this.options.what}: store unavailable, ${this.options.fallback}`, cause)),
            undefined
          )
        })
      )
    })
  }
}
