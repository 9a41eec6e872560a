/**
 * What a pipeline's fused frame needs from a circuit breaker: the closed-state hot path, so the
 * frame can admit a call and report its outcome without a frame of the breaker's own. The frame
 * itself lives in `internal/pipeline/fused.ts`.
 */
import type { Effect, Exit } from "effect"

/** The closed-state hot path of a breaker (`closedPathOf` in `internal/breaker/circuit.ts` finds it). */
export interface ClosedPath {
  readonly admitClosed: () => boolean
  readonly closedExit: (exit: Exit.Exit<unknown, unknown>, start: number) => Effect.Effect<void> | undefined
  /** The breaker times calls (a slow-call rule), so every admitted call must read the clock. */
  readonly needsStart: boolean
  /** The breaker's clock, in milliseconds. */
  readonly now: () => number
}
