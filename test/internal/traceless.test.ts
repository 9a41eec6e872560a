// Verdicts and RetriesExhausted capture no stack trace (a trace of the wrapper points inside the
// library and costs most of a failure), yet stay real, tagged, yieldable errors.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { Failure, Retry } from "../../src/index.ts"

const frames = (stack: string | undefined) => (stack ?? "").split("\n").filter((line) => /^\s+at /.test(line))

describe("trace-less errors", () => {
  it.effect("Transient, Permanent and RetriesExhausted have no stack frames, only their tag and message", () =>
    Effect.gen(function*() {
      const transient = Failure.transient(new Error("socket hang up"), { kind: "Network" })
      const permanent = Failure.permanent({ status: 404 }, { kind: "NotFound" })
      const exhausted = yield* Effect.flip(Effect.fail(transient).pipe(Retry.retry({ maxRetries: 0, log: false })))
      for (const error of [transient, permanent, exhausted]) {
        assert.instanceOf(error, Error)
        assert.deepStrictEqual(frames(error.stack), [])
        assert.strictEqual(error.stack, `${error._tag}: ${error.message}`)
      }
      assert.strictEqual(transient.stack, "Transient: Transient(Network): socket hang up")
      // The wrapped error keeps its own trace.
      assert.isAbove(frames((transient.error as Error).stack).length, 0)
    }))

  it.effect("they are still yieldable, caught by tag, and printed by Cause.pretty", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.gen(function*() {
        return yield* Failure.permanent("bad input", { kind: "Validation" })
      }))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.include(Cause.pretty(exit.cause), "Permanent(Validation): bad input")
      const caught = yield* Effect.fail(Failure.transient("x")).pipe(Effect.catchTag("Transient", (e) => Effect.succeed(e.kind)))
      assert.strictEqual(caught, "Unknown")
    }))

  it("they are built without Error's constructor: own enumerable fields and tag, no own stack, JSON as Data errors", () => {
    const permanent = Failure.permanent({ status: 404 }, { kind: "NotFound" })
    assert.deepStrictEqual(Object.keys(permanent).sort(), ["_tag", "error", "kind"])
    assert.notInclude(Object.getOwnPropertyNames(permanent), "stack")
    assert.strictEqual(Object.getPrototypeOf(permanent), Failure.Permanent.prototype)
    assert.deepStrictEqual(JSON.parse(JSON.stringify(permanent)), { _tag: "Permanent", error: { status: 404 }, kind: "NotFound" })
    assert.strictEqual(permanent.name, "Permanent")
    // A `__proto__` key in the arguments is a field, never a prototype change.
    const hostile = new Failure.Transient(JSON.parse(`{ "error": 1, "kind": "Server", "retryAfter": null, "__proto__": { "x": 1 } }`))
    assert.strictEqual(Object.getPrototypeOf(hostile), Failure.Transient.prototype)
    assert.isTrue(Failure.isTransient(hostile))
  })

  it("the stack trace limit is untouched by a construction, also for other errors", () => {
    const before = Error.stackTraceLimit
    Failure.transient("x")
    assert.strictEqual(Error.stackTraceLimit, before)
    assert.isAbove(frames(new Error("ordinary").stack).length, 0)
  })
})
