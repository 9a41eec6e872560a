// The shared retry budget when a process or a reply goes missing: the leases of OS processes
// killed with SIGKILL one after another (a crash loop; no finalizer runs) come back by themselves
// once they expire on Redis time, exactly what they held; and refunds, returned leases and a
// lease granted while Redis was paused (SIGSTOP, no reply in time) are applied exactly once when
// Redis resumes, however many flushes were sent meanwhile. Waits are bounded conditions on Redis state, never durations.
import { afterAll, afterEach, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Scope } from "effect"
import { Redis } from "effect/persistence"
import { inject } from "vitest"
import { Failure } from "../../src/index.ts"
import * as B from "../../src/internal/redis/budgetScript.ts"
import { RetryBudgetStore } from "../../src/redis/index.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { freePort, type Server, startServer } from "./server.ts"
import { type Counts, countingRedis, waitFor } from "./support.ts"
import { killAll, startWorker } from "./workers.ts"

afterEach(killAll)
const servers: Array<Server> = []
afterAll(async () => {
  for (const server of servers) {
    server.process.kill("SIGCONT")
    await server.stop()
  }
})

const failure = Failure.transient(new Error("503"), { kind: "Server" })

/** The bucket's level and its outstanding leases (`id` → `"held cost"`). */
const books = (key: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const level = yield* redis.send<string | null>("GET", key)
    const fields = yield* redis.send<Array<string>>("HGETALL", `${key}~leases`)
    const leases: Array<string> = []
    for (let i = 0; i < fields.length; i += 2) if (fields[i]!.startsWith("l:")) leases.push(fields[i + 1]!)
    return { level: level === null ? undefined : Number(level), leases }
  })

describe("shared retry budget: lost processes and lost replies", () => {
  it("a crash loop: processes killed (SIGKILL) one after another holding leases; each lease expires on Redis time and exactly what it held returns", async () => {
    const port = inject("redisPort")
    const prefix = uniquePrefix("dead")
    const key = prefix + "shared"
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const context = yield* Effect.context<Redis.Redis>()
      const read = Effect.provideContext(books(key), context).pipe(Effect.orDie)
      // Each worker: capacity 100, a lease of 20 taken by a retry of 5 (15 held), then killed.
      const held: Array<Array<string>> = []
      for (const name of ["first", "second"]) {
        const holder = startWorker({ mode: "lease", port, prefix, name }, 50_000)
        yield* Effect.promise(() => holder.event("holding"))
        held.push((yield* read).leases)
        yield* Effect.promise(() => holder.kill())
      }
      // A call that only reclaims (no refund, no lease), as any process's next call would.
      const run = (yield* Redis.Redis).eval(B.script)
      let reclaimed = 0
      const call = Effect.map(
        run({ key, capacity: 100, refundTotal: 0, refundAcked: 0, cost: 0, idle: 60_000, lease: 20, leaseTtl: 300, owner: "test", leaseId: "none", releases: "" }),
        (reply) => (reclaimed += Number(reply[2]))
      )
      const back = yield* waitFor(
        () => Effect.andThen(call, Effect.map(read, (b) => b.leases.length === 0)).pipe(Effect.provideContext(context), Effect.orDie),
        20_000
      )
      return { held, back, reclaimed, after: yield* read }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(port))))
    // The second lease was taken before or after the first expired: "15 5" is in the books either way.
    assert.includeDeepMembers(outcome.held[0]!, ["15 5"])
    assert.includeDeepMembers(outcome.held[1]!, ["15 5"])
    assert.isTrue(outcome.back, "the dead processes' leases expired")
    // The second worker's own script call reclaims the first lease if it had expired by then.
    assert.oneOf(outcome.reclaimed, [15, 30])
    assert.deepStrictEqual(outcome.after, { level: 90, leases: [] }, "the 15 each held came back, the retries they made did not")
  }, 60_000)

  // The lease asked for while Redis was paused is granted when it resumes, and given back by the
  // next call: what it held (15), and the retry's cost (5) too unless the process made that
  // retry on its own ("allow": its local bucket granted it).
  for (const [mode, expected] of [["allow", 995 - 20 + 15 + 3], ["reject", 995 - 20 + 20 + 3]] as const) {
    it(`Redis paused (${mode}): refunds, a returned lease and a lease granted without a reply are applied once when it resumes`, async () => {
      const s = await startServer({ bin: inject("redisBin"), port: await freePort() })
      servers.push(s)
      const prefix = uniquePrefix("lost")
      const key = prefix + "api"
      const counts: Counts = { evals: 0, sends: 0 }
      const lines: Array<string> = []
      const capture = Logger.layer([Logger.make((o) => {
        lines.push(`${o.logLevel}|${String(Array.isArray(o.message) ? o.message[0] : o.message)}`)
      })])
      const levelIs = (n: number) =>
        Effect.flatMap(Effect.context<Redis.Redis>(), (context) =>
          waitFor(() => Effect.map(books(key), (b) => b.level === n).pipe(Effect.provideContext(context), Effect.orDie), 20_000))
      const outcome = await Effect.runPromise(Effect.gen(function*() {
        const scope = yield* Scope.make()
        const context = yield* Layer.build(countingRedis(counts, s.port))
        const budget = yield* RetryBudgetStore.tokenBucket({
          name: "api",
          prefix,
          capacity: 1000,
          retryCost: 5,
          leaseSize: 20,
          flushEvery: "50 millis",
          storeTimeout: "100 millis",
          retryStoreAfter: "50 millis",
          onStoreError: mode
        }).pipe(Effect.provide(context), Scope.provide(scope))
        assert.isTrue(yield* budget.tryAcquire(failure))
        // The lease (20, 15 unspent) goes back with the next flush: 995.
        const returned = yield* levelIs(995)
        s.process.kill("SIGSTOP")
        // Sent, no reply in time: Redis grants this lease when it resumes; the process decided alone.
        const fallback = yield* budget.tryAcquire(failure)
        for (let i = 0; i < 3; i++) budget.onSuccess(false, undefined)
        // Several flushes carrying the 3 refunds (and the lost lease's return) reach the paused server.
        const sentAt = counts.evals
        const flushed = yield* waitFor(() => counts.evals >= sentAt + 3, 20_000)
        s.process.kill("SIGCONT")
        const recovered = yield* waitFor(() => lines.some((l) => l.startsWith("Info|Redis retry budget api: store available again")), 20_000)
        // Closing the budget's scope sends whatever a flush has not had answered yet.
        yield* Scope.close(scope, Exit.void)
        return { returned, fallback, flushed, recovered, after: yield* books(key) }
      }).pipe(Effect.scoped, Effect.provide(redisLayer(s.port)), Effect.provide(capture)))
      assert.isTrue(outcome.returned)
      assert.strictEqual(outcome.fallback, mode === "allow", "the local bucket decided the retry, or it was denied")
      assert.isTrue(outcome.flushed && outcome.recovered)
      // 995 − 20 (the lease granted late) + what came back of it + 3 refunds, each applied once.
      assert.deepStrictEqual(outcome.after, { level: expected, leases: [] })
    }, 60_000)
  }
})
