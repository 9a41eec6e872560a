/**
 * Tagged errors that capture no stack trace. A verdict (`Transient`, `Permanent`) or a
 * `RetriesExhausted` wraps the caller's own error, which keeps its own trace; a trace of the
 * wrapper would only point inside this library, yet capturing it is most of what a failure costs
 * (an open circuit or a full bulkhead in an outage is thousands of these a second). Instances stay
 * `instanceof Error`, tagged and yieldable; their `stack` is `<Tag>: <message>`.
 */
import { Data } from "effect"

/** `Data.TaggedError(tag)`, for classes whose instances need no stack trace. */
export const TracelessError = <Tag extends string>(tag: Tag): ReturnType<typeof Data.TaggedError<Tag>> => {
  const Base = Data.TaggedError(tag) as unknown as new(args: unknown) => Error
  class Traceless extends Base {
    constructor(args: unknown) {
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      try {
        super(args)
      } finally {
        Error.stackTraceLimit = limit
      }
      // V8 leaves an own `stack` even without frames, naming the error by a `name` field when one
      // exists: the prototype's getter names it by its tag.
      delete (this as { stack?: string }).stack
    }
  }
  Object.defineProperty(Traceless.prototype, "stack", {
    get(this: Error) {
      return `${tag}: ${this.message}`
    },
    configurable: true
  })
  return Traceless as unknown as ReturnType<typeof Data.TaggedError<Tag>>
}
