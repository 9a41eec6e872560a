/**
 * Memory of idle keyed circuits: creates 100 000 keys on a keyed breaker (one call each) and
 * reports the heap they hold. Run: node_modules/.bin/node --expose-gc bench/breaker-memory.ts [consecutive]
 */
import { Effect, Scope } from "effect"
import { CircuitBreaker } from "../src/index.ts"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc")
const KEYS = 100_000
const scope = Effect.runSync(Scope.make())
const keyed = Effect.runSync(Scope.provide(
  CircuitBreaker.keyed<string>({
    name: "hosts",
    log: false,
    trip: process.argv[2] === "consecutive" ? CircuitBreaker.consecutive(5) : [CircuitBreaker.consecutive(5), CircuitBreaker.failureRate({ threshold: 0.5, minimumCalls: 20, window: "1 minute" })]
  }),
  scope
))
const one = Effect.succeed(1)
gc()
const before = process.memoryUsage().heapUsed
for (let i = 0; i < KEYS; i++) Effect.runSync(keyed.execute(`host-${i}`, one))
gc()
const after = process.memoryUsage().heapUsed
const size = Effect.runSync(keyed.size)
console.log(`${size} idle keyed circuits (${process.argv[2] === "consecutive" ? "consecutive(5)" : "consecutive(5) + 1-minute failureRate"}, one success each): ` +
  `${((after - before) / 1024 / 1024).toFixed(1)} MB heap, ${((after - before) / KEYS).toFixed(0)} bytes/key`)
// The keyed breaker's eviction sweep keeps a fiber alive: end here.
process.exit(0)
