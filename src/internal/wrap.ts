/**
 * The engine of `Resilience.wrap`: a built pipeline (or the error that kept it from being built)
 * around an async function, with no timer of its own and a scope released by `dispose`.
 */
import { Cause, Effect, Exit, Scope } from "effect"
import type { Pipeline } from "../Pipeline.ts"
import { runAbortable } from "./abort.ts"

export interface WrapSettings {
  readonly label: (pipeline: Pipeline | undefined) => string
  readonly publishEveryMillis: number
  readonly disposed: (label: string) => unknown
}

export const wrapWith = <Args extends ReadonlyArray<unknown>, A>(
  made: Exit.Exit<Pipeline, unknown>,
  scope: Scope.Closeable,
  fn: (...args: Args) => Promise<A>,
  settings: WrapSettings
) => {
  const pipeline = Exit.isSuccess(made) ? made.value : undefined
  const failure = Exit.isSuccess(made) ? undefined : Cause.squash(made.cause)
  const label = settings.label(pipeline)
  const everyMillis = settings.publishEveryMillis
  let disposed = false
  let publishedAt = Date.now()
  const published = <B>(value: B): B => {
    // No timer of its own (it would keep the process alive): calls that finish push telemetry.
    if (pipeline !== undefined && Date.now() - publishedAt >= everyMillis) {
      publishedAt = Date.now()
      Effect.runFork(pipeline.publish)
    }
    return value
  }
  const unavailable = (): Promise<never> => Promise.reject(failure ?? settings.disposed(label))
  const call = (signal: AbortSignal | undefined, args: Args): Promise<A> => {
    if (pipeline === undefined || disposed) return unavailable()
    const run = pipeline.execute(Effect.tryPromise({ try: () => fn(...args), catch: (e) => e }))
    return runAbortable(run, signal).then(published, (error) => {
      published(undefined)
      throw error
    })
  }
  const dispose = async (): Promise<void> => {
    if (disposed) return
    disposed = true
    if (pipeline !== undefined) await Effect.runPromise(pipeline.publish)
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  return Object.assign((...args: Args) => call(undefined, args), {
    withSignal: (signal: AbortSignal) => (...args: Args) => call(signal, args),
    stats: () => pipeline === undefined ? unavailable() : Effect.runPromise(pipeline.stats),
    dispose,
    [Symbol.asyncDispose]: dispose
  })
}
