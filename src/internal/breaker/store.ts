/**
 * Stores apply the breaker's machine atomically to one circuit's state. The in-memory store is a
 * `Ref` per circuit: `apply` is `Ref.modify`, and `applyUnsafe` is the same read-modify-write done
 * synchronously on the `MutableRef` the `Ref` holds (atomic too: there is no yield point between
 * the read and the write), which is what the breaker's hot path uses.
 *
 * A distributed store (Redis, a later issue) implements `CircuitStore` by running the same
 * machine in one script call per event, with the state serialised as a hash.
 *
 * @internal
 */
import { type Effect, Ref } from "effect"
import { type Config, type Event, type State, type Step, step } from "./machine.ts"

/** One circuit's state, wherever it lives. */
export interface CircuitStore {
  /** Applies one event atomically at `now` and returns the step. */
  readonly apply: (event: Event, now: number) => Effect.Effect<Step>
  /** The current state, as stored (no time-driven transitions applied). */
  readonly get: Effect.Effect<State>
}

/** Applies an event to a `Ref`-held state synchronously. Only call from inside an effect. */
export const applyUnsafe = (ref: Ref.Ref<State>, event: Event, now: number, config: Config): Step => {
  const cell = ref.ref
  const result = step(cell.current, event, now, config)
  cell.current = result[0]
  return result
}

/** The in-memory store over a `Ref`. */
export const memory = (ref: Ref.Ref<State>, config: Config): CircuitStore => ({
  apply: (event, now) =>
    Ref.modify(ref, (state): readonly [Step, State] => {
      const result = step(state, event, now, config)
      return [result, result[0]]
    }),
  get: Ref.get(ref)
})
