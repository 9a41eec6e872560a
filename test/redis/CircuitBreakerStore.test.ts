// The Redis breaker store under a paused server: an admission that got no reply in time must not
// take effect later as if it had been granted (a late probe lease would lock the fleet out).
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { inject } from "vitest"
import { CircuitBreaker } from "../../src/index.ts"
import { CircuitBreakerStore } from "../../src/redis/index.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { freePort, type Server, startServer } from "./server.ts"

const servers: Array<Server> = []
afterAll(async () => {
  for (const server of servers) {
    server.process.kill("SIGCONT")
    await server.stop()
  }
})

describe("Redis breaker store: fenced admissions", () => {
  it("Redis paused (SIGSTOP) while half-open: the timed-out admission does not hold the probe lease", async () => {
    const server = await startServer({ bin: inject("redisBin"), port: await freePort() })
    servers.push(server)
    const prefix = uniquePrefix("paused")
    const options: CircuitBreaker.Options = {
      name: "paused",
      trip: CircuitBreaker.consecutive(1),
      openFor: "300 millis",
      halfOpen: { probes: 1 },
      log: false
    }
    // Two processes: each its own store and connection.
    const process = () =>
      Layer.build(CircuitBreakerStore.layer({ prefix, storeTimeout: "100 millis", retryStoreAfter: "50 millis", probeLease: "30 seconds" }).pipe(
        Layer.provideMerge(redisLayer(server.port))
      ))
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const here = yield* CircuitBreaker.make(options).pipe(Effect.provide(yield* process()))
      const there = yield* CircuitBreaker.make(options).pipe(Effect.provide(yield* process()))
      yield* Effect.flip(here.execute(Effect.fail("down")))
      const opened = (yield* CircuitBreakerStore.read("paused", { prefix })).tag
      yield* Effect.sleep("400 millis") // the open period is over: the next admission is the probe
      server.process.kill("SIGSTOP")
      // No reply within storeTimeout: this process fails open on its own circuit.
      const during = yield* here.execute(Effect.succeed("local"))
      yield* Effect.sleep("200 millis")
      server.process.kill("SIGCONT")
      yield* Effect.sleep("300 millis") // Redis applies the late admission, then its release
      const probe = yield* Effect.result(there.execute(Effect.succeed("probe")))
      const after = (yield* CircuitBreakerStore.read("paused", { prefix })).tag
      return { opened, during, probe, after }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(server.port))))
    assert.strictEqual(outcome.opened, "Open")
    assert.strictEqual(outcome.during, "local")
    assert.isTrue(outcome.probe._tag === "Success" && outcome.probe.success === "probe", `the fleet was locked out by a late lease: ${JSON.stringify(outcome.probe)}`)
    assert.strictEqual(outcome.after, "Closed")
  }, 30_000)
})
