// The near-cache Redis breaker store (the default): closed calls cost no round trip, outcomes are
// flushed on the store's ticker only when there is something to say (a possible trip at once, by
// the failing call), every process learns a transition through the script's publication (or, with
// the subscription down, by polling on the next tick), and isolate / reset reach the fleet.
// Time-driven behaviour runs under the TestClock: the tests count flush intervals (clock
// adjustments), and wait only for IO, so a loaded machine changes how long they take, not what
// they assert.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { Redis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { CircuitBreaker, Pipeline } from "../../src/index.ts"
import { CircuitBreakerStore } from "../../src/redis/index.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { type Counts, countingRedis, deafRedis, waitFor } from "./support.ts"

const FLUSH = 20

/** One "process": its own connections (commands and subscription), store and breaker. */
const processWith = (prefix: string, options: CircuitBreaker.Options, redis: Layer.Layer<Redis.Redis, unknown, never>, store: CircuitBreakerStore.Options = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(CircuitBreakerStore.layer({ prefix, flushInterval: FLUSH, storeTimeout: "20 seconds", ...store }).pipe(Layer.provideMerge(redis)))
    return yield* CircuitBreaker.make(options).pipe(Effect.provide(context))
  })

const rejects = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.map(Effect.result(breaker.execute(Effect.succeed("through"))), (r) => r._tag === "Failure" && r.failure._tag === "BreakerOpen")

const stored = (name: string, prefix: string) => CircuitBreakerStore.read(name, { prefix }).pipe(Effect.provide(redisLayer()), Effect.orDie)

