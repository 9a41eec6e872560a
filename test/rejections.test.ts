// Fast rejections (issue 16): an open circuit, a full bulkhead, a spent budget and an expired
// deadline reject with shared, frozen errors and no frame. Each fast path is pinned against the
// slow path it replaces: the same errors, fields, counts and telemetry.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import {
  Bulkhead,
  CircuitBreaker,
  CircuitBreakerStore,
  DeadLetter,
  Deadline,
  Failure,
  Resilience,
  Retry,
  RetryBudget,
  Timeout
} from "../src/index.ts"

const boom = Effect.fail({ status: 503 })
const one = Effect.succeed(1)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit))
  const found = Cause.findErrorOption((exit as Exit.Failure<A, E>).cause)
  assert.isTrue(found._tag === "Some")
  return (found as { readonly value: E }).value
}

/** The memory store without its rejection shortcut (`retryAfterAt`): every rejection is a machine step. */
const slowStore: CircuitBreakerStore.CircuitBreakerStore["Service"] = {
  circuit: (name, config, clock) => {
    const inner = CircuitBreakerStore.memory.circuit(name, config, clock)
    const local = inner.local!
    return {
      admit: inner.admit,
      record: (token, outcome) => inner.record(token, outcome),
      signal: (signal) => inner.signal(signal),
      read: inner.read,
      local: {
        admitClosed: () => local.admitClosed(),
        quietSuccess: () => local.quietSuccess(),
        recordClosed: (outcome, now) => local.recordClosed(outcome, now),
        rejectsAt: (now) => local.rejectsAt(now),
        admitAt: (now) => local.admitAt(now),
        recordAt: (token, outcome, now) => local.recordAt(token, outcome, now),
        forgettable: (now) => local.forgettable(now)
      }
    }
  }
}

