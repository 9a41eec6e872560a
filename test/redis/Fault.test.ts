// Redis killed and restarted under load. Two OS processes publish dead letters and make breaker
// calls while their Redis (durable: append-only file, fsync always) is SIGKILLed and restarted:
// no acknowledged letter is lost and both processes keep working. In this process: while Redis is
// down, "allow" falls back to the local circuit, "reject" rejects, the outage is logged once, and
// the store recovers by itself.
import { afterAll, afterEach, assert, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Logger } from "effect"
import { inject } from "vitest"
import { CircuitBreaker } from "../../src/index.ts"
import { CircuitBreakerStore, DeadLetterStream } from "../../src/redis/index.ts"
import { storeTimeout } from "./fixtures/sharedBreaker.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"
import { freePort, type Server, startServer } from "./server.ts"
import { killAll, startWorker } from "./workers.ts"

const servers: Array<Server> = []
const dirs: Array<string> = []
afterEach(killAll)
afterAll(async () => {
  for (const s of servers) await s.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})


describe("Redis killed and restarted", () => {
  it("loses no acknowledged dead letter and leaves every process working", async () => {
    const bin = inject("redisBin")
    const dir = mkdtempSync(join(tmpdir(), "resilience-redis-"))
    dirs.push(dir)
    const port = await freePort()
    let server = await startServer({ bin, port, durableDir: dir })
    servers.push(server)
    const prefix = uniquePrefix("fault")
    const workers = [0, 1].map((i) => startWorker({ mode: "fault", port, prefix, name: `f${i}` }, 90_000))
    // Barriers, not a timetable: each phase lasts until both workers have made 20 calls in it.
    const phase = async (name: string) => {
      for (const w of workers) w.send(`mark:${name}`)
      await Promise.all(workers.map((w) => w.event(name)))
    }
    await Promise.all(workers.map((w) => w.event("ready")))
    for (const w of workers) w.send("go")
    await phase("up")
    await server.stop() // SIGKILL mid-run
    await phase("down")
    server = await startServer({ bin, port, durableDir: dir })
    servers.push(server)
    await phase("back")
    for (const w of workers) w.send("stop")
    const results = await Promise.all(workers.map((w) => w.result)) as Array<{
      acked: Array<string>
      failedPublishes: Array<string>
      ok: number
      rejected: number
      iterations: number
    }>
    const entries = await Effect.runPromise(
      Effect.gen(function*() {
        const all: Array<string> = []
        let after: string | undefined
        for (;;) {
          const page = yield* DeadLetterStream.read({ stream: `${prefix}letters`, after, count: 500 })
          if (page.length === 0) return all
          for (const e of page) all.push(e.letter.operation)
          after = page.at(-1)!.id
        }
      }).pipe(Effect.provide(redisLayer(port)))
    )
    const stored = new Set(entries)
    for (const r of results) {
      assert.deepStrictEqual(r.failedPublishes, [])
      assert.strictEqual(r.acked.length, r.iterations) // every letter acknowledged, buffered or not
      assert.isAtLeast(r.iterations, 60) // 20 calls before, during and after the outage
      assert.deepStrictEqual(r.acked.filter((op) => !stored.has(op)), [], "acknowledged letters missing from the stream")
      assert.strictEqual(r.rejected, 0) // fail open: calls kept working through the outage
      assert.strictEqual(r.ok, r.iterations)
    }
  }, 120_000)

  it("strict: fails open or closed while Redis is down, logs once per outage, and recovers by itself", async () => {
    const bin = inject("redisBin")
    const port = await freePort()
    let server = await startServer({ bin, port })
    servers.push(server)
    const lines: Array<string> = []
    const capture = Logger.layer([Logger.make((o) => {
      lines.push(`${o.logLevel}|${Array.isArray(o.message) ? String(o.message[0]) : String(o.message)}`)
    })])
    const prefix = uniquePrefix("modes")
    const outcome = await Effect.runPromise(Effect.gen(function*() {
      const open = yield* CircuitBreaker.make({
        name: "open",
        trip: CircuitBreaker.consecutive(3),
        log: false,
        store: yield* CircuitBreakerStore.make({ prefix, consistency: "strict", onStoreError: "allow", storeTimeout, retryStoreAfter: "100 millis" })
      })
      const closed = yield* CircuitBreaker.make({
        name: "closed",
        log: false,
        store: yield* CircuitBreakerStore.make({ prefix, consistency: "strict", onStoreError: "reject", storeTimeout, retryStoreAfter: "100 millis" })
      })
      const before = yield* Effect.all([open.execute(Effect.succeed("a")), closed.execute(Effect.succeed("b"))])
      yield* Effect.promise(() => server.stop())
      const during = []
      for (let i = 0; i < 20; i++) {
        during.push(yield* Effect.result(open.execute(Effect.succeed(i))))
        during.push(yield* Effect.result(closed.execute(Effect.succeed(i))))
      }
      // local counting while failing open: three failures trip this process's circuit
      for (let i = 0; i < 3; i++) yield* Effect.result(open.execute(Effect.fail("down")))
      const localTrip = yield* Effect.result(open.execute(Effect.succeed("x")))
      yield* Effect.promise(async () => {
        server = await startServer({ bin, port })
        servers.push(server)
      })
      // back: the shared store answers again (the client reconnects on its own)
      let after: string | undefined
      for (let i = 0; i < 100 && after === undefined; i++) {
        yield* Effect.sleep("100 millis")
        const r = yield* Effect.result(closed.execute(Effect.succeed("back")))
        if (r._tag === "Success") after = r.success
      }
      const stored = yield* CircuitBreakerStore.read("closed", { prefix })
      return { before, during, localTrip, after, stored: stored.tag }
    }).pipe(Effect.scoped, Effect.provide(redisLayer(port)), Effect.provide(capture)))
    assert.deepStrictEqual(outcome.before, ["a", "b"])
    const openResults = outcome.during.filter((_, i) => i % 2 === 0)
    const closedResults = outcome.during.filter((_, i) => i % 2 === 1)
    assert.isTrue(openResults.every((r) => r._tag === "Success"), "fail open: calls go through")
    assert.isTrue(closedResults.every((r) => r._tag === "Failure" && r.failure._tag === "BreakerOpen"), "fail closed: rejected")
    assert.strictEqual(outcome.localTrip._tag, "Failure", "the local circuit counted the failures and opened")
    assert.strictEqual(outcome.after, "back")
    assert.strictEqual(outcome.stored, "Closed")
    const warnings = lines.filter((l) => l.startsWith("Warn|Redis breaker"))
    assert.strictEqual(warnings.filter((l) => l.includes("breaker closed")).length, 1, warnings.join("\n"))
    assert.strictEqual(warnings.filter((l) => l.includes("breaker open")).length, 1, warnings.join("\n"))
    assert.isTrue(lines.some((l) => l.startsWith("Info|Redis breaker closed: store available again")), lines.join("\n"))
  }, 30_000)
})
