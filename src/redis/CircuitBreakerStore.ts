/**
 * CircuitBreakerStore: circuits shared by every process of a fleet, kept in Redis. Provide
 * `layer(options)` and every breaker made in its scope (`CircuitBreaker.make`, `keyed`) keeps its
 * circuit there. The shared state changes only through one Lua script that runs the very
 * transition function of the in-memory breaker, with time from Redis `TIME`, so client clocks do
 * not matter. Half-open probes are counted across processes, and each probe slot is a named lease
 * that expires if its process dies. Keys are `prefix + breaker name` and expire after
 * `idleTimeToLive` without a script call.
 *
 * Two consistency modes:
 *
 * * `"nearCache"` (the default): each process keeps a replica of each circuit. Closed admissions
 *   are decided locally (no round trip); outcomes are aggregated and flushed at most once per
 *   `flushInterval` per circuit, only when there is something to say, and at once when a failure
 *   could trip the shared circuit. The script publishes every transition on a Redis channel and
 *   every flush reply carries the shared state, so an opening reaches every process within about
 *   one flush interval; an open replica rejects locally until its period ends. Half-open probes,
 *   `isolate` and `reset` are script calls as in strict mode. If the subscription breaks (checked
 *   by a ping every `heartbeat`), replicas poll every `flushInterval` until it is back.
 * * `"strict"`: each admission and each counted outcome is one script call (EVALSHA), exact
 *   counting at one round trip per call.
 *
 * An admission that got no reply within `storeTimeout` is released by name, so a late reply never
 * holds a probe slot. When Redis is down or slower than `storeTimeout`, calls fail open
 * (`onStoreError: "allow"`: this process's in-memory circuit decides, counting locally) or closed
 * (`"reject"`); the outage is logged once, and Redis is tried again every `retryStoreAfter` until
 * it answers.
 *
 * @since 0.1.0
 */
import { type Clock, Duration, Effect, Layer, Result, Schema, type Scope } from "effect"
import { Redis } from "effect/persistence"
import * as Stores from "../CircuitBreakerStore.ts"
import type { CircuitConfig, StoredCircuit } from "../internal/breaker/model.ts"
import { PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import * as S from "../internal/redis/breakerScript.ts"
import { outageFields } from "../internal/redis/guard.ts"
import { nearCache } from "../internal/redis/nearStore.ts"
import { channelOf, type Resolved, type StoreContext } from "../internal/redis/storeContext.ts"
import { RedisCircuit } from "../internal/redis/strictCircuit.ts"
import { decodeOptions } from "../internal/strict.ts"

const DEFAULT_PREFIX = "resilience:breaker:"

/**
 * The store's options as data: `prefix` (`"resilience:breaker:"`), `consistency`
 * (`"nearCache"`), `flushInterval` (20 millis), `heartbeat` (1 second), `probeLease` (30
 * seconds), `idleTimeToLive` (1 hour), `onStoreError` (`"allow"`), `storeTimeout` (100 millis)
 * and `retryStoreAfter` (1 second). `make` decodes its options through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 * Schema.decodeUnknownSync(CircuitBreakerStore.StorePolicy)({ probeLease: "10s" })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const StorePolicy = Schema.Struct({
  prefix: withDefault(Schema.String, DEFAULT_PREFIX),
  consistency: withDefault(Schema.Literals(["nearCache", "strict"]), "nearCache"),
  flushInterval: withDefault(PositiveDelay, "20 millis"),
  heartbeat: withDefault(PositiveDelay, "1 second"),
  probeLease: withDefault(PositiveDelay, "30 seconds"),
  ...outageFields
})

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prepended to each breaker's name to make its key. Default `"resilience:breaker:"`. */
  readonly prefix?: string | undefined
  /**
   * `"nearCache"`: closed admissions decided in this process, outcomes flushed in batches;
   * `"strict"`: one script call per admission and per counted outcome. Default `"nearCache"`.
   */
  readonly consistency?: "nearCache" | "strict" | undefined
  /** Near cache: a circuit's outcomes are flushed at most this often (a possible trip: at once); replicas poll this often while the subscription is down. Default 20 millis. */
  readonly flushInterval?: Duration.Input | undefined
  /** Near cache: how often the subscription is checked (a ping through it); a ping not back by the next one means it is down. Default 1 second. */
  readonly heartbeat?: Duration.Input | undefined
  /** How long a half-open probe holds its slot if its process never reports back. Default 30 seconds. */
  readonly probeLease?: Duration.Input | undefined
  /** A closed circuit's key is dropped after this long without calls. Default 1 hour. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** While Redis is unavailable: `"allow"` (fail open, the local circuit decides) or `"reject"` (fail closed). Default `"allow"`. */
  readonly onStoreError?: "allow" | "reject" | undefined
  /** A store call slower than this counts as unavailable. Default 100 millis. */
  readonly storeTimeout?: Duration.Input | undefined
  /** After a failed store call, calls skip Redis for this long before trying again. Default 1 second. */
  readonly retryStoreAfter?: Duration.Input | undefined
}