// An open circuit (consecutive(1), opened at t = 0 for 10 s), then rejections at 0, 0, 1 ms and 2.5 s.
const rejectionsOf = (store: CircuitBreakerStore.CircuitBreakerStore["Service"] | undefined) =>
  Effect.gen(function*() {
    const breaker = yield* CircuitBreaker.make({
      name: "shared",
      log: false,
      trip: CircuitBreaker.consecutive(1),
      openFor: "10 seconds",
      ...(store === undefined ? {} : { store })
    })
    yield* Effect.exit(breaker.execute(boom))
    const errors = []
    errors.push(failureOf(yield* Effect.exit(breaker.execute(one))))
    errors.push(failureOf(yield* Effect.exit(breaker.execute(one))))
    yield* TestClock.adjust(1)
    errors.push(failureOf(yield* Effect.exit(breaker.execute(one))))
    yield* TestClock.adjust(2499)
    errors.push(failureOf(yield* Effect.exit(breaker.execute(one))))
    const stats = yield* breaker.stats
    const snapshot = yield* Metric.snapshot
    const rejected = snapshot.find((m) => m.id === "resilience_rejections_total" && m.attributes?.operation === "shared")
    return { errors, stats, published: (rejected?.state as { count: number } | undefined)?.count }
  }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

const fields = (error: unknown) => {
  const e = error as CircuitBreaker.BreakerOpen
  return { tag: e._tag, name: e.name, retryAfter: e.retryAfter === undefined ? undefined : Duration.toMillis(e.retryAfter), message: e.message }
}

describe("open circuit: shared rejections", () => {
  it.effect("the same errors, fields, counts and published metric as the machine-step path", () =>
    Effect.gen(function*() {
      const fast = yield* rejectionsOf(undefined)
      const slow = yield* rejectionsOf(slowStore)
      assert.deepStrictEqual(fast.errors.map(fields), slow.errors.map(fields))
      assert.deepStrictEqual(fast.errors.map(fields).map((f) => f.retryAfter), [10_000, 10_000, 9_999, 7_500])
      // Run one after the other on the same TestClock: only when the circuit opened differs.
      assert.deepStrictEqual({ ...fast.stats, since: 0 }, { ...slow.stats, since: 0 })
      assert.strictEqual(fast.stats.rejections, 4)
      assert.strictEqual(fast.published, 4)
      assert.strictEqual(slow.published, 4)
      for (const error of fast.errors) assert.isTrue(error instanceof CircuitBreaker.BreakerOpen)
    }))

  it.effect("shared only while true: one frozen error per circuit and retry-after millisecond", () =>
    Effect.gen(function*() {
      const { errors } = yield* rejectionsOf(undefined)
      assert.strictEqual(errors[0], errors[1]) // same circuit, same millisecond
      assert.notStrictEqual(errors[1], errors[2]) // one millisecond later: a new retry-after
      for (const error of errors) {
        assert.isTrue(Object.isFrozen(error))
        assert.throws(() => {
          ;(error as { name: string }).name = "other"
        })
      }
      assert.strictEqual((errors[0] as CircuitBreaker.BreakerOpen).name, "shared")
    }))

  it.effect("keyed circuits never share one another's rejection", () =>
    Effect.gen(function*() {
      const keyed = yield* CircuitBreaker.keyed({ name: "k", log: false, trip: CircuitBreaker.consecutive(1) })
      yield* Effect.exit(keyed.execute("a", boom))
      yield* Effect.exit(keyed.execute("b", boom))
      const a1 = failureOf(yield* Effect.exit(keyed.execute("a", one))) as CircuitBreaker.BreakerOpen
      const a2 = failureOf(yield* Effect.exit(keyed.execute("a", one))) as CircuitBreaker.BreakerOpen
      const b = failureOf(yield* Effect.exit(keyed.execute("b", one))) as CircuitBreaker.BreakerOpen
      const a3 = failureOf(yield* Effect.exit(keyed.execute("a", one))) as CircuitBreaker.BreakerOpen
      assert.deepStrictEqual([a1.name, a2.name, b.name, a3.name], ["k/a", "k/a", "k/b", "k/a"])
      assert.strictEqual(a1, a2)
      assert.notStrictEqual(a1, b)
      // The family keeps one shared rejection: after b's, a's is made again (equal, not the same).
      assert.notStrictEqual(a3, a1)
      assert.deepStrictEqual(fields(a3), fields(a1))
    }))

  it.effect("Failure.classify: the verdict a new Permanent would be, shared with the rejection", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "c", log: false })
      yield* breaker.isolate
      const first = failureOf(yield* Effect.exit(breaker.execute(one).pipe(Failure.classify())))
      const second = failureOf(yield* Effect.exit(breaker.execute(one).pipe(Failure.classify())))
      assert.isTrue(Failure.isPermanent(first))
      assert.strictEqual(first, second)
      assert.isTrue(Object.isFrozen(first))
      const open = first.error as CircuitBreaker.BreakerOpen
      assert.strictEqual(open.name, "c")
      assert.strictEqual(open.retryAfter, undefined)
      // What classifying a fresh BreakerOpen (no shared verdict) gives: equal fields.
      const fresh = Failure.defaultClassifier(new CircuitBreaker.BreakerOpen({ name: "c", retryAfter: undefined }))
      assert.deepStrictEqual({ tag: first._tag, kind: first.kind, message: first.message }, { tag: fresh._tag, kind: fresh.kind, message: fresh.message })
      // A custom classifier still decides (the shared verdict is only the default's).
      const custom = failureOf(yield* Effect.exit(breaker.execute(one).pipe(Failure.classify((e: CircuitBreaker.BreakerOpen) => Failure.transient(e)))))
      assert.isTrue(Failure.isTransient(custom))
    }))

  it.effect("Failure.classify maps every failure of a cause with several, as Effect.mapError does", () =>
    Effect.gen(function*() {
      const both = Effect.failCause(Cause.combine(Cause.fail({ status: 503 }), Cause.fail({ status: 404 })))
      const exit = yield* Effect.exit(both.pipe(Failure.classify()))
      assert.isTrue(Exit.isFailure(exit))
      const errors = (exit as Exit.Failure<never, Failure.Classified<unknown>>).cause.reasons.map((r) => r._tag === "Fail" ? r.error._tag : r._tag)
      assert.deepStrictEqual(errors, ["Transient", "Permanent"])
      const died = yield* Effect.exit(Effect.die("bug").pipe(Failure.classify()))
      assert.isTrue(Exit.isFailure(died) && Cause.hasDies(died.cause))
    }))

  it.effect("in a pipeline: Permanent CircuitOpen, counted once per call as a rejection", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 3 }, circuitBreaker: true }, { log: false })
      yield* pipeline.breaker!.isolate
      const errors = []
      for (let i = 0; i < 3; i++) errors.push(failureOf(yield* Effect.exit(pipeline.execute(one))))
      assert.strictEqual(errors[0], errors[2])
      assert.isTrue(Failure.isPermanent(errors[0]) && errors[0].kind === "CircuitOpen")
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.rejected, 3)
      assert.deepStrictEqual(stats.rejections, { circuit_open: 3 })
      assert.strictEqual(stats.breaker?.rejections, 3)
      assert.strictEqual(stats.calls, 3)
    }))
})

