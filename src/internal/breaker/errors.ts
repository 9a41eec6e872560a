/**
 * The breaker's rejection error. An open circuit is exactly when callers hammer a dependency, so a
 * rejection must be cheap: the error is built without capturing a stack trace (its `stack` names
 * only the error; a trace would point inside the library anyway). It stays a tagged, yieldable
 * `Error` with its fields.
 *
 * @internal
 */
import { Data, Duration } from "effect"

const Base = Data.TaggedError("BreakerOpen")<{
  readonly name: string
  readonly retryAfter: Duration.Duration | undefined
}>

/** A call rejected by an open, busy half-open or isolated circuit. */
export class BreakerOpen extends Base {
  constructor(args: { readonly name: string; readonly retryAfter: Duration.Duration | undefined }) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      super(args)
    } finally {
      Error.stackTraceLimit = limit
    }
  }

  override get message(): string {
    const after = this.retryAfter === undefined ? "" : `; retry after ${Duration.format(this.retryAfter)}`
    return `Circuit breaker ${this.name} is open${after}`
  }
}
