/**
 * Benchmark: a successful call through the Redis-backed breaker on loopback. Starts its own
 * redis-server (test/redis/server.ts finds or installs it), then measures round trips per call
 * (Redis `INFO commandstats`: EVALSHA calls / breaker calls) and calls per second, one call at a
 * time (no pipelining) and 64 at a time (node-redis pipelines commands issued together).
 * Run: node_modules/.bin/node bench/breaker-redis.ts
 */
import { NodeRedis } from "@effect/platform-node"
import { Effect } from "effect"
import { Redis } from "effect/persistence"
import { CircuitBreaker } from "../src/index.ts"
import { CircuitBreakerStore } from "../src/redis/index.ts"
import { findOrInstallRedis, freePort, startServer } from "../test/redis/server.ts"

const server = await startServer({ bin: findOrInstallRedis(), port: await freePort() })

const evalshaCalls = Effect.gen(function*() {
  const redis = yield* Redis.Redis
  const info = yield* redis.send<string>("INFO", "commandstats")
  const match = /cmdstat_evalsha:calls=(\d+)/.exec(info)
  return match === null ? 0 : Number(match[1])
})

const measure = (label: string, breaker: CircuitBreaker.CircuitBreaker, calls: number, concurrency: number) =>
  Effect.gen(function*() {
    const one = breaker.execute(Effect.succeed(1))
    yield* Effect.forEach(Array.from({ length: 200 }), () => one, { concurrency, discard: true }) // warm up
    const before = yield* evalshaCalls
    const started = performance.now()
    yield* Effect.forEach(Array.from({ length: calls }), () => one, { concurrency, discard: true })
    const ms = performance.now() - started
    const trips = ((yield* evalshaCalls) - before) / calls
    return { label, concurrency, perSecond: Math.round(calls / (ms / 1000)), microsPerCall: (ms * 1000) / calls, roundTrips: trips }
  })

const program = Effect.gen(function*() {
  const shared = CircuitBreakerStore.layer({ prefix: "bench:" })
  const consecutive = yield* CircuitBreaker.make({ name: "consecutive", log: false }).pipe(Effect.provide(shared))
  const rated = yield* CircuitBreaker.make({
    name: "rated",
    log: false,
    trip: [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 10, window: "10 seconds" })]
  }).pipe(Effect.provide(shared))
  const memory = yield* CircuitBreaker.make({ name: "memory", log: false })
  const rows = [
    yield* measure("in memory (reference)", memory, 20_000, 1),
    yield* measure("Redis, consecutive(5)", consecutive, 3_000, 1),
    yield* measure("Redis, consecutive(5)", consecutive, 20_000, 64),
    yield* measure("Redis, consecutive(5) + 10 s failureRate", rated, 3_000, 1),
    yield* measure("Redis, consecutive(5) + 10 s failureRate", rated, 20_000, 64)
  ]
  console.log("| breaker (successful call) | calls in flight | round trips/call | calls/s | µs/call |")
  console.log("|---|---:|---:|---:|---:|")
  for (const r of rows) {
    console.log(`| ${r.label} | ${r.concurrency} | ${r.roundTrips.toFixed(2)} | ${r.perSecond} | ${r.microsPerCall.toFixed(1)} |`)
  }
  console.log(`\n${process.version}, redis-server on 127.0.0.1`)
})

try {
  await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(NodeRedis.layer({ url: `redis://127.0.0.1:${server.port}` }))))
} finally {
  await server.stop()
}