describe("full bulkhead: one shared error", () => {
  it.effect("frozen, the same for every rejection, alone and in a pipeline (counted)", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "b", maxConcurrent: 1, maxQueue: 0 })
      const holder = yield* Effect.forkChild(bulkhead.execute(Effect.never))
      yield* Effect.yieldNow
      const a = failureOf(yield* Effect.exit(bulkhead.execute(one)))
      const b = failureOf(yield* Effect.exit(bulkhead.execute(one)))
      assert.strictEqual(a, b)
      assert.isTrue(Object.isFrozen(a))
      assert.deepStrictEqual({ tag: a._tag, name: a.name, maxConcurrent: a.maxConcurrent, maxQueue: a.maxQueue }, {
        tag: "BulkheadFull",
        name: "b",
        maxConcurrent: 1,
        maxQueue: 0
      })
      assert.strictEqual(bulkhead.statsUnsafe().rejected, 2)
      yield* Fiber.interrupt(holder)
      assert.strictEqual(failureOf(yield* Effect.exit(bulkhead.execute(Effect.fail("own")))), "own")

      const pipeline = yield* Resilience.make({ retry: { maxRetries: 3 }, bulkhead: { maxConcurrent: 1 } }, { log: false })
      const held = yield* Effect.forkChild(pipeline.execute(Effect.never))
      yield* Effect.yieldNow
      const c = failureOf(yield* Effect.exit(pipeline.execute(one)))
      const d = failureOf(yield* Effect.exit(pipeline.execute(one)))
      assert.strictEqual(c, d)
      assert.strictEqual((c as Bulkhead.BulkheadFull)._tag, "BulkheadFull")
      const stats = yield* pipeline.stats
      assert.deepStrictEqual(stats.rejections, { bulkhead_full: 2 })
      assert.strictEqual(stats.bulkhead?.rejected, 2)
      yield* Fiber.interrupt(held)
      assert.strictEqual(pipeline.bulkhead!.statsUnsafe().running, 0)
    }))
})

describe("spent budget: RetriesExhausted without the loop", () => {
  // The loop's own answer: under a deadline (far away) the early answer is not taken.
  it.effect("the same error (fields, keys, message) as the loop gives under a far deadline", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 })
      const failing = Effect.fail(Failure.transient({ status: 503 }, { kind: "Server" }))
      const retried = failing.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, budget, log: false }))
      const early = failureOf(yield* Effect.exit(retried))
      const loop = failureOf(yield* Effect.exit(retried.pipe(Deadline.within("1 hour"))))
      assert.strictEqual(early._tag, "RetriesExhausted")
      assert.deepStrictEqual(Object.keys(early), Object.keys(loop))
      assert.deepStrictEqual(early, loop)
      assert.strictEqual(early.message, loop.message)
      assert.isTrue(early instanceof Retry.RetriesExhausted)
      assert.deepStrictEqual([early.reason, early.attempts, Duration.toMillis(early.elapsed)], ["budget", 1, 0])
      assert.isFalse("retryAfter" in early)
    }))

  // The fast path builds it without the class's constructor: it must be what `new` would give.
  it.effect("the same object as `new Retry.RetriesExhausted(...)`: prototype, own keys in order, message, stack", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 })
      const last = Failure.transient({ status: 503 }, { kind: "Server" })
      const early = failureOf(yield* Effect.exit(Effect.fail(last).pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, budget, log: false }))))
      const made = new Retry.RetriesExhausted({ attempts: 1, elapsed: Duration.millis(0), last, reason: "budget" })
      assert.strictEqual(Object.getPrototypeOf(early), Retry.RetriesExhausted.prototype)
      assert.strictEqual(early.constructor, Retry.RetriesExhausted)
      assert.deepStrictEqual(Object.keys(early), Object.keys(made))
      assert.deepStrictEqual(early, made)
      assert.strictEqual(early.last, last)
      assert.strictEqual(early.message, made.message)
      assert.strictEqual(early.stack, made.stack)
      assert.isTrue(early instanceof Error)
    }))
})

