// Shutting down while Redis is paused (SIGSTOP): node-redis' own close waits for the replies of
// commands in flight, so a scope holding the connection used to hang until Redis resumed.
// `NodeConnection.layer` must close whatever Redis does: the scope holding the connection, a
// near-cache breaker store (its subscription, a flush on its way), a retry budget giving back
// its lease and a command in flight all close while Redis stays paused, and once it resumes no
// connection of ours is left. The test only asserts that closing returns (vitest's time limit
// catches a hang), never how fast. With Redis answering, the close stays graceful.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import { Redis } from "effect/persistence"
import { inject } from "vitest"
import { CircuitBreaker, Failure } from "../../src/index.ts"
import { CircuitBreakerStore, RetryBudgetStore } from "../../src/redis/index.ts"
import * as NodeConnection from "../../src/redis/NodeConnection.ts"
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

/** The clients connected to the server, from a connection of its own (counted too). */
const clients = (port: number) =>
  Effect.gen(function*() {
    const list = yield* (yield* Redis.Redis).send<string>("CLIENT", "LIST")
    return list.split("\n").filter((line) => line.trim() !== "").length
  }).pipe(Effect.scoped, Effect.provide(redisLayer(port)), Effect.orDie)

describe("NodeConnection: closing never waits for a paused Redis", () => {
  it("the scope holding the connection, a near-cache store, a budget and a command in flight close while Redis is paused", async () => {
    const s = await startServer({ bin: inject("redisBin"), port: await freePort() })
    servers.push(s)
    const prefix = uniquePrefix("shutdown")
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.build(
        CircuitBreakerStore.layer({ prefix, storeTimeout: "200 millis", heartbeat: "1 minute" }).pipe(
          Layer.provideMerge(NodeConnection.layer({ url: `redis://127.0.0.1:${s.port}`, closeTimeout: "300 millis" }))
        )
      ).pipe(Scope.provide(scope))
      const breaker = yield* CircuitBreaker.make({ name: "z", trip: CircuitBreaker.consecutive(3), log: false }).pipe(
        Effect.provide(context),
        Scope.provide(scope)
      )
      const budget = yield* RetryBudgetStore.tokenBucket({ name: "b", prefix, storeTimeout: "200 millis", flushEvery: "1 hour" }).pipe(
        Effect.provide(context),
        Scope.provide(scope)
      )
      yield* breaker.execute(Effect.succeed("learn"))
      const leased = yield* budget.tryAcquire(Failure.transient(new Error("503"), { kind: "Server" }))
      // Ours: the command connection and the subscription (and the one `clients` opens).
      const before = yield* clients(s.port)
      s.process.kill("SIGSTOP")
      // A command whose reply cannot come: node-redis' close would wait for it.
      const inFlight = yield* Effect.forkDetach(Effect.provideContext(Effect.flatMap(Effect.service(Redis.Redis), (r) => r.send("GET", "x")), context))
      yield* Effect.flip(breaker.execute(Effect.fail("e1"))) // its flush is left to the ticker
      yield* Scope.close(scope, Exit.void)
      s.process.kill("SIGCONT")
      const gone = yield* waitFor(() => Effect.map(clients(s.port), (n) => n === 1), 20_000)
      const failed = Exit.isFailure(yield* Fiber.await(inFlight))
      return { leased, before, gone, failed }
    }))
    assert.isTrue(outcome.leased)
    assert.strictEqual(outcome.before, 3)
    assert.isTrue(outcome.gone, "every connection the stores and the layer opened is closed")
    assert.isTrue(outcome.failed, "the command in flight failed instead of holding the close")
  }, 60_000)

  it("Redis answering: the close is graceful, a command in flight gets its reply", async () => {
    const port = inject("redisPort")
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.build(NodeConnection.layer({ url: `redis://127.0.0.1:${port}`, closeTimeout: "20 seconds" })).pipe(Scope.provide(scope))
      // A blocking command (a quarter second) still waiting when the scope closes.
      const inFlight = yield* Effect.forkDetach(
        Effect.provideContext(Effect.flatMap(Effect.service(Redis.Redis), (r) => r.send("BLPOP", uniquePrefix("nothing"), "0.25")), context),
        { startImmediately: true }
      )
      yield* Scope.close(scope, Exit.void)
      return yield* Fiber.await(inFlight)
    }))
    assert.isTrue(Exit.isSuccess(outcome), String(outcome))
    assert.deepStrictEqual(Exit.isSuccess(outcome) ? outcome.value : undefined, null, "BLPOP timed out normally: nothing was destroyed")
  }, 60_000)

  it("a bad closeTimeout is a PolicyError naming it", async () => {
    const error = await Effect.runPromise(Effect.flip(Layer.build(NodeConnection.layer({ closeTimeout: "soon" } as unknown as NodeConnection.Options)).pipe(Effect.scoped)))
    assert.strictEqual(error._tag, "PolicyError")
    assert.include(String((error as { readonly message: string }).message), "closeTimeout")
  })
})
