/**
 * Promises the caller can abort: an abort interrupts the call, and the promise rejects the way
 * fetch and Node report an aborted call.
 */
import { Cause, Effect, Exit } from "effect"
import { thawed } from "./traceless.ts"

/**
 * The rejection of a call its caller aborted, as fetch and Node report one: an `Error` named
 * `"AbortError"` whose `cause` is the signal's reason.
 */
const abortError = (signal: AbortSignal): Error => {
  const error = new Error("The operation was aborted", { cause: signal.reason })
  error.name = "AbortError"
  return error
}

/**
 * Runs a call for a promise caller, who may abort it. An abort interrupts the call; the promise
 * then rejects with an `AbortError`, not Effect's "All fibers interrupted without error". A
 * rejection's error is the caller's own (`thawed`): never a shared, frozen one.
 */
export const runAbortable = <A, E>(effect: Effect.Effect<A, E>, signal: AbortSignal | undefined): Promise<A> => {
  if (signal?.aborted === true) return Promise.reject(abortError(signal))
  return Effect.runPromiseExit(effect, signal === undefined ? undefined : { signal }).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    if (signal?.aborted === true && Cause.hasInterruptsOnly(exit.cause)) throw abortError(signal)
    throw thawed(Cause.squash(exit.cause))
  })
}