describe("expired deadline: Timeout.attempt does not start", () => {
  it.effect("Permanent Timeout with scope deadline and duration zero; frozen, shared; the effect never runs", () =>
    Effect.gen(function*() {
      let runs = 0
      const attempt = Effect.sync(() => ++runs).pipe(Timeout.attempt("5 seconds"))
      yield* TestClock.adjust(1000)
      const late = Effect.provideService(attempt, Deadline.CurrentDeadline, 500)
      const a = failureOf(yield* Effect.exit(late))
      const b = failureOf(yield* Effect.exit(late))
      assert.strictEqual(runs, 0)
      assert.strictEqual(a, b)
      assert.isTrue(Failure.isPermanent(a) && Object.isFrozen(a) && Object.isFrozen(a.error))
      const error = a.error as Timeout.TimeoutExceeded
      assert.isTrue(error instanceof Timeout.TimeoutExceeded)
      assert.deepStrictEqual([a.kind, error.scope, Duration.toMillis(error.duration)], ["Timeout", "deadline", 0])
      assert.strictEqual(error.stack, `TimeoutExceeded: ${error.message}`)
      // With time left it runs.
      assert.strictEqual(yield* Effect.provideService(attempt, Deadline.CurrentDeadline, 2000), 1)
    }))

  it.effect("in a pipeline: the shared Permanent, counted as a Timeout failure, not retried", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 3 }, attemptTimeout: "5 seconds" }, { log: false })
      let runs = 0
      const call = pipeline.execute(Effect.sync(() => ++runs))
      const a = failureOf(yield* Effect.exit(call.pipe(Effect.provideService(Deadline.CurrentDeadline, -1))))
      const b = failureOf(yield* Effect.exit(call.pipe(Effect.provideService(Deadline.CurrentDeadline, -1))))
      assert.strictEqual(a, b)
      assert.strictEqual(runs, 0)
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.calls, 2)
      assert.deepStrictEqual(stats.failuresByKind, { Timeout: 2 })
      assert.strictEqual(stats.retries, 0)
    }))
})

describe("a rejection in a pipeline is observed uninterruptibly", () => {
  it.effect("a caller interrupted while its rejection's dead letter is stored still stores it and counts it", () =>
    Effect.gen(function*() {
      const stored: Array<DeadLetter.Letter> = []
      let storing = false
      // A store that takes a second (on the TestClock) to keep a letter.
      const slow = Layer.succeed(DeadLetter.DeadLetters, {
        publish: (letter) => Effect.sync(() => (storing = true)).pipe(Effect.andThen(Effect.sleep(1000)), Effect.andThen(Effect.sync(() => stored.push(letter)))),
        list: Effect.sync(() => stored),
        dropped: Effect.succeed(0),
        failed: Effect.succeed(0)
      })
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 3 }, circuitBreaker: true, deadLetters: { rejected: true } }, { log: false }).pipe(
        Effect.provide(slow)
      )
      yield* pipeline.breaker!.isolate
      const caller = yield* Effect.forkChild(pipeline.execute(one))
      while (!storing) yield* Effect.yieldNow
      const interrupting = yield* Effect.forkChild(Fiber.interrupt(caller))
      yield* Effect.yieldNow
      assert.strictEqual(stored.length, 0)
      yield* TestClock.adjust(1000)
      yield* Fiber.join(interrupting)
      assert.strictEqual(stored.length, 1)
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.rejected, 1)
      assert.strictEqual(stats.rejectedLetters, 1)
    }))
})

