// Test helpers shared by the retry and pipeline tests.
import { Clock, Effect } from "effect"

/**
 * A dependency that fails with the given errors in turn, then succeeds with the number of calls
 * made; `state` records the calls and the (Test)Clock time of each.
 */
export const scripted = <E>(errors: ReadonlyArray<E>) => {
  const state = { calls: 0, times: [] as Array<number> }
  const effect = Effect.gen(function*() {
    state.times.push(yield* Clock.currentTimeMillis)
    const i = state.calls++
    if (i < errors.length) return yield* Effect.fail(errors[i]!)
    return state.calls
  })
  return { effect, state }
}

/** Silences retry and breaker logs in tests that do not look at them. */
export const quiet = { log: false } as const
