/**
 * The order of a pipeline's guards and its fused fast path. From the outside in: bulkhead → total
 * timeout → retry (with budget) → circuit breaker → attempt timeout → hedging; telemetry and dead
 * letters see every call on the way out.
 *
 * Retry, breaker, budget and (when nothing wraps the retry) telemetry share one frame per call
 * (`fused.ts`). A bulkhead or a total timeout wraps the retry, so telemetry gets one frame outside
 * them, and that frame also holds the bulkhead's slot: taken in it, released by the same exit
 * observer that counts the call. The guards are built by `Pipeline.fromPolicy`; this module only
 * composes them.
 */
import { Effect } from "effect"
import type { Budget } from "../../RetryBudget.ts"
import { type ClosedPath, slotsOf } from "../fused.ts"
import { onExitUnlessNothing } from "../onExit.ts"
import { failExit } from "../traceless.ts"
import type { Plan } from "../retry/loop.ts"
import { resume } from "../retry/loop.ts"
import { fuse, fusedEntry, type Observer } from "./fused.ts"

type Stage = <A, R>(effect: Effect.Effect<A, unknown, R>) => Effect.Effect<A, unknown, R>

export interface Parts {
  readonly breaker: { readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R> } | undefined
  readonly closed: ClosedPath | undefined
  readonly budget: Budget | undefined
  readonly plan: Plan<unknown, never>
  /** Around each attempt, innermost first (hedging, then the attempt timeout). */
  readonly attemptStages: ReadonlyArray<Stage>
  /** Around the retry, innermost first (the total timeout). */
  readonly outerStages: ReadonlyArray<Stage>
  /** Outermost: its free slot is taken in the pipeline's outer frame; queueing and rejection are its own. */
  readonly bulkhead: { readonly execute: Stage } | undefined
  /** Whether to time this call (read the clock at its start); shared by all calls of a pipeline. */
  readonly shouldTime: () => boolean
  readonly now: () => number
}

/** Runs one call through the guards, handing its final exit to `observe`. */
export const assemble = (parts: Parts) => {
  const { attemptStages, budget, breaker, bulkhead, closed, outerStages, plan, shouldTime, now } = parts
  const slots = bulkhead === undefined ? undefined : slotsOf(bulkhead)
  const fusedOptions = (observer: Observer | undefined) => ({
    breaker,
    closed,
    budget,
    classify: plan.classify,
    resume: <A, R>(next: Effect.Effect<A, unknown, R>, error: unknown) => resume(next, plan, error),
    observer,
    // Without an observer the fused frame times a call only for the breaker: the outer frame
    // samples the call once (asking here too would shift the pipeline's sampling sequence).
    shouldTime: observer === undefined ? never : shouldTime,
    now
  })
  return <A, R>(effect: Effect.Effect<A, unknown, R>, observe: Observer): Effect.Effect<A, unknown, R> => {
    let attempt: Effect.Effect<A, unknown, R> = effect
    for (const stage of attemptStages) attempt = stage(attempt)
    if (outerStages.length === 0 && bulkhead === undefined) return fuse(attempt, fusedOptions(observe))
    // The total timeout and the bulkhead wrap the retry, so telemetry needs a frame outside them.
    let call = fuse(attempt, fusedOptions(undefined))
    for (const stage of outerStages) call = stage(call)
    const inner = call
    if (slots === undefined) {
      const outer = bulkhead === undefined ? inner : bulkhead.execute(inner)
      return Effect.suspend(() => {
        const startedAt = shouldTime() ? now() : undefined
        return onExitUnlessNothing(outer, (exit) => observe(exit, startedAt))
      })
    }
    // Nothing between the bulkhead and the retry: the fused frame's body runs in the slot's frame.
    const enter = outerStages.length === 0 ? fusedEntry(attempt, fusedOptions(undefined)) : () => inner
    const queued = bulkhead!.execute(inner)
    return Effect.suspend(() => {
      const startedAt = shouldTime() ? now() : undefined
      // Full: rejected here, counted by the observer, with no frame (an outage's hot path).
      const full = slots.rejectNow()
      if (full !== undefined) {
        const exit = failExit(full)
        const observed = observe(exit, startedAt)
        // Uninterruptible, as the exit observer's effect is on every other path (a dead letter).
        return observed === undefined ? exit : Effect.uninterruptible(Effect.andThen(observed, exit))
      }
      let held = false
      // The slot is taken once the exit observer is in place: an interruption before that point
      // holds nothing, one after it is released with the rest of the call.
      const run = Effect.suspend(() => {
        if (!slots.tryAcquire()) return queued
        held = true
        return enter()
      })
      return onExitUnlessNothing(run, (exit) => {
        if (held) slots.release()
        return observe(exit, startedAt)
      })
    })
  }
}

const never = () => false
