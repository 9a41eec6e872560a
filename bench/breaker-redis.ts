/**
 * Benchmark: circuits shared through Redis, in one run against one redis-server on loopback that
 * the script starts (test/redis/server.ts finds or installs it). Three parts:
 *
 * 1. Calls/s and µs per successful call, 1 and 64 in flight: the in-memory breaker, the
 *    near-cache store (default), the strict store, Effect's `effect/persistence` CircuitBreaker on
 *    its Redis store; round trips per call from `INFO commandstats`.
 * 2. Redis commands per 1 000 calls (every command the server counted, `INFO commandstats`) at 0 %,
 *    1 % and 10 % failures for 1, 4 and 16 processes, each process a separate store with its own
 *    connections (commands and subscription) standing in for an OS process.
 * 3. Staleness: 4 processes call continuously; one of them starts failing and trips the shared
 *    circuit; after it opens (its Redis time), how long until each process rejects, and how many
 *    calls the fleet let through meanwhile.
 *
 * Run: node_modules/.bin/node bench/breaker-redis.ts   (about a minute)
 */
import { NodeRedis } from "@effect/platform-node"
import { Effect, Fiber, Layer } from "effect"
import { CircuitBreaker as EffectBreaker, Redis } from "effect/persistence"
import { CircuitBreaker } from "../src/index.ts"
import { CircuitBreakerStore } from "../src/redis/index.ts"
import { commands, resetStats } from "./redisStats.ts"
import { findOrInstallRedis, freePort, startServer } from "../test/redis/server.ts"

const server = await startServer({ bin: findOrInstallRedis(), port: await freePort() })
const url = `redis://127.0.0.1:${server.port}`
const redisLayer = () => NodeRedis.layer({ url, disableOfflineQueue: true })
const FLUSH = 20


interface Row {
  readonly label: string
  readonly concurrency: number
  readonly perSecond: number
  readonly micros: number
  readonly trips: number
}

const timed = (label: string, call: Effect.Effect<unknown, unknown>, calls: number, concurrency: number) =>
  Effect.gen(function*(): Effect.fn.Return<Row, unknown, Redis.Redis> {
    yield* Effect.forEach(Array.from({ length: 500 }), () => call, { concurrency, discard: true }) // warm up
    const before = yield* commands
    const started = performance.now()
    yield* Effect.forEach(Array.from({ length: calls }), () => call, { concurrency, discard: true })
    const ms = performance.now() - started
    const trips = ((yield* commands).evalsha - before.evalsha) / calls
    return { label, concurrency, perSecond: Math.round(calls / (ms / 1000)), micros: (ms * 1000) / calls, trips }
  })

/** Part 1: one successful call. */
const throughput = Effect.gen(function*() {
  const near = yield* CircuitBreaker.make({ name: "near", log: false }).pipe(Effect.provide(CircuitBreakerStore.layer({ prefix: "bench:near:" })))
  const strict = yield* CircuitBreaker.make({ name: "strict", log: false }).pipe(
    Effect.provide(CircuitBreakerStore.layer({ prefix: "bench:strict:", consistency: "strict" }))
  )
  const memory = yield* CircuitBreaker.make({ name: "memory", log: false })
  const peer = yield* EffectBreaker.make({ tripPolicy: EffectBreaker.consecutive(5), openDuration: "10 seconds" }).pipe(
    Effect.provide(EffectBreaker.layerStoreRedis({ prefix: "bench:peer:" }))
  )
  const one = Effect.succeed(1)
  const cases: Array<[string, Effect.Effect<unknown, unknown>, number]> = [
    ["in-memory breaker", memory.execute(one), 100_000],
    ["near-cache store (default)", near.execute(one), 100_000],
    ["strict store", strict.execute(one), 4_000],
    ["`effect/persistence` CircuitBreaker, Redis store", peer.execute(one, { key: "peer" }), 2_000]
  ]
  // Three interleaved rounds (a burst of load hits every case alike); the median round is kept.
  const rounds = new Map<string, Array<Row>>()
  for (let round = 0; round < 3; round++) {
    for (const concurrency of [1, 64]) {
      for (const [label, call, calls] of cases) {
        const row = yield* timed(label, call, concurrency === 64 ? calls * 2 : calls, concurrency)
        const list = rounds.get(`${concurrency}|${label}`) ?? []
        list.push(row)
        rounds.set(`${concurrency}|${label}`, list)
      }
    }
  }
  return Array.from(rounds.values(), (list) => [...list].sort((a, b) => a.micros - b.micros)[1]!)
})

