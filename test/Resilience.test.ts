import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Fiber, Layer, Metric, Tracer } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CircuitBreaker, DeadLetter, Failure, Policy, Resilience } from "../src/index.ts"
import { quiet, scripted } from "./support/scripted.ts"



const down = Effect.fail({ status: 503 })

describe("Resilience.make", () => {
  it.effect("retries outside the breaker: once the circuit opens, retrying stops with CircuitOpen", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({
        name: "orders",
        retry: { maxRetries: 10, initialDelay: 100, jitter: "none" },
        circuitBreaker: { consecutiveFailures: 3, openFor: "30 seconds" }
      }, quiet)
      let calls = 0
      const fiber = yield* Effect.forkChild(Effect.flip(pipeline.execute(Effect.suspend(() => (calls++, down)))))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(calls, 3)
      assert.strictEqual(error._tag, "Permanent")
      assert.strictEqual(error._tag === "Permanent" && error.kind, "CircuitOpen")
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.breaker?.state, "Open")
      assert.strictEqual(stats.retries, 3)
      assert.deepStrictEqual(stats.rejections, { circuit_open: 1 })
    }))

  it.effect("an attempt timeout is a transient failure that is retried; a total timeout stops everything", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({
        retry: { maxRetries: 5, initialDelay: 100, jitter: "none" },
        attemptTimeout: "1 second",
        timeout: "3 seconds"
      }, quiet)
      let calls = 0
      const fiber = yield* Effect.forkChild(Effect.flip(pipeline.execute(Effect.suspend(() => (calls++, Effect.never)))))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      // attempts at 0, 1100, 2300 (each times out after 1 s, then waits 100, 200); the total stops the third
      assert.strictEqual(calls, 3)
      assert.strictEqual(error._tag === "Permanent" && error.kind, "Timeout")
    }))

  it.effect("a retry budget denies retries when it is spent and the stats say so", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({
        retry: { maxRetries: 3, initialDelay: 10, jitter: "none" },
        budget: { type: "tokenBucket", capacity: 10, retryCost: 5 }
      }, quiet)
      const fiber = yield* Effect.forkChild(Effect.flip(pipeline.execute(down)))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "budget")
      assert.strictEqual(error._tag === "RetriesExhausted" && error.attempts, 3)
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.budgetDenied, 1)
      assert.strictEqual(stats.budget?.retriesDenied, 1)
    }))

  it.effect("a full bulkhead rejects at once with BulkheadFull", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: false, bulkhead: { maxConcurrent: 1 } }, quiet)
      const first = yield* Effect.forkChild(pipeline.execute(Effect.never), { startImmediately: true })
      const second = yield* Effect.flip(pipeline.execute(Effect.succeed(1)))
      assert.strictEqual(second._tag, "BulkheadFull")
      yield* Fiber.interrupt(first)
      assert.deepStrictEqual((yield* pipeline.stats).rejections, { bulkhead_full: 1 })
    }))

  it.effect("dead letters are written before the failure returns, with attempts and times", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ name: "s3", retry: { maxAttempts: 3, initialDelay: 500, jitter: "none" }, deadLetters: true }, {
        ...quiet,
        tags: { bucket: "reviews" }
      })
      const deadLetters = yield* DeadLetter.DeadLetters
      const fiber = yield* Effect.forkChild(pipeline.execute(Effect.fail(new Error("connection reset"))).pipe(
        Effect.flip,
        Effect.flatMap((error) => Effect.map(deadLetters.list, (letters) => ({ error, letters })))
      ))
      yield* TestClock.adjust("10 seconds")
      const { error, letters } = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.strictEqual(letters.length, 1)
      const letter = letters[0]!
      assert.strictEqual(letter.operation, "s3")
      assert.strictEqual(letter.attempts, 3)
      assert.strictEqual(letter.lastAttemptAt - letter.firstAttemptAt, 1500)
      assert.deepStrictEqual(letter.tags, { bucket: "reviews" })
      assert.strictEqual(letter.error._tag, "RetriesExhausted")
      assert.strictEqual(letter.error.kind, "Network")
      assert.strictEqual((yield* pipeline.stats).deadLetters, 1)
    }).pipe(Effect.provide(DeadLetter.layerMemory())))

  it.effect("hedges a slow attempt when configured", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: false, hedge: { delay: "100 millis" } }, quiet)
      let started = 0
      const call = Effect.suspend(() => {
        started++
        return started === 1 ? Effect.as(Effect.sleep("1 second"), "slow") : Effect.as(Effect.sleep("10 millis"), "fast")
      })
      const fiber = yield* Effect.forkChild(pipeline.execute(call))
      yield* TestClock.adjust("200 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "fast")
      assert.strictEqual(started, 2)
    }))

  it.effect("counts calls and publishes resilience_* metrics", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ name: "catalog", retry: { maxRetries: 2, initialDelay: 10, jitter: "none" } }, quiet)
      const { effect } = scripted([{ status: 503 }])
      const fiber = yield* Effect.forkChild(pipeline.execute(effect))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      yield* pipeline.execute(Effect.succeed(1))
      const stats = yield* pipeline.stats
      assert.strictEqual(stats.calls, 2)
      assert.strictEqual(stats.attempts, 3)
      assert.strictEqual(stats.successRate, 1)
      assert.deepStrictEqual(stats.retriesByKind, { Server: 1 })
      const text = yield* PrometheusMetrics.format()
      assert.include(text, "resilience_attempts_total{operation=\"catalog\",outcome=\"success\"} 2")
      assert.include(text, "resilience_attempts_total{operation=\"catalog\",outcome=\"failure\"} 1")
      assert.include(text, "resilience_retries_total{operation=\"catalog\",kind=\"Server\"} 1")
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("with spans on, a span per call with an event per retry", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const pipeline = yield* Resilience.make({ name: "llm", retry: { maxRetries: 2, initialDelay: 10, jitter: "none" }, spans: true }, quiet)
      const { effect } = scripted([{ status: 429 }])
      const fiber = yield* Effect.forkChild(pipeline.execute(effect).pipe(Effect.withTracer(tracer)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const span = spans.find((s) => s.name === "resilience.llm")
      assert.isDefined(span)
      assert.strictEqual(span?.attributes.get("resilience.operation"), "llm")
      assert.deepStrictEqual(span?.events.map(([name, , attributes]) => [name, attributes?.kind]), [["retry", "RateLimit"]])
    }))

  it.effect("a bad policy fails make with every bad field named", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Resilience.make({ retry: { maxRetries: -1 }, bulkhead: { maxConcurrent: 0 } } as never))
      assert.include(error.message, "at retry.maxRetries")
      assert.include(error.message, "at bulkhead.maxConcurrent")
    }))
})

