/**
 * Benchmark: the retry budget shared through Redis (`RetryBudgetStore.tokenBucket`), against one
 * redis-server on loopback that the script starts (test/redis/server.ts finds or installs it).
 * Each "process" is a bucket with its own connection; every retry is followed by the success
 * that refunds it (the bucket stays full, as in a healthy fleet with occasional retries).
 * Measured: retries/s, µs per retry, script calls and Redis commands per 1 000 retries (`INFO
 * commandstats`), for leases of 25 tokens (the default: 5 retries a lease) and for `leaseSize: 0`
 * (one script call per retry), 1 and 16 processes; then the script's own cost (`leaseSize: 0`,
 * one at a time) with 0 and 1 000 outstanding leases in the books.
 *
 * Run: node bench/budget-redis.ts   (about 20 s)
 */
import { NodeRedis } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { Redis } from "effect/persistence"
import { Failure, type RetryBudget } from "../src/index.ts"
import { RetryBudgetStore } from "../src/redis/index.ts"
import { commands, resetStats } from "./redisStats.ts"
import { findOrInstallRedis, freePort, startServer } from "../test/redis/server.ts"

const server = await startServer({ bin: findOrInstallRedis(), port: await freePort() })
const url = `redis://127.0.0.1:${server.port}`
const redisLayer = () => NodeRedis.layer({ url, disableOfflineQueue: true })
const failure = Failure.transient(new Error("503"), { kind: "Server" })


let run = 0
/** `processes` buckets on their own connections, each making `retries` retries one at a time. */
const fleet = (processes: number, leaseSize: number, retries: number) =>
  Effect.gen(function*() {
    const prefix = `bench:budget:${run++}:`
    const buckets: Array<RetryBudget.RetryBudget> = yield* Effect.forEach(Array.from({ length: processes }), () =>
      Effect.flatMap(Layer.build(redisLayer()), (context) =>
        RetryBudgetStore.tokenBucket({ name: "api", prefix, capacity: 500, leaseSize, storeTimeout: "5 seconds" }).pipe(Effect.provide(context))))
    const one = (b: RetryBudget.RetryBudget) =>
      Effect.map(b.tryAcquire(failure), (ok) => {
        if (!ok) throw new Error("denied: the bench expects a full bucket")
        b.onSuccess(true, failure)
      })
    const each = (b: RetryBudget.RetryBudget) => Effect.forEach(Array.from({ length: retries }), () => one(b), { discard: true })
    yield* Effect.forEach(buckets, (b) => Effect.forEach(Array.from({ length: 50 }), () => one(b), { discard: true }), { concurrency: "unbounded" })
    yield* resetStats
    const started = performance.now()
    yield* Effect.forEach(buckets, each, { concurrency: "unbounded", discard: true })
    const ms = performance.now() - started
    const counted = yield* commands
    const total = processes * retries
    return {
      perSecond: Math.round(total / (ms / 1000)),
      micros: (ms * 1000) / total,
      scripts: (counted.evalsha / total) * 1000,
      commands: (counted.total / total) * 1000
    }
  }).pipe(Effect.scoped)

/** µs per script call (leaseSize 0, one at a time) with `outstanding` unexpired leases in the books. */
const scriptCost = (outstanding: number) =>
  Effect.gen(function*() {
    const prefix = `bench:budget:${run++}:`
    const redis = yield* Redis.Redis
    const key = `${prefix}api`
    // Leases of processes that are gone but not yet expired (an hour to live).
    const farFuture = Date.now() + 3_600_000
    for (let i = 0; i < outstanding; i++) {
      yield* redis.send("HSET", `${key}~leases`, `l:dead.${i}`, "20 5")
      yield* redis.send("ZADD", `${key}~expiry`, String(farFuture), `l:dead.${i}`)
    }
    const b = yield* RetryBudgetStore.tokenBucket({ name: "api", prefix, capacity: 1_000_000_000, leaseSize: 0, storeTimeout: "5 seconds" })
    const n = 5_000
    const started = performance.now()
    for (let i = 0; i < n; i++) yield* b.tryAcquire(failure)
    return ((performance.now() - started) * 1000) / n
  }).pipe(Effect.scoped)

const program = Effect.gen(function*() {
  const rows: Array<string> = [
    "| processes | leaseSize | retries/s | µs per retry | script calls / 1 000 retries | Redis commands / 1 000 retries |",
    "|---|---|---|---|---|---|"
  ]
  for (const processes of [1, 16]) {
    for (const leaseSize of [25, 0]) {
      const r = yield* fleet(processes, leaseSize, processes === 1 ? 20_000 : 2_000)
      rows.push(`| ${processes} | ${leaseSize} | ${r.perSecond} | ${r.micros.toFixed(1)} | ${r.scripts.toFixed(0)} | ${r.commands.toFixed(0)} |`)
    }
  }
  console.log(rows.join("\n"))
  console.log("")
  for (const outstanding of [0, 1_000]) {
    console.log(`script call, leaseSize 0, ${outstanding} outstanding leases: ${(yield* scriptCost(outstanding)).toFixed(1)} µs`)
  }
}).pipe(Effect.provide(redisLayer()))

try {
  await Effect.runPromise(program)
} finally {
  await server.stop()
}
console.log(`\n${process.version}`)