/** Part 2: commands per 1 000 calls. */
const traffic = (processes: number, failureEvery: number | undefined, consistency: "nearCache" | "strict", rated: boolean, callsPerProcess: number) =>
  Effect.gen(function*() {
    const prefix = `bench:traffic:${processes}:${failureEvery}:${consistency}:${rated}:`
    const options: CircuitBreaker.Options = {
      name: "dep",
      log: false,
      // Rules that the failure rates here never trip: what is measured is the traffic, not openings.
      trip: rated
        ? [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: "10 seconds" })]
        : CircuitBreaker.consecutive(5)
    }
    const fleet = yield* Effect.forEach(Array.from({ length: processes }), () =>
      Effect.gen(function*() {
        const context = yield* Layer.build(CircuitBreakerStore.layer({ prefix, consistency, flushInterval: FLUSH, storeTimeout: "5 seconds" }).pipe(Layer.provideMerge(redisLayer())))
        return yield* CircuitBreaker.make(options).pipe(Effect.provide(context))
      }))
    yield* resetStats
    let n = 0
    const started = performance.now()
    yield* Effect.forEach(fleet, (breaker) =>
      Effect.gen(function*() {
        for (let i = 0; i < callsPerProcess; i++) {
          const fail = failureEvery !== undefined && ++n % failureEvery === 0
          yield* Effect.result(breaker.execute(fail ? Effect.fail("down") : Effect.succeed(1)))
          // About 1 000 calls/s per process, one at a time: the near cache's traffic follows
          // time (one flush per interval at most), so calls must take time as real ones would.
          yield* Effect.sleep(1)
        }
      }), { concurrency: "unbounded", discard: true })
    const ms = performance.now() - started
    yield* Effect.sleep(FLUSH * 3) // the last flushes
    const counted = yield* commands
    const calls = processes * callsPerProcess
    return { total: (counted.total * 1000) / calls, evalsha: (counted.evalsha * 1000) / calls, ms }
  }).pipe(Effect.scoped)

/** Part 3: staleness after the shared circuit opens. */
const staleness = (consistency: "nearCache" | "strict") =>
  Effect.gen(function*() {
    const prefix = `bench:stale:${consistency}:${Math.random()}:`
    // A rate rule: every outcome counts in both modes, so both trip when a quarter of the calls fail.
    const options: CircuitBreaker.Options = {
      name: "dep",
      log: false,
      trip: CircuitBreaker.failureRate({ threshold: 0.2, minimumCalls: 20, window: 40 }),
      openFor: "1 minute"
    }
    const fleet = yield* Effect.forEach([0, 1, 2, 3], () =>
      Effect.gen(function*() {
        const context = yield* Layer.build(CircuitBreakerStore.layer({ prefix, consistency, flushInterval: FLUSH, storeTimeout: "5 seconds" }).pipe(Layer.provideMerge(redisLayer())))
        return yield* CircuitBreaker.make(options).pipe(Effect.provide(context))
      }))
    let down = false
    const admitted: Array<number> = []
    const firstRejection: Array<number | undefined> = [undefined, undefined, undefined, undefined]
    // Only process 0 sees the failures (say, its route to the dependency broke): the others learn
    // the opening from Redis alone, while their own calls still succeed.
    const dependency = (i: number) =>
      Effect.suspend(() => {
        admitted.push(Date.now())
        return down && i === 0 ? Effect.fail("down") : Effect.succeed(1)
      })
    const loop = (i: number) =>
      Effect.gen(function*() {
        const deadline = Date.now() + 10_000
        while (firstRejection[i] === undefined && Date.now() < deadline) {
          const r = yield* Effect.result(fleet[i]!.execute(dependency(i)))
          if (r._tag === "Failure" && r.failure === "down") {
            // a failed call; keep going
          } else if (r._tag === "Failure") firstRejection[i] = Date.now()
          yield* Effect.sleep(1) // ~1 000 calls/s per process
        }
      })
    const fibers = yield* Effect.forEach([0, 1, 2, 3], (i) => Effect.forkChild(loop(i)))
    yield* Effect.sleep(200)
    down = true
    yield* Effect.forEach(fibers, Fiber.join, { discard: true })
    const raw = (yield* CircuitBreakerStore.read("dep", { prefix })).raw ?? ""
    const openedAt = Number(raw.split(" ")[1]) // the Open state's `since`: Redis TIME at the trip
    const lags = firstRejection.map((t) => t! - openedAt)
    return { maxLag: Math.max(...lags), meanLag: lags.reduce((a, b) => a + b, 0) / lags.length, extra: admitted.filter((t) => t > openedAt).length }
  }).pipe(Effect.scoped)

