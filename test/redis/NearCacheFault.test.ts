// The near-cache store against a misbehaving Redis, each test on its own redis-server: paused
// (SIGSTOP) with a flush in flight and its caller interrupted, the subscription killed (CLIENT KILL
// TYPE pubsub) just before a transition is published, and Redis stopped and restarted (fail open /
// closed, one log line per outage, recovery by itself). Assertions are about outcomes; waits are
// bounded conditions, never durations.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Logger, Scope } from "effect"
import { Redis } from "effect/persistence"
import { inject } from "vitest"
import { CircuitBreaker } from "../../src/index.ts"
import { CircuitBreakerStore } from "../../src/redis/index.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { freePort, type Server, startServer } from "./server.ts"
import { waitFor } from "./support.ts"

const servers: Array<Server> = []
afterAll(async () => {
  for (const server of servers) {
    server.process.kill("SIGCONT")
    await server.stop()
  }
})
const server = async () => {
  const s = await startServer({ bin: inject("redisBin"), port: await freePort() })
  servers.push(s)
  return s
}

/** One process: its own connections, a near-cache store and a breaker. */
const breakerOn = (port: number, prefix: string, options: CircuitBreaker.Options, store: CircuitBreakerStore.Options) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(CircuitBreakerStore.layer({ prefix, flushInterval: "20 millis", ...store }).pipe(Layer.provideMerge(redisLayer(port))))
    return yield* CircuitBreaker.make({ log: false, ...options }).pipe(Effect.provide(context))
  })

const rejects = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.map(Effect.result(breaker.execute(Effect.succeed("through"))), (r) => r._tag === "Failure" && r.failure._tag === "BreakerOpen")

const capture = (lines: Array<string>) =>
  Logger.layer([Logger.make((o) => {
    lines.push(`${o.logLevel}|${Array.isArray(o.message) ? String(o.message[0]) : String(o.message)}`)
  })])