describe("near-cache Redis breaker store", () => {
  it.effect("closed successes make no round trip; failures are flushed on the tick, a possible trip by the failing call", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("near")
      const counts: Counts = { evals: 0, sends: 0 }
      const breaker = yield* processWith(prefix, { name: "api", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }, countingRedis(counts))
      // The first call learns the shared state (one script call), then every closed call is local.
      assert.strictEqual(yield* breaker.execute(Effect.succeed(0)), 0)
      assert.strictEqual(counts.evals, 1)
      for (let i = 0; i < 1000; i++) yield* breaker.execute(Effect.succeed(i))
      assert.strictEqual(counts.evals, 1, "1000 successful closed calls: no script call")
      // One failure cannot trip consecutive(3) from 0: it waits for the next tick.
      yield* Effect.flip(breaker.execute(Effect.fail("e1")))
      assert.strictEqual(counts.evals, 1)
      assert.match((yield* stored("api", prefix)).raw ?? "", /^C \S+ \d+ 0 0 0 /)
      yield* TestClock.adjust(FLUSH)
      assert.isTrue(yield* waitFor(() => counts.evals === 2))
      assert.match((yield* stored("api", prefix)).raw ?? "", /^C \S+ \d+ 0 0 1 /, "the flush counted the failure")
      // Nothing new to say: the next ticks send nothing.
      yield* TestClock.adjust(FLUSH * 5)
      assert.strictEqual(counts.evals, 2)
      // Shared 1 + 2 local failures reach 3: the second failing call flushes before it returns.
      yield* Effect.flip(breaker.execute(Effect.fail("e2")))
      assert.strictEqual(counts.evals, 2)
      yield* Effect.flip(breaker.execute(Effect.fail("e3")))
      assert.strictEqual(counts.evals, 3)
      assert.strictEqual((yield* stored("api", prefix)).tag, "Open")
      // Open: rejected here, no round trip, with the time left.
      const rejected = yield* Effect.flip(breaker.execute(Effect.succeed(1)))
      assert.isTrue(rejected._tag === "BreakerOpen" && rejected.retryAfter !== undefined)
      assert.strictEqual(counts.evals, 3)
      const stats = yield* breaker.stats // a read is a script call
      assert.strictEqual(stats.state, "Open")
      assert.strictEqual(stats.rejections, 1)
    }).pipe(Effect.scoped), 30_000)

  it.effect("a failure that could trip while the ticker's flush is on its way waits for it, then flushes: the next call is rejected", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("race")
      const counts: Counts = { evals: 0, sends: 0 }
      const breaker = yield* processWith(prefix, { name: "api", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }, countingRedis(counts))
      yield* breaker.execute(Effect.succeed("learn"))
      yield* Effect.flip(breaker.execute(Effect.fail("e1")))
      yield* Effect.flip(breaker.execute(Effect.fail("e2")))
      // The tick sends the two failures; its reply cannot be here before the next line runs.
      yield* TestClock.adjust(FLUSH)
      assert.strictEqual(counts.evals, 2, "the ticker's flush is on its way")
      yield* Effect.flip(breaker.execute(Effect.fail("e3")))
      assert.strictEqual(counts.evals, 3, "then the failing call's own flush")
      assert.strictEqual((yield* stored("api", prefix)).tag, "Open")
      assert.isTrue(yield* rejects(breaker))
    }).pipe(Effect.scoped), 30_000)

  it.effect("four processes: an opening caused by three of them reaches all four within one flush interval", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("fleet")
      const options: CircuitBreaker.Options = { name: "db", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }
      const counts = [0, 1, 2, 3].map((): Counts => ({ evals: 0, sends: 0 }))
      const fleet = yield* Effect.forEach(counts, (c) => processWith(prefix, options, countingRedis(c)))
      for (const b of fleet) yield* b.execute(Effect.succeed("learn"))
      // One failure in each of three processes: none can trip alone (0 + 1 < 3), so none flushes yet.
      for (const b of fleet.slice(0, 3)) yield* Effect.flip(b.execute(Effect.fail("down")))
      assert.strictEqual((yield* stored("db", prefix)).tag, "Closed")
      assert.deepStrictEqual(counts.map((c) => c.evals), [1, 1, 1, 1])
      // One flush interval: each of the three flushes once; the third merge trips the shared
      // circuit and the script publishes it. No second tick is needed by anyone.
      yield* TestClock.adjust(FLUSH)
      // Waiting on local rejections only (a call let in meanwhile is local too): no script call.
      const all = yield* waitFor(() => Effect.map(Effect.forEach(fleet, rejects), (r) => r.every(Boolean)))
      assert.isTrue(all, "every process rejects without a second tick")
      assert.strictEqual((yield* stored("db", prefix)).tag, "Open")
      // The learning call of each, one flush each from the failing three, nothing else.
      assert.deepStrictEqual(counts.map((c) => c.evals), [2, 2, 2, 1])
    }).pipe(Effect.scoped), 30_000)

  it.effect("a pipeline's fast rejection publishes the opening its replica learned from the fleet", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("news")
      const options: CircuitBreaker.Options = { name: "llm", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }
      const tripper = yield* processWith(prefix, options, redisLayer())
      const watcher = yield* processWith(prefix, options, redisLayer())
      for (const b of [tripper, watcher]) yield* b.execute(Effect.succeed("learn"))
      const seen: Array<CircuitBreaker.Transition> = []
      yield* Effect.forkChild(Stream.runForEach(watcher.changes, (t) => Effect.sync(() => seen.push(t))))
      // Three failures in one process: the third trips the shared circuit at once and it is published.
      for (let i = 0; i < 3; i++) yield* Effect.flip(tripper.execute(Effect.fail("down")))
      // The watcher's calls go through a pipeline's fused frame: admitted locally until the
      // publication arrives, then rejected there, without the breaker's own frame.
      const fused = Effect.succeed("ok").pipe(Pipeline.retryThroughBreaker(watcher, { maxRetries: 1, log: false }))
      const rejected = yield* waitFor(() => Effect.map(Effect.result(fused), (r) => r._tag === "Failure"))
      assert.isTrue(rejected, "the watcher learns the opening")
      // The transition it learned is published with that rejection, not dropped.
      assert.isTrue(yield* waitFor(() => seen.length > 0, 5_000), "the learned opening reaches watcher.changes")
      assert.deepStrictEqual(seen.map((t) => [t.from, t.to]), [["Closed", "Open"]])
    }).pipe(Effect.scoped), 30_000)

  it.effect("consecutive failures: a success in another process clears them, as in strict mode", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("clear")
      const options: CircuitBreaker.Options = { name: "q", trip: CircuitBreaker.consecutive(3), openFor: "10 seconds", log: false }
      const a = yield* processWith(prefix, options, redisLayer())
      const b = yield* processWith(prefix, options, redisLayer())
      yield* a.execute(Effect.succeed("learn"))
      yield* b.execute(Effect.succeed("learn"))
      yield* Effect.flip(a.execute(Effect.fail("e1")))
      yield* TestClock.adjust(FLUSH)
      assert.isTrue(yield* waitFor(() => Effect.map(stored("q", prefix), (s) => /^C \S+ \d+ 0 0 1 /.test(s.raw ?? ""))))
      // The script announced that the circuit started counting: b's successes are sent from then on.
      const cleared = yield* waitFor(() =>
        Effect.gen(function*() {
          yield* b.execute(Effect.succeed("ok"))
          yield* TestClock.adjust(FLUSH)
          return /^C \S+ \d+ 0 0 0 /.test((yield* stored("q", prefix)).raw ?? "")
        }).pipe(Effect.orDie))
      assert.isTrue(cleared, "b's success reached Redis and cleared the failure")
      // F (a), S (b), F, F (a): three failures, not consecutive: still closed, as in strict mode.
      yield* Effect.flip(a.execute(Effect.fail("e2")))
      yield* Effect.flip(a.execute(Effect.fail("e3")))
      yield* TestClock.adjust(FLUSH)
      assert.isTrue(yield* waitFor(() => Effect.map(stored("q", prefix), (s) => /^C \S+ \d+ 0 0 2 /.test(s.raw ?? ""))))
      assert.strictEqual(yield* a.execute(Effect.succeed("still closed")), "still closed")
    }).pipe(Effect.scoped), 30_000)

  it.effect("subscription down: a replica polls every flush interval and rejects after the next tick", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("deaf")
      const options: CircuitBreaker.Options = { name: "svc", trip: CircuitBreaker.consecutive(1), openFor: "10 seconds", log: false }
      const deaf = yield* processWith(prefix, options, deafRedis())
      const other = yield* processWith(prefix, options, redisLayer())
      yield* deaf.execute(Effect.succeed("learn"))
      yield* Effect.flip(other.execute(Effect.fail("down"))) // trips the shared circuit (flushed by the call)
      assert.strictEqual((yield* stored("svc", prefix)).tag, "Open")
      // No message reaches the deaf process: until its next tick it still admits.
      assert.strictEqual(yield* deaf.execute(Effect.succeed("stale")), "stale")
      yield* TestClock.adjust(FLUSH)
      assert.isTrue(yield* waitFor(() => rejects(deaf)), "the poll on the next tick saw the opening")
    }).pipe(Effect.scoped), 30_000)

  it.effect("isolate and reset reach every process through the publication", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("manual")
      const options: CircuitBreaker.Options = { name: "pay", log: false }
      const a = yield* processWith(prefix, options, redisLayer())
      const b = yield* processWith(prefix, options, redisLayer())
      yield* a.execute(Effect.succeed(1))
      yield* b.execute(Effect.succeed(1))
      yield* a.isolate
      assert.isTrue(yield* rejects(a))
      assert.isTrue(yield* waitFor(() => rejects(b)), "b learned the isolation")
      yield* b.reset
      assert.isTrue(yield* waitFor(() => Effect.map(rejects(a), (r) => !r)), "a learned the reset")
      // No clock movement was needed: the changes travelled by publication only.
    }).pipe(Effect.scoped), 30_000)

  it.effect("keyed circuits: a replica evicted and made again asks Redis first, so it sees an opening made meanwhile", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix("keyed")
      const context = yield* Layer.build(CircuitBreakerStore.layer({ prefix, flushInterval: FLUSH, storeTimeout: "20 seconds" }).pipe(Layer.provideMerge(redisLayer())))
      const keyed = yield* CircuitBreaker.keyed({ name: "host", maxCircuits: 1, trip: CircuitBreaker.consecutive(1), openFor: "10 seconds", log: false }).pipe(
        Effect.provide(context)
      )
      assert.strictEqual(yield* keyed.execute("a", Effect.succeed("a")), "a")
      assert.strictEqual(yield* keyed.execute("b", Effect.succeed("b")), "b") // at the cap: "a" (closed, quiet) makes room
      assert.strictEqual(yield* keyed.size, 1)
      const other = yield* processWith(prefix, { name: "host/a", trip: CircuitBreaker.consecutive(1), openFor: "10 seconds", log: false }, redisLayer())
      yield* other.execute(Effect.succeed("learn"))
      yield* Effect.flip(other.execute(Effect.fail("down")))
      const again = yield* Effect.flip(keyed.execute("a", Effect.succeed("a")))
      assert.strictEqual(again._tag, "BreakerOpen")
    }).pipe(Effect.scoped), 30_000)

  it.effect("options: strict decoding names every bad path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(CircuitBreakerStore.make({
        consistency: "eventual" as "strict",
        flushInterval: "soon" as "1 second",
        heartbeat: -1
      })).pipe(Effect.scoped, Effect.provide(redisLayer()))
      for (const path of ["consistency", "flushInterval", "heartbeat"]) assert.include(error.message, path)
    }))
})
