/**
 * The "no finalizer" shortcut of `Effect.onExit`: Effect 4's onExit primitive accepts a handler
 * that returns `undefined` and then returns the exit as it is, without a finalizer step. The hot
 * paths (a successful call through a pipeline, a bulkhead, a fused frame) return `NOTHING` to skip
 * that step. `test/internal/onExit.test.ts` pins the Effect behaviour this relies on.
 */
import { Effect, type Exit } from "effect"

/** "Nothing to run": typed as an effect so handlers keep `Effect.onExit`'s signature. */
export const NOTHING = undefined as unknown as Effect.Effect<void>

/** `Effect.onExit` whose handler may return `undefined` (or `NOTHING`) for "nothing to run". */
export const onExitUnlessNothing = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  handler: (exit: Exit.Exit<A, E>) => Effect.Effect<void> | undefined
): Effect.Effect<A, E, R> => Effect.onExit(self, handler as (exit: Exit.Exit<A, E>) => Effect.Effect<void>)
