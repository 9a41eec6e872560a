/**
 * The breaker's rejection error. An open circuit is exactly when callers hammer a dependency, so a
 * rejection must be cheap. Capturing a stack trace is most of the cost of an `Error` (and even
 * with `Error.stackTraceLimit = 0`, V8's error constructor stays the dearest part of a rejection),
 * so the breaker builds its rejections with `BreakerOpen.fast`: an object on `BreakerOpen`'s
 * prototype with its fields set, not run through `Error`'s constructor. It is still
 * `instanceof Error`, tagged and yieldable; its `stack` is only `BreakerOpen: <message>` (a trace
 * would point inside the library anyway). `new BreakerOpen(...)` also skips the trace, as every
 * `TracelessError` does.
 *
 * @internal
 */
import { Duration } from "effect"
import { TracelessError } from "../traceless.ts"

/**
 * Where a shared rejection keeps its `Permanent` verdict's failed exit (set by the circuit that
 * shares it, read by the default classifier's fast path and by a pipeline's fused frame).
 */
export const verdictKey: unique symbol = Symbol.for("effect-resilience/BreakerOpen/verdict")

/** A call rejected by an open, busy half-open or isolated circuit. */
export class BreakerOpen extends TracelessError("BreakerOpen")<{
  readonly name: string
  readonly retryAfter: Duration.Duration | undefined
}> {
  /** A rejection built without running `Error`'s constructor (the breaker's hot rejection path). */
  static fast(name: string, retryAfter: Duration.Duration | undefined): BreakerOpen {
    const error = Object.create(BreakerOpen.prototype) as { -readonly [K in keyof BreakerOpen]: BreakerOpen[K] }
    error._tag = "BreakerOpen"
    error.name = name
    error.retryAfter = retryAfter
    return error as BreakerOpen
  }

  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `; retry after ${Duration.format(this.retryAfter)}`
    return `Circuit breaker ${this.name} is open${after}`
  }
}
