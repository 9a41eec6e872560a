/**
 * Tagged errors that capture no stack trace and skip `Error`'s constructor. A verdict
 * (`Transient`, `Permanent`), a `RetriesExhausted` or a `BreakerOpen` wraps or stands for an event
 * the caller already knows about; a trace of it would only point inside this library, yet building
 * an `Error` is most of what a failure costs: V8's error constructor takes ~1.5 µs even with
 * `Error.stackTraceLimit = 0`, against ~0.1 µs for an object on the same prototype. An open circuit
 * or a full bulkhead in an outage is thousands of these a second.
 *
 * Instances are built on the class's prototype with their fields (and `_tag`) as own properties,
 * as `Data.TaggedError` sets them: still `instanceof Error`, tagged, yieldable and printed by
 * `Cause.pretty`; their `stack` is `<Tag>: <message>`. What they lack is V8's internal error slot
 * (`util.types.isNativeError` is false), which nothing in Effect reads.
 */
import { Data, Exit } from "effect"

/** `Data.TaggedError(tag)`, for classes whose instances need no stack trace. */
export const TracelessError = <Tag extends string>(tag: Tag): ReturnType<typeof Data.TaggedError<Tag>> => {
  const Base = Data.TaggedError(tag) as unknown as abstract new(args: unknown) => Error
  class Traceless extends Base {
    // No `super()`: Error's constructor is what this skips. A derived constructor may return an
    // object of its own instead, here one made on the prototype of the class actually constructed
    // (`new.target`, a subclass). `extends` (not a prototype set afterwards) keeps `instanceof`
    // and property lookups on V8's fast path.
    // @ts-expect-error TS2377: a derived constructor must call super(); this one returns its instance
    constructor(args: Record<string, unknown> | undefined) {
      const self: Record<string, unknown> = Object.create(new.target.prototype)
      self._tag = tag
      if (args !== undefined && args !== null) {
        // As Data.Error assigns them: never through an inherited `__proto__` setter.
        if (!Object.hasOwn(args, "__proto__")) Object.assign(self, args)
        else {
          for (const key of Object.keys(args)) {
            Object.defineProperty(self, key, { value: args[key], enumerable: true, writable: true, configurable: true })
          }
        }
      }
      return self as unknown as Traceless
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

const exitKey = Symbol.for("effect-resilience/sharedExit")

/**
 * Freezes an error that several rejections hand out, and keeps its failed exit beside it (a
 * hidden, non-enumerable field), so a rejection that reuses it allocates nothing: not the error,
 * not its cause, not its exit. Only for errors whose every field is true for every call that gets
 * them (a rejection's circuit name and retry-after, a bulkhead's limits); frozen, so no caller can
 * make one call's error lie about another's.
 */
export const shared = <E extends object>(error: E): E => {
  Object.defineProperty(error, exitKey, { value: Exit.fail(error), enumerable: false })
  return Object.freeze(error)
}

/**
 * A caller's own copy of a `shared` error (and of a shared error it wraps, such as a verdict's
 * `error`), for promise callers: their frameworks may write to an error (`err.status = 503`,
 * `err.headerSent = true`), which a frozen, shared one would refuse with a TypeError. Any other
 * value is returned as it is.
 */
export const thawed = <E>(error: E): E => {
  if (typeof error !== "object" || error === null || !Object.prototype.hasOwnProperty.call(error, exitKey)) return error
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error)), error) as Record<string, unknown>
  if ("error" in copy) copy.error = thawed(copy.error)
  return copy as E
}

/** The failed exit of `error`: the one kept with a `shared` error, else a new one. */
export const failExit = <E>(error: E): Exit.Exit<never, E> =>
  (typeof error === "object" && error !== null ? (error as { readonly [exitKey]?: Exit.Exit<never, E> })[exitKey] : undefined) ??
    Exit.fail(error)