describe("Resilience layers", () => {
  const Live = Resilience.layer({
    http: Policy.presets.http,
    database: { ...Policy.presets.database, circuitBreaker: { consecutiveFailures: 3 } }
  }, { options: { http: quiet, database: quiet } })

  it.effect("protect applies the named pipeline from the layer", () =>
    Effect.gen(function*() {
      const { effect, state } = scripted([{ status: 503 }, { status: 503 }])
      const fiber = yield* Effect.forkChild(effect.pipe(Resilience.protect("database")))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 3)
      assert.deepStrictEqual(state.times, [0, 100, 300]) // the database preset: 100 ms exponential
      const stats = yield* Resilience.stats("database")
      assert.strictEqual(stats.calls, 1)
      assert.strictEqual(stats.retries, 2)
    }).pipe(Effect.provide(Live)))

  it.effect("an unknown name is a typed error at the call", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.succeed(1).pipe(Resilience.protect("kafka")))
      assert.strictEqual(error._tag, "UnknownPolicy")
      assert.deepStrictEqual(error._tag === "UnknownPolicy" && error.available, ["http", "database"])
    }).pipe(Effect.provide(Live)))

  it.effect("tests swap a policy by providing a different layer", () =>
    Effect.gen(function*() {
      // Production retries 4 times; the test layer does not retry at all.
      const NoRetry = Resilience.layer({ http: { retry: false } }, { options: { http: quiet } })
      const { effect, state } = scripted([{ status: 503 }])
      const error = yield* Effect.flip(effect.pipe(Resilience.protect("http"), Effect.provide(NoRetry)))
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.strictEqual(state.calls, 1)
    }))

  it.effect("every bad field of every policy is reported at layer construction", () =>
    Effect.gen(function*() {
      const Bad = Resilience.layer({
        http: { retry: { maxRetries: -1 } },
        db: { circuitBreaker: { failureRate: { threshold: 3, window: 10 } } }
      } as never)
      const exit = yield* Effect.exit(Layer.build(Bad))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const message = error?._tag === "Fail" ? (error.error as Policy.PolicyError).message : ""
      assert.include(message, "at http.retry.maxRetries")
      assert.include(message, "at db.circuitBreaker.failureRate.threshold")
    }))

  it.effect("layerConfig reads RESILIENCE_<NAME>_<FIELD> over the presets", () =>
    Effect.gen(function*() {
      const policies = yield* Resilience.Policies
      const http = policies.getUnsafe("http")!
      assert.strictEqual(http.policy.retry !== false && http.policy.retry?.maxRetries, 5)
      assert.strictEqual(http.policy.retry !== false && http.policy.retry && Duration.toMillis(http.policy.retry.initialDelay), 250)
      assert.isDefined(http.breaker) // from the http preset
      const payments = policies.getUnsafe("payments")!
      assert.strictEqual(payments.policy.retry !== false && payments.policy.retry?.maxRetries, 1)
      assert.strictEqual(payments.policy.retry !== false && payments.policy.retry?.strategy, "exponential")
      // The budget's type follows from its fields; its other fields take their defaults.
      assert.deepStrictEqual(payments.policy.budget, { type: "ratio", ratio: 0.1, minPerSecond: 10, window: Duration.seconds(10), buckets: 10 })
      assert.strictEqual(payments.policy.deadLetters, true)
    }).pipe(Effect.provide(
      Resilience.layerConfig({ names: ["http", "payments"] }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
          env: {
            RESILIENCE_HTTP_MAX_RETRIES: "5",
            RESILIENCE_HTTP_INITIAL_DELAY: "250 millis",
            RESILIENCE_PAYMENTS_PRESET: "database",
            RESILIENCE_PAYMENTS_MAX_ATTEMPTS: "2",
            RESILIENCE_PAYMENTS_BUDGET_RATIO: "0.1",
            RESILIENCE_PAYMENTS_DEAD_LETTERS: "true"
          }
        }))),
        Layer.provide(DeadLetter.layerMemory())
      )
    )))

  it.effect("layerConfig names the variable a bad value came from", () =>
    Effect.gen(function*() {
      const layer = Resilience.layerConfig({ names: ["http"] }).pipe(
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
          env: { RESILIENCE_HTTP_MAX_RETRIES: "lots", RESILIENCE_HTTP_JITTER: "2" }
        })))
      )
      const exit = yield* Effect.exit(Layer.build(layer))
      const reason = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const message = reason?._tag === "Fail" ? String((reason.error as Error).message) : ""
      assert.include(message, "at http.retry.maxRetries: Expected number, got \"lots\" (from RESILIENCE_HTTP_MAX_RETRIES)")
      assert.include(message, "at http.retry.jitter: Expected a value between 0 and 1, got 2 (from RESILIENCE_HTTP_JITTER)")
    }))

  it.effect("layerJson reads named policies from a file, starting from presets", () =>
    Effect.gen(function*() {
      const policies = yield* Resilience.Policies
      assert.deepStrictEqual([...policies.names], ["orders", "cache"])
      const orders = policies.getUnsafe("orders")!
      assert.strictEqual(orders.policy.retry !== false && orders.policy.retry?.maxRetries, 7)
      assert.strictEqual(orders.policy.retry !== false && orders.policy.retry?.jitter, "full") // kept from the http preset
      assert.isDefined(orders.breaker)
    }).pipe(Effect.provide(Resilience.layerJson((() => {
      const file = join(mkdtempSync(join(tmpdir(), "policies-")), "resilience.json")
      writeFileSync(file, JSON.stringify({ orders: { preset: "http", retry: { maxRetries: 7 } }, cache: { preset: "cache" } }))
      return file
    })(), { options: { orders: quiet } }))))
})

