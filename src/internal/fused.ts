/**
 * What a pipeline's fused frames need from its guards: a circuit breaker's closed-state hot path,
 * so the frame can admit a call and report its outcome without a frame of the breaker's own, and
 * a bulkhead's free-slot path, so the pipeline's exit observer releases the slot. The frames
 * themselves live in `internal/pipeline/`.
 */
import type { Effect, Exit } from "effect"

/** The closed-state hot path of a breaker (`closedPathOf` in `internal/breaker/circuit.ts` finds it). */
export interface ClosedPath {
  readonly admitClosed: () => boolean
  readonly closedExit: (exit: Exit.Exit<unknown, unknown>, start: number) => Effect.Effect<void> | undefined
  /** A rejection that changes nothing (the circuit stays as it is), counted; else undefined. */
  readonly rejectNow: () => unknown
  /** A state change the last `rejectNow` took from the store (learned from the fleet), to publish with it. */
  readonly takeNews: () => Effect.Effect<void> | undefined
  /** The breaker times calls (a slow-call rule), so every admitted call must read the clock. */
  readonly needsStart: boolean
  /** The breaker's clock, in milliseconds. */
  readonly now: () => number
}

/**
 * A bulkhead's free-slot path: take a slot if one is free (nothing queued can then be waiting),
 * give it back; or reject at once when it is full. A caller that took a slot must release it on
 * every exit, interruption included.
 */
export interface Slots {
  readonly tryAcquire: () => boolean
  readonly release: () => void
  /** With every slot and queue place taken: counts the rejection and returns its error; else undefined. */
  readonly rejectNow: () => unknown
}

const slotsKey = Symbol.for("effect-resilience/Bulkhead/slots")

/** Attaches a bulkhead's free-slot path to it (`Bulkhead.make`). */
export const withSlots = <B extends object>(bulkhead: B, slots: Slots): B =>
  Object.defineProperty(bulkhead, slotsKey, { value: slots, enumerable: false })

/** A bulkhead's free-slot path, or undefined for any other value. */
export const slotsOf = (bulkhead: object): Slots | undefined =>
  (bulkhead as { readonly [slotsKey]?: Slots | undefined })[slotsKey]
