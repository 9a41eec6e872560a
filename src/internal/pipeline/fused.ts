/**
 * The fused hot path of "retry outside, breaker inside" (plus a budget and an observer): one
 * `suspend` and one `matchCauseEffect` per call instead of a frame per guard.
 *
 * On a call's first attempt into a closed circuit the breaker's own frame is skipped: this frame
 * reports the attempt's outcome to the breaker directly (`ClosedPath`). A typed failure without
 * defects continues in the retry loop (`resume`), whose later attempts go through
 * `breaker.execute`. Handlers are made once per wrapped effect, not per call; only calls that are
 * timed read the clock.
 */
import { Cause, Effect, Exit } from "effect"
import type { Budget } from "../../RetryBudget.ts"
import type { ClosedPath } from "../fused.ts"
import { NOTHING, onExitUnlessNothing } from "../onExit.ts"
import { failExit } from "../traceless.ts"
import type { Classified } from "../verdicts.ts"

export type { ClosedPath }

/** Sees every call's final exit; returns an effect to run before the exit is returned, or undefined. */
export type Observer = (exit: Exit.Exit<unknown, unknown>, startedAt: number | undefined) => Effect.Effect<void> | undefined

export interface FusedOptions {
  readonly breaker: { readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R> } | undefined
  readonly closed: ClosedPath | undefined
  readonly budget: Budget | undefined
  /**
   * The retry's classifier. Given, a call that an open circuit rejects outright skips the
   * breaker's frame: its `BreakerOpen` is classified here and, as the `Permanent` it then is,
   * returned with no frame at all.
   */
  readonly classify?: ((error: unknown) => Classified<unknown>) | undefined
  /** Continues after the first typed failure (the retry loop), running `next` for later attempts. */
  readonly resume: <A, R>(next: Effect.Effect<A, unknown, R>, error: unknown) => Effect.Effect<A, unknown, R>
  readonly observer: Observer | undefined
  /** Whether to time this call (read the clock at its start); shared by all calls of a pipeline. */
  readonly shouldTime: () => boolean
  /** The clock calls are timed with (the breaker's, when it needs every start). */
  readonly now?: (() => number) | undefined
}

const SUCCESS: Exit.Exit<unknown, unknown> = Exit.void

/** The first typed failure of a cause without defects (what the retry continues with), else undefined. */
const retriable = (cause: Cause.Cause<unknown>): Cause.Fail<unknown> | undefined => {
  let failure: Cause.Fail<unknown> | undefined
  for (const reason of cause.reasons) {
    if (reason._tag === "Die") return undefined
    if (reason._tag === "Fail" && failure === undefined) failure = reason
  }
  return failure
}

const then = (a: Effect.Effect<void> | undefined, b: Effect.Effect<void> | undefined): Effect.Effect<void> | undefined =>
  a === undefined ? b : b === undefined ? a : Effect.andThen(a, b)

/** Wraps one effect (one attempt's worth of work) in the fused frame. */
export const fuse = <A, R>(attempt: Effect.Effect<A, unknown, R>, options: FusedOptions): Effect.Effect<A, unknown, R> =>
  Effect.suspend(fusedEntry(attempt, options))

/**
 * The body of the fused frame's `suspend`, for a caller that runs it inside a `suspend` of its
 * own (a pipeline's outer frame, which takes the bulkhead's slot first): one frame fewer.
 */
export const fusedEntry = <A, R>(attempt: Effect.Effect<A, unknown, R>, options: FusedOptions): () => Effect.Effect<A, unknown, R> => {
  const { breaker, budget, closed, observer, resume } = options
  const guarded = breaker === undefined ? attempt : breaker.execute(attempt)
  const handlers = (fast: boolean, startedAt: number | undefined) => ({
    onSuccess: (value: A): Effect.Effect<A, unknown, R> => {
      const recorded = fast ? closed!.closedExit(SUCCESS, startedAt ?? 0) : NOTHING
      budget?.onSuccess(false)
      const after = then(recorded, observer === undefined ? NOTHING : observer(SUCCESS, startedAt))
      return after === undefined ? Effect.succeed(value) : Effect.as(after, value)
    },
    onFailure: (cause: Cause.Cause<unknown>): Effect.Effect<A, unknown, R> => {
      const recorded = fast ? closed!.closedExit(Exit.failCause(cause), startedAt ?? 0) : NOTHING
      const failure = retriable(cause)
      let rest: Effect.Effect<A, unknown, R>
      if (failure === undefined) {
        const observed = observer === undefined ? NOTHING : observer(Exit.failCause(cause), startedAt)
        rest = observed === undefined ? Effect.failCause(cause) : Effect.andThen(observed, Effect.failCause(cause))
      } else {
        const next = resume(guarded, failure.error)
        if (observer === undefined) rest = next
        else if (Exit.isExit(next as unknown)) {
          // Decided at once (a Permanent, a spent budget): observed here, no exit handler needed.
          const observed = observer(next as unknown as Exit.Exit<A, unknown>, startedAt)
          // Uninterruptible, as an exit handler's effect would be (a dead letter is not cut short).
          rest = observed === undefined ? next : Effect.uninterruptible(Effect.andThen(observed, next))
        } else rest = onExitUnlessNothing(next, (exit) => observer(exit, startedAt))
      }
      return recorded === undefined ? rest : Effect.andThen(recorded, rest)
    }
  })
  const untimedFast = handlers(true, undefined)
  const untimedGuarded = handlers(false, undefined)
  const alwaysTimed = closed !== undefined && closed.needsStart
  const shouldTime = options.shouldTime
  const now = alwaysTimed ? () => closed!.now() : options.now ?? Date.now
  const rejected = (open: unknown, startedAt: number | undefined): Effect.Effect<A, unknown, R> => {
    // A transition the circuit learned from the fleet comes out with its first rejection: published first.
    const news = closed!.takeNews()
    const verdict = classify!(open) as Classified<unknown>
    // A classifier that would retry the rejection: the usual failure path, minus the breaker's frame.
    if (verdict._tag !== "Permanent") {
      const failed = handlers(false, startedAt).onFailure(Cause.fail(open))
      return news === undefined ? failed : Effect.andThen(news, failed)
    }
    // A shared rejection's verdict comes with its exit: nothing allocated per rejection.
    const exit = failExit(verdict)
    const observed = observer === undefined ? NOTHING : observer(exit, startedAt)
    const answer = observed === undefined ? exit : Effect.uninterruptible(Effect.andThen(observed, exit))
    return news === undefined ? answer : Effect.andThen(news, answer)
  }
  const classify = options.classify
  // An untimed call's frame is the same every time: built once.
  const matchedFast = Effect.matchCauseEffect(attempt, untimedFast)
  const matchedGuarded = Effect.matchCauseEffect(breaker === undefined ? attempt : guarded, untimedGuarded)
  return () => {
    budget?.onRequest()
    const fast = closed !== undefined && closed.admitClosed()
    const first = breaker === undefined || fast ? attempt : guarded
    const timed = alwaysTimed || shouldTime()
    if (!fast && closed !== undefined && classify !== undefined) {
      const open = closed.rejectNow()
      if (open !== undefined) return rejected(open, timed ? now() : undefined)
    }
    if (!timed) return fast ? matchedFast : matchedGuarded
    return Effect.matchCauseEffect(first, handlers(fast, now()))
  }
}