describe("near-cache store: faults", () => {
  it("Redis paused: closed calls never wait, a flush gives up after storeTimeout and counts locally, an interrupted caller still settles", async () => {
    const s = await server()
    const prefix = uniquePrefix("paused")
    const store = { storeTimeout: "100 millis", retryStoreAfter: "50 millis", heartbeat: "1 minute" } as const
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const a = yield* breakerOn(s.port, prefix, { name: "a", trip: CircuitBreaker.consecutive(1), openFor: "1 minute" }, store)
      const b = yield* breakerOn(s.port, prefix, { name: "b", trip: CircuitBreaker.consecutive(1), openFor: "1 minute" }, store)
      const c = yield* breakerOn(s.port, prefix, { name: "c", trip: CircuitBreaker.consecutive(1), openFor: "1 minute" }, store)
      for (const x of [a, b, c]) yield* x.execute(Effect.succeed("learn"))
      s.process.kill("SIGSTOP")
      // Closed successes do not touch Redis at all.
      const during = yield* Effect.forEach([1, 2, 3, 4, 5], (i) => a.execute(Effect.succeed(i)))
      // A failure that trips consecutive(1) must be shared now: the flush finds no reply within
      // storeTimeout, the call returns its own error and this process's circuit counted it.
      const failed = yield* Effect.flip(a.execute(Effect.fail("down"))).pipe(Effect.timeout("10 seconds"))
      const after = yield* rejects(a)
      // A caller interrupted while its flush waits on the paused server: the flush runs to its
      // timeout in the call's exit handler (uninterruptible), then the interruption completes.
      const fiber = yield* Effect.forkChild(b.execute(Effect.fail("down")), { startImmediately: true })
      const interrupted = yield* Fiber.interrupt(fiber).pipe(Effect.timeout("10 seconds"), Effect.as(true))
      s.process.kill("SIGCONT")
      // Back by itself: a new failure on `c` reaches Redis again and trips the shared circuit.
      const back = yield* waitFor(() =>
        Effect.gen(function*() {
          yield* Effect.result(c.execute(Effect.fail("again")))
          return (yield* CircuitBreakerStore.read("c", { prefix }).pipe(Effect.orDie)).tag === "Open"
        }).pipe(Effect.provide(redisLayer(s.port)), Effect.orDie))
      return { during, failed, after, interrupted, back }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(s.port))))
    assert.deepStrictEqual(outcome.during, [1, 2, 3, 4, 5])
    assert.strictEqual(outcome.failed, "down")
    assert.isTrue(outcome.after, "the local circuit counted the failure while Redis was paused")
    assert.isTrue(outcome.interrupted)
    assert.isTrue(outcome.back, "the store recovered by itself")
  }, 60_000)

  it("the store's scope closed while its ticker's flush waits on a paused Redis: the close returns, the shared state stays whole", async () => {
    const s = await server()
    const prefix = uniquePrefix("closing")
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      // The connection outlives the store (closing a node-redis client waits for its replies).
      const redis = yield* Layer.build(redisLayer(s.port))
      const scope = yield* Scope.make()
      const breaker = yield* Effect.gen(function*() {
        const store = yield* Layer.build(CircuitBreakerStore.layer({ prefix, flushInterval: "20 millis", storeTimeout: "30 seconds", heartbeat: "1 minute" }))
        return yield* CircuitBreaker.make({ name: "z", trip: CircuitBreaker.consecutive(3), log: false }).pipe(Effect.provide(store))
      }).pipe(Effect.provide(redis), Scope.provide(scope))
      yield* breaker.execute(Effect.succeed("learn"))
      s.process.kill("SIGSTOP")
      yield* Effect.flip(breaker.execute(Effect.fail("e1"))) // cannot trip alone: left to the ticker
      yield* Effect.sleep("100 millis") // several ticks: the flush is on its way to the paused server
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("10 seconds"), Effect.as(true))
      s.process.kill("SIGCONT")
      const after = yield* CircuitBreakerStore.read("z", { prefix }).pipe(Effect.orDie)
      return { closed, after }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(s.port))))
    assert.isTrue(outcome.closed, "closing did not wait for the paused server")
    // The interrupted flush was sent: Redis applied it once when it resumed, or not at all.
    assert.strictEqual(outcome.after.tag, "Closed")
    assert.match(outcome.after.raw ?? "", /^C \S+ \d+ 0 0 [01] /)
  }, 60_000)

  it("subscription killed (CLIENT KILL TYPE pubsub) as the circuit opens: the heartbeat finds it and the replica catches up", async () => {
    const s = await server()
    const prefix = uniquePrefix("killed")
    const options: CircuitBreaker.Options = { name: "k", trip: CircuitBreaker.consecutive(1), openFor: "1 minute" }
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const here = yield* breakerOn(s.port, prefix, options, { heartbeat: "100 millis", storeTimeout: "5 seconds" })
      const there = yield* breakerOn(s.port, prefix, options, { heartbeat: "100 millis", storeTimeout: "5 seconds" })
      yield* here.execute(Effect.succeed("learn"))
      yield* there.execute(Effect.succeed("learn"))
      const redis = yield* Redis.Redis
      const killed = yield* redis.send<number>("CLIENT", "KILL", "TYPE", "pubsub")
      // Published while every subscriber is reconnecting: `here` cannot receive it.
      yield* Effect.flip(there.execute(Effect.fail("down")))
      const open = (yield* CircuitBreakerStore.read("k", { prefix }).pipe(Effect.orDie)).tag
      // `here` makes only local calls meanwhile: only the heartbeat and the polls can teach it.
      const learned = yield* waitFor(() => rejects(here))
      yield* there.reset
      const reset = yield* waitFor(() => Effect.map(rejects(here), (r) => !r))
      return { killed, open, learned, reset }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(s.port))))
    assert.isAtLeast(outcome.killed, 2)
    assert.strictEqual(outcome.open, "Open")
    assert.isTrue(outcome.learned, "the replica learned the opening it missed")
    assert.isTrue(outcome.reset, "and the reset after the subscription came back")
  }, 60_000)

  it("Redis stopped: fail open or closed once the heartbeat finds it down, one log line per outage, recovery by itself", async () => {
    let s = await server()
    const port = s.port
    const prefix = uniquePrefix("outage")
    const lines: Array<string> = []
    const store = { heartbeat: "50 millis", storeTimeout: "200 millis", retryStoreAfter: "100 millis" } as const
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const open = yield* breakerOn(port, prefix, { name: "open", trip: CircuitBreaker.consecutive(3) }, { ...store, onStoreError: "allow" })
      const closed = yield* breakerOn(port, prefix, { name: "closed" }, { ...store, onStoreError: "reject" })
      yield* open.execute(Effect.succeed("learn"))
      yield* closed.execute(Effect.succeed("learn"))
      yield* Effect.promise(() => s.stop())
      const failedClosed = yield* waitFor(() => rejects(closed))
      const during = yield* Effect.forEach([1, 2, 3], (i) => Effect.result(open.execute(Effect.succeed(i))))
      for (let i = 0; i < 3; i++) yield* Effect.result(open.execute(Effect.fail("down")))
      const localTrip = yield* rejects(open)
      yield* Effect.promise(async () => {
        s = await startServer({ bin: inject("redisBin"), port })
        servers.push(s)
      })
      const recovered = yield* waitFor(() => Effect.map(rejects(closed), (r) => !r), 30_000)
      return { failedClosed, during, localTrip, recovered }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(port)), Effect.provide(capture(lines))))
    assert.isTrue(outcome.failedClosed, "reject: calls rejected once the store is found down")
    assert.isTrue(outcome.during.every((r) => r._tag === "Success"), "allow: calls go through")
    assert.isTrue(outcome.localTrip, "allow: this process's circuit counts and trips")
    assert.isTrue(outcome.recovered)
    const warnings = lines.filter((l) => l.startsWith("Warn|Redis breaker"))
    assert.strictEqual(warnings.filter((l) => l.includes("breaker closed")).length, 1, warnings.join("\n"))
    assert.strictEqual(warnings.filter((l) => l.includes("breaker open")).length, 1, warnings.join("\n"))
    assert.isTrue(lines.some((l) => l.startsWith("Info|Redis breaker closed: store available again")), lines.join("\n"))
  }, 90_000)
})