const program = Effect.gen(function*() {
  const rows = yield* throughput
  console.log("### Successful calls\n")
  console.log("| breaker (successful call) | calls in flight | round trips/call | calls/s | µs/call | vs in-memory |")
  console.log("|---|---:|---:|---:|---:|---:|")
  for (const r of rows) {
    const base = rows.find((x) => x.concurrency === r.concurrency && x.label === "in-memory breaker")!
    console.log(`| ${r.label} | ${r.concurrency} | ${r.trips.toFixed(2)} | ${r.perSecond} | ${r.micros.toFixed(2)} | ${(r.micros / base.micros).toFixed(2)}× |`)
  }
  console.log("\n### Redis commands per 1 000 calls (every command counted by the server)\n")
  console.log("Each cell: all commands the server counted (commands run inside the script included) / EVALSHA calls.\n")
  console.log("| processes | failures | strict, consecutive(5) | near cache, consecutive(5) | near cache, consecutive(5) + 10 s failureRate | run time (near) |")
  console.log("|---:|---:|---:|---:|---:|---:|")
  const cell = (r: { total: number; evalsha: number }) => `${r.total.toFixed(1)} / ${r.evalsha.toFixed(1)}`
  for (const processes of [1, 4, 16]) {
    for (const [label, every] of [["0 %", undefined], ["1 %", 100], ["10 %", 10]] as const) {
      const calls = 500
      const strict = yield* traffic(processes, every, "strict", false, calls)
      const near = yield* traffic(processes, every, "nearCache", false, calls)
      const rated = yield* traffic(processes, every, "nearCache", true, calls)
      console.log(`| ${processes} | ${label} | ${cell(strict)} | ${cell(near)} | ${cell(rated)} | ${near.ms.toFixed(0)} ms |`)
    }
  }
  console.log("\n### Staleness: 4 processes at ~1 000 calls/s each; process 0's calls start failing and trip failureRate(20 % of the last 40 calls); the others still succeed\n")
  console.log("| store | runs | time until every process rejects (max over runs) | mean per process | calls let through after the opening (max) |")
  console.log("|---|---:|---:|---:|---:|")
  for (const consistency of ["nearCache", "strict"] as const) {
    const runs = []
    for (let i = 0; i < 5; i++) runs.push(yield* staleness(consistency))
    console.log(
      `| ${consistency} | ${runs.length} | ${Math.max(...runs.map((r) => r.maxLag))} ms | ${(runs.reduce((a, r) => a + r.meanLag, 0) / runs.length).toFixed(1)} ms | ${Math.max(...runs.map((r) => r.extra))} |`
    )
  }
  console.log(`\nflushInterval ${FLUSH} ms, ${process.version}, redis-server on 127.0.0.1`)
})

try {
  await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(redisLayer())))
} finally {
  await server.stop()
}