describe("breaker changes: attributed sinks kept per circuit", () => {
  const seriesOf = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, id: string, attributes: Record<string, string>) =>
    snapshot.filter((m) => m.id === id && Object.entries(attributes).every(([k, v]) => m.attributes?.[k] === v))

  it.effect("failed half-open probes: every transition counted in its own series, the state gauge current", () =>
    Effect.gen(function*() {
      const keyed = yield* CircuitBreaker.keyed({ name: "p", log: false, trip: CircuitBreaker.consecutive(1), openFor: "1 second" })
      for (const key of ["a", "b"]) yield* Effect.exit(keyed.execute(key, boom))
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust(1000)
        for (const key of ["a", "b"]) yield* Effect.exit(keyed.execute(key, boom))
      }
      const snapshot = yield* Metric.snapshot
      for (const name of ["p/a", "p/b"]) {
        const count = (from: string, to: string) =>
          (seriesOf(snapshot, "resilience_breaker_transitions_total", { operation: name, from, to })[0]?.state as { count: number } | undefined)?.count
        assert.deepStrictEqual([count("Closed", "Open"), count("Open", "HalfOpen"), count("HalfOpen", "Open")], [1, 3, 3])
        const state = seriesOf(snapshot, "resilience_breaker_state", { operation: name })
        assert.strictEqual(state.length, 1)
        assert.strictEqual((state[0]!.state as { value: number }).value, 2)
      }
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("past the bound of kept sinks, a circuit's next changes still land in its series", () =>
    Effect.gen(function*() {
      const keyed = yield* CircuitBreaker.keyed({ name: "many", log: false, trip: CircuitBreaker.consecutive(1), maxCircuits: 2000 })
      for (let i = 0; i < 1100; i++) yield* Effect.exit(keyed.execute(String(i), boom))
      yield* (yield* keyed.get("0")).reset
      const snapshot = yield* Metric.snapshot
      const opened = seriesOf(snapshot, "resilience_breaker_transitions_total", { from: "Closed", to: "Open" })
      assert.strictEqual(opened.length, 1100)
      const reset = seriesOf(snapshot, "resilience_breaker_transitions_total", { operation: "many/0", from: "Open", to: "Closed" })
      assert.strictEqual((reset[0]?.state as { count: number } | undefined)?.count, 1)
      const state = seriesOf(snapshot, "resilience_breaker_state", { operation: "many/0" })
      assert.strictEqual(state.length, 1)
      assert.strictEqual((state[0]!.state as { value: number }).value, 0)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
})

describe("the retry's frame reads a lone failure directly; other causes as Effect.catch does", () => {
  const withDefect = Effect.failCause(Cause.combine(Cause.fail({ status: 503 }), Cause.die("bug")))
  const twoFailures = Effect.failCause(Cause.combine(Cause.fail({ status: 400 }), Cause.fail({ status: 503 })))
  const tags = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? exit.cause.reasons.map((r) => r._tag) : []

  it.effect("a defect beside a failure: defects only, not retried, with or without a budget", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 10 })
      const expected = tags(yield* Effect.exit(Effect.catch(withDefect, () => Effect.succeed(0))))
      assert.deepStrictEqual(expected, ["Die", "Die"]) // the typed failure elected to a defect beside the defect
      assert.deepStrictEqual(tags(yield* Effect.exit(withDefect.pipe(Retry.retry({ maxRetries: 3, log: false })))), expected)
      assert.deepStrictEqual(tags(yield* Effect.exit(withDefect.pipe(Retry.retry({ maxRetries: 3, log: false, budget })))), expected)
    }))

  it.effect("two failures: the first decides, with or without a budget", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.tokenBucket({ capacity: 10 })
      for (const retried of [Retry.retry({ maxRetries: 3, log: false }), Retry.retry({ maxRetries: 3, log: false, budget })]) {
        const error = failureOf(yield* Effect.exit(twoFailures.pipe(retried)))
        assert.isTrue(Failure.isPermanent(error))
        assert.deepStrictEqual((error as Failure.Permanent<unknown>).error, { status: 400 })
      }
    }))
})

describe("a deadline already past at the first failure: RetriesExhausted without the loop", () => {
  it.effect("the same error as the loop gives (forced with a `while`), the call run once, the budget not asked", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust(5000)
      let runs = 0
      const failing = Effect.suspend(() => {
        runs++
        return Effect.fail(Failure.transient({ status: 503 }, { kind: "Server" }))
      })
      const late = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Deadline.CurrentDeadline, 4000)
      const early = failureOf(yield* Effect.exit(late(failing.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false })))))
      const loop = failureOf(yield* Effect.exit(late(failing.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false, while: () => true })))))
      assert.strictEqual(runs, 2)
      assert.deepStrictEqual(early, loop)
      assert.deepStrictEqual(Object.keys(early), Object.keys(loop))
      assert.isTrue(early._tag === "RetriesExhausted" && early.reason === "deadline" && early.attempts === 1)
      // Deadline before budget, as in the loop: a spent budget is not asked (nor counted).
      const budget = yield* RetryBudget.tokenBucket({ capacity: 1, retryCost: 5 })
      const both = failureOf(yield* Effect.exit(late(failing.pipe(Retry.retry({ maxRetries: 3, initialDelay: 10, log: false, budget })))))
      assert.isTrue(both._tag === "RetriesExhausted" && both.reason === "deadline")
      assert.strictEqual(budget.statsUnsafe().retriesDenied, 0)
      // With time left the loop retries.
      const inTime = failureOf(yield* Effect.exit(Effect.provideService(failing.pipe(Retry.retry({ maxRetries: 1, initialDelay: 10, log: false })), Deadline.CurrentDeadline, 60_000).pipe(
        Effect.forkChild,
        Effect.tap(() => TestClock.adjust(1000)),
        Effect.flatMap(Fiber.join)
      )))
      assert.isTrue(inTime._tag === "RetriesExhausted" && inTime.reason === "schedule" && inTime.attempts === 2)
    }))
})