describe("Resilience.toAsync", () => {
  it.live("wraps a promise function with the same signature; failures reject with typed errors", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 2, initialDelay: 1, jitter: "none" } }, quiet)
      let calls = 0
      const getUser = Resilience.toAsync(pipeline, async (id: string) => {
        calls++
        if (calls < 2) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })
        return { id }
      })
      const user = yield* Effect.promise(() => getUser("42"))
      assert.deepStrictEqual(user, { id: "42" })
      assert.strictEqual(calls, 2)
      const failing = Resilience.toAsync(pipeline, async () => {
        throw Object.assign(new Error("nope"), { status: 404 })
      })
      const rejected = yield* Effect.promise(() => failing().then(() => undefined, (e: unknown) => e))
      assert.instanceOf(rejected, Error)
      assert.strictEqual((rejected as { _tag?: string })._tag, "Permanent")
    }).pipe(Effect.scoped))

  it.live("withSignal lets the caller cancel a call in its backoff", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 5, initialDelay: "10 seconds", jitter: "none" } }, quiet)
      let calls = 0
      const call = Resilience.toAsync(pipeline, async () => {
        calls++
        throw Object.assign(new Error("busy"), { status: 503 })
      })
      const controller = new AbortController()
      const pending = call.withSignal(controller.signal)()
      yield* Effect.sleep("20 millis")
      controller.abort()
      const outcome = yield* Effect.promise(() => pending.then(() => "resolved", () => "rejected"))
      assert.strictEqual(outcome, "rejected")
      assert.strictEqual(calls, 1)
    }).pipe(Effect.scoped))

  it.live("an aborted call rejects with an AbortError carrying the reason, from both wrappers", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ retry: { maxRetries: 5, initialDelay: "10 seconds", jitter: "none" } }, quiet)
      const seen: Array<AbortSignal> = []
      const withSignal = Resilience.toAsyncWithSignal(pipeline, async (signal: AbortSignal, id: string) => {
        seen.push(signal)
        throw Object.assign(new Error(`busy ${id}`), { status: 503 })
      })
      const plain = Resilience.toAsync(pipeline, async () => {
        throw Object.assign(new Error("busy"), { status: 503 })
      })
      for (const call of [withSignal.withSignal, plain.withSignal]) {
        const controller = new AbortController()
        const reason = new Error("user navigated away")
        const pending = call(controller.signal)("42")
        yield* Effect.sleep("20 millis")
        controller.abort(reason)
        const rejected = yield* Effect.promise(() => pending.then(() => undefined, (e: unknown) => e))
        assert.instanceOf(rejected, Error)
        assert.strictEqual((rejected as Error).name, "AbortError")
        assert.strictEqual((rejected as Error).cause, reason)
      }
      assert.strictEqual(seen.length, 1)
      // Aborted in the middle of an attempt: the attempt's own signal is aborted too.
      const hanging = Resilience.toAsyncWithSignal(pipeline, (signal: AbortSignal) => {
        seen.push(signal)
        return new Promise<never>(() => {})
      })
      const controller2 = new AbortController()
      const pending2 = hanging.withSignal(controller2.signal)()
      yield* Effect.sleep("20 millis")
      controller2.abort("stop")
      const rejected2 = yield* Effect.promise(() => pending2.then(() => undefined, (e: unknown) => e))
      assert.strictEqual((rejected2 as Error).name, "AbortError")
      assert.isTrue(seen[1]!.aborted)
      seen.length = 1
      // An already aborted signal rejects at once, without a call.
      const controller = new AbortController()
      controller.abort("gone")
      const early = yield* Effect.promise(() => withSignal.withSignal(controller.signal)("1").then(() => undefined, (e: unknown) => e))
      assert.strictEqual((early as Error).name, "AbortError")
      assert.strictEqual((early as Error).cause, "gone")
      assert.strictEqual(seen.length, 1)
      // Without a signal the typed error still comes through.
      const failed = yield* Effect.promise(() => Resilience.toAsync(pipeline, async () => {
        throw Object.assign(new Error("nope"), { status: 404 })
      })().then(() => undefined, (e: unknown) => e))
      assert.strictEqual((failed as { _tag?: string })._tag, "Permanent")
    }).pipe(Effect.scoped))
})

