// Pieces of the near-cache tests: a Redis layer that counts the commands its store sends (so a
// test can assert "no round trip" without reading a server-wide counter other tests also move),
// a Redis layer whose subscriptions are down from the start, and a wait on a condition that
// advances with real IO, not with the (test) clock.
import { Effect, Layer, Queue } from "effect"
import { Redis } from "effect/persistence"
import { redisLayer } from "./helpers.ts"

/** Commands sent through one connection's `Redis` service. */
export interface Counts {
  evals: number
  sends: number
}

/** A `Redis` layer over the test server that counts script calls and other commands. */
export const countingRedis = (counts: Counts, port?: number) =>
  Layer.effect(
    Redis.Redis,
    Effect.map(Effect.service(Redis.Redis), (redis): Redis.Redis["Service"] => ({
      ...redis,
      send: <A>(command: string, ...args: ReadonlyArray<string>) => Effect.andThen(Effect.sync(() => counts.sends++), redis.send<A>(command, ...args)),
      eval: (script) => {
        const run = redis.eval(script)
        return (...params) => Effect.andThen(Effect.sync(() => counts.evals++), run(...params))
      }
    }))
  ).pipe(Layer.provide(redisLayer(port)))

/** A `Redis` layer whose subscriptions fail at once (the subscription is down), commands work. */
export const deafRedis = (port?: number) =>
  Layer.effect(
    Redis.Redis,
    Effect.map(Effect.service(Redis.Redis), (redis): Redis.Redis["Service"] => ({
      ...redis,
      subscribe: () =>
        Effect.gen(function*() {
          const queue = yield* Queue.unbounded<Redis.RedisMessage, Redis.RedisError>()
          yield* Queue.fail(queue, new Redis.RedisError({ cause: "subscription down" }))
          return queue
        })
    }))
  ).pipe(Layer.provide(redisLayer(port)))

/**
 * Waits (real time, at most `limit` ms) until `condition` holds; under a TestClock the test clock
 * does not move meanwhile, so what happened was caused by IO, not by timers.
 */
export const waitFor = (condition: () => boolean | Effect.Effect<boolean>, limit = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + limit
    while (Date.now() < deadline) {
      const result = condition()
      if (typeof result === "boolean" ? result : yield* result) return true
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    return false
  })