const resolve = (options: Options): Resolved | PolicyError => {
  const decoded = decodeOptions(StorePolicy, options)
  if (Result.isFailure(decoded)) return decoded.failure
  const policy = decoded.success
  return {
    prefix: policy.prefix,
    consistency: policy.consistency,
    flushInterval: Duration.toMillis(policy.flushInterval),
    heartbeat: Duration.toMillis(policy.heartbeat),
    lease: Duration.toMillis(policy.probeLease),
    idle: Duration.toMillis(policy.idleTimeToLive),
    onStoreError: policy.onStoreError,
    timeout: Duration.toMillis(policy.storeTimeout),
    retryEvery: Duration.toMillis(policy.retryStoreAfter)
  }
}

/**
 * A Redis store, over Effect's `Redis` service (for Node, `NodeRedis.layer` from
 * `@effect/platform-node`; pass `disableOfflineQueue: true` so that calls made while disconnected
 * fail at once instead of waiting for the timeout; `NodeConnection.layer` from
 * `effect-resilience/redis/NodeConnection` does, and its close cannot hang on a paused Redis).
 * Fails with `Policy.PolicyError` naming every bad option. Most programs provide it with `layer`
 * instead.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeRedis } from "@effect/platform-node"
 * import { CircuitBreaker, CircuitBreakerStore as Stores } from "effect-resilience"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 *
 * declare const callPayments: Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* CircuitBreakerStore.make({ probeLease: "10 seconds" })
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" }).pipe(Effect.provideService(Stores.CircuitBreakerStore, store))
 *   return yield* breaker.execute(callPayments)
 * }).pipe(Effect.scoped, Effect.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true })))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Stores.CircuitBreakerStore["Service"], PolicyError, Redis.Redis | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = resolve(options)
    if (!("prefix" in resolved)) return yield* Effect.fail(resolved)
    const redis = yield* Redis.Redis
    const store: StoreContext = {
      resolved,
      run: redis.eval(S.script),
      context: yield* Effect.context<never>(),
      id: Math.random().toString(36).slice(2, 10),
      channel: channelOf(resolved.prefix)
    }
    if (resolved.consistency === "nearCache") return yield* nearCache(store, redis)
    return {
      circuit: (name: string, config: CircuitConfig, clock: Clock.Clock): StoredCircuit =>
        new RedisCircuit(store, resolved.prefix + name, config, clock, name)
    }
  })

/**
 * Provides circuits shared through Redis to every breaker made in its scope: by default a near
 * cache (closed calls decided in the process, outcomes flushed in batches, transitions learned
 * from the script's publications), or with `consistency: "strict"` one atomic script call per
 * admission and per counted outcome; half-open probes are counted fleet-wide in both.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { NodeRedis } from "@effect/platform-node"
 * import { CircuitBreaker } from "effect-resilience"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 *
 * declare const callPayments: Effect.Effect<string, Error>
 *
 * const Shared = CircuitBreakerStore.layer({ probeLease: "10 seconds", onStoreError: "allow" }).pipe(
 *   Layer.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true }))
 * )
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments", trip: CircuitBreaker.consecutive(5) })
 *   return yield* breaker.execute(callPayments)
 * }).pipe(Effect.scoped, Effect.provide(Shared))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Stores.CircuitBreakerStore, PolicyError, Redis.Redis> =>
  Layer.effect(Stores.CircuitBreakerStore, make(options))

/**
 * Reads a breaker's state as stored in Redis (time-driven transitions not applied), for
 * dashboards and tests. `name` is the breaker's name (`<name>/<key>` for keyed circuits).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 * const tag = CircuitBreakerStore.read("payments").pipe(Effect.map((s) => s.tag))
 * ```
 * @since 0.1.0
 * @category utils
 */
export const read = (
  name: string,
  options: { readonly prefix?: string | undefined } = {}
): Effect.Effect<{ readonly tag: "Closed" | "Open" | "HalfOpen" | "Isolated" | "None"; readonly raw: string | null }, Redis.RedisError, Redis.Redis> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const raw = yield* redis.send<string | null>("GET", (options.prefix ?? DEFAULT_PREFIX) + name)
    const tags = { C: "Closed", O: "Open", H: "HalfOpen", I: "Isolated" } as const
    const tag = raw === null ? "None" : tags[raw.charAt(0) as keyof typeof tags] ?? "None"
    return { tag, raw }
  })