describe("Resilience: server hints and the total timeout", () => {
  it.effect("a hint that would outlast the pipeline's total timeout ends the retries at once", () =>
    Effect.gen(function*() {
      const pipeline = yield* Resilience.make({ timeout: "10 seconds", retry: { maxRetries: 5, initialDelay: 10, jitter: "none" } }, quiet)
      let calls = 0
      const call = Effect.suspend(() => {
        calls++
        return Effect.fail({ status: 429, headers: { "retry-after": "30" } })
      })
      const error = yield* Effect.flip(pipeline.execute(call))
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "retryAfter")
      assert.strictEqual(error._tag === "RetriesExhausted" && Duration.toMillis(error.retryAfter!), 30_000)
      assert.strictEqual(calls, 1)
      // A hint that fits is waited for.
      let tries = 0
      const fits = Effect.suspend(() => ++tries < 2 ? Effect.fail({ status: 429, headers: { "retry-after": "3" } }) : Effect.succeed("ok"))
      const fiber = yield* Effect.forkChild(pipeline.execute(fits))
      yield* TestClock.adjust("2999 millis")
      assert.strictEqual(tries, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }).pipe(Effect.scoped))
})

describe("Resilience.wrap", () => {
  // Zero delays: the retries run at once, no real sleeping.
  const fast = { retry: { maxRetries: 3, initialDelay: 0, maxDelay: 0, jitter: "none" } } as const

  it("wraps an async function in one call; its name is the operation", async () => {
    let calls = 0
    async function getUser(id: string) {
      calls++
      if (calls < 3) throw Object.assign(new Error("unavailable"), { status: 503 })
      return { id }
    }
    const wrapped = Resilience.wrap(fast, getUser, { log: false })
    assert.deepStrictEqual(await wrapped("42"), { id: "42" })
    const stats = await wrapped.stats()
    assert.strictEqual(stats.operation, "getUser")
    assert.deepStrictEqual([stats.calls, stats.retries, stats.recovered, calls], [1, 2, 1, 3])
    await wrapped.dispose()
  })

  it("options.name wins over the function's name; an anonymous function takes the policy's name", async () => {
    const named = Resilience.wrap(fast, async function load() { return 1 }, { name: "loader", log: false })
    const anonymous = Resilience.wrap({ ...fast, name: "fromPolicy" }, (() => async () => 1)(), { log: false })
    assert.strictEqual((await named.stats()).operation, "loader")
    assert.strictEqual((await anonymous.stats()).operation, "fromPolicy")
    await named.dispose()
    await anonymous.dispose()
  })

  it("rejects with the pipeline's typed errors", async () => {
    const wrapped = Resilience.wrap(fast, async () => {
      throw Object.assign(new Error("forbidden"), { status: 403 })
    }, { log: false })
    const error = await wrapped().then(() => undefined, (e: unknown) => e)
    assert.strictEqual((error as { _tag?: string })._tag, "Permanent")
    await wrapped.dispose()
  })

  it("an open circuit's rejections are the caller's own errors: writable, distinct, the same fields", async () => {
    // Inside Effect an open circuit hands out one frozen error per millisecond; a promise caller's
    // framework may write to an error (err.status = 503), which must not throw.
    const policy = { ...fast, retry: { ...fast.retry, maxRetries: 0 }, circuitBreaker: { consecutiveFailures: 1, openFor: "1 hour" } } as const
    const wrapped = Resilience.wrap(policy, async () => {
      throw Object.assign(new Error("unavailable"), { status: 503 })
    }, { log: false })
    await wrapped().then(() => undefined, (e: unknown) => e) // opens the circuit
    const [first, second] = await Promise.all([0, 1].map(() => wrapped().then(() => undefined, (e: unknown) => e))) as Array<Failure.Permanent<CircuitBreaker.BreakerOpen>>
    Object.assign(first!, { status: 503 })
    assert.isUndefined((second as unknown as { status?: number }).status, "one caller's write is not another's")
    for (const error of [first!, second!]) {
      assert.isTrue(Failure.isPermanent(error))
      assert.strictEqual(error.kind, "CircuitOpen")
      assert.instanceOf(error.error, CircuitBreaker.BreakerOpen)
      assert.isFalse(Object.isFrozen(error))
      assert.isFalse(Object.isFrozen(error.error))
      assert.doesNotThrow(() => Object.assign(error, { status: 503, headerSent: true }))
      assert.doesNotThrow(() => Object.assign(error.error, { expose: false }))
    }
    assert.notStrictEqual(first, second)
    assert.notStrictEqual(first!.error, second!.error)
    assert.strictEqual(first!.error.name, second!.error.name)
    await wrapped.dispose()
  })

  it("is disposable: later calls reject with Disposed, and asyncDispose is the same", async () => {
    const wrapped = Resilience.wrap(fast, async () => 1, { log: false })
    assert.strictEqual(await wrapped(), 1)
    await wrapped[Symbol.asyncDispose]()
    const error = await wrapped().then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Resilience.Disposed)
    await wrapped.dispose() // twice is fine
  })

  it("a bad policy never throws at wrap: calls reject with the PolicyError", async () => {
    const wrapped = Resilience.wrap({ retry: { maxRetries: -1 } }, async () => 1)
    const error = await wrapped().then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Policy.PolicyError)
    assert.include((error as Policy.PolicyError).message, "retry.maxRetries")
    await wrapped.dispose()
  })

  it("dead letters need a store: without one calls reject saying so, with one letters land in it", async () => {
    const failing = async function upload() {
      throw Object.assign(new Error("bad request"), { status: 400 })
    }
    const without = Resilience.wrap({ ...fast, deadLetters: true }, failing)
    const error = await without().then(() => undefined, (e: unknown) => e)
    assert.include((error as Error).message, "no DeadLetter.DeadLetters service")
    const store = Effect.runSync(DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerMemory())))
    const withStore = Resilience.wrap({ ...fast, deadLetters: true }, failing, { deadLetters: store, log: false })
    await withStore().catch(() => undefined)
    const letters = Effect.runSync(store.list)
    assert.strictEqual(letters.length, 1)
    assert.strictEqual(letters[0]!.operation, "upload")
    await without.dispose()
    await withStore.dispose()
  })

  it("withSignal: an aborted call rejects with an AbortError", async () => {
    // A call that never settles by itself: only the abort ends it.
    const wrapped = Resilience.wrap(fast, (_id: string) => new Promise<number>(() => {}), { log: false })
    const controller = new AbortController()
    const pending = wrapped.withSignal(controller.signal)("42")
    controller.abort(new Error("user left"))
    const error = await pending.then(() => undefined, (e: unknown) => e)
    assert.strictEqual((error as Error).name, "AbortError")
    await wrapped.dispose()
  })
})
