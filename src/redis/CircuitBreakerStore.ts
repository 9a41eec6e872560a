/**
 * CircuitBreakerStore: circuits shared by every process of a fleet, kept in Redis. Pass the
 * factory as `CircuitBreaker.make({ store })` (or to `keyed`): each admission and each counted
 * outcome is one atomic Lua script call (EVALSHA) that runs the very transition function of the
 * in-memory breaker, with time from Redis `TIME`, so client clocks do not matter. Half-open probes
 * are counted across processes, and each probe slot is a lease that expires if its process dies.
 * Keys are `prefix + breaker name` and expire after `idleTimeToLive` without calls.
 *
 * When Redis is down or slower than `storeTimeout`, calls fail open (`onStoreError: "allow"`:
 * this process's in-memory circuit decides, counting locally) or closed (`"reject"`); the outage
 * is logged once, and Redis is tried again every `retryStoreAfter` until it answers.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Result, Schema } from "effect"
import { Redis } from "effect/persistence"
import type * as CircuitBreaker from "../CircuitBreaker.ts"
import type * as M from "../internal/breaker/machine.ts"
import { Delay, PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import * as S from "../internal/redis/breakerScript.ts"
import { Guard } from "../internal/redis/guard.ts"
import { decodeOptions } from "../internal/strict.ts"

const DEFAULT_PREFIX = "resilience:breaker:"

/**
 * The store's options as data: `prefix` (`"resilience:breaker:"`), `probeLease` (30 seconds),
 * `idleTimeToLive` (1 hour), `onStoreError` (`"allow"`), `storeTimeout` (100 millis) and
 * `retryStoreAfter` (1 second). `make` decodes its options through it.
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
  probeLease: withDefault(PositiveDelay, "30 seconds"),
  idleTimeToLive: withDefault(PositiveDelay, "1 hour"),
  onStoreError: withDefault(Schema.Literals(["allow", "reject"]), "allow"),
  storeTimeout: withDefault(PositiveDelay, "100 millis"),
  retryStoreAfter: withDefault(Delay, "1 second")
})

/**
 * Options of `make`.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Prepended to each breaker's name to make its key. Default `"resilience:breaker:"`. */
  readonly prefix?: string | undefined
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

/** Resolved options, in milliseconds. */
interface Resolved {
  readonly prefix: string
  readonly lease: number
  readonly idle: number
  readonly onStoreError: "allow" | "reject"
  readonly timeout: number
  readonly retryEvery: number
}

const resolve = (options: Options): Resolved | PolicyError => {
  const decoded = decodeOptions(StorePolicy, options)
  if (Result.isFailure(decoded)) return decoded.failure
  const policy = decoded.success
  return {
    prefix: policy.prefix,
    lease: Duration.toMillis(policy.probeLease),
    idle: Duration.toMillis(policy.idleTimeToLive),
    onStoreError: policy.onStoreError,
    timeout: Duration.toMillis(policy.storeTimeout),
    retryEvery: Duration.toMillis(policy.retryStoreAfter)
  }
}

/**
 * A store factory for `CircuitBreaker.make` / `keyed`, over Effect's `Redis` service (for Node,
 * `NodeRedis.layer` from `@effect/platform-node`; pass `disableOfflineQueue: true` so that calls
 * made while disconnected fail at once instead of waiting for the timeout). Fails with
 * `Policy.PolicyError` naming every bad option.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeRedis } from "@effect/platform-node"
 * import { CircuitBreaker } from "effect-resilience"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 *
 * declare const callPayments: Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* CircuitBreakerStore.make({ probeLease: "10 seconds", onStoreError: "allow" })
 *   const breaker = yield* CircuitBreaker.make({ name: "payments", trip: CircuitBreaker.consecutive(5), store })
 *   return yield* breaker.execute(callPayments)
 * }).pipe(Effect.scoped, Effect.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true })))
 * ```
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker.StoreFactory, PolicyError, Redis.Redis> =>
  Effect.gen(function*() {
    const resolved = resolve(options)
    if (!("prefix" in resolved)) return yield* Effect.fail(resolved)
    const redis = yield* Redis.Redis
    const clock = yield* Clock.Clock
    const context = yield* Effect.context<never>()
    const run = redis.eval(S.script)
    return {
      circuit: (name: string, config: M.Config): CircuitBreaker.Store => {
        const key = resolved.prefix + name
        const encoded = S.encodeConfig(config)
        const guard = new Guard({
          what: `breaker ${name}`,
          timeout: resolved.timeout,
          retryEvery: resolved.retryEvery,
          fallback: resolved.onStoreError === "allow" ? "failing open (this process's circuit decides)" : "failing closed (calls rejected)"
        }, clock)
        return {
          onUnavailable: resolved.onStoreError,
          apply: (event) => {
            const [code, ticket, slow, retryAfter] = S.encodeEvent(event)
            const call = run(key, code, ticket, slow, retryAfter, undefined, encoded, resolved.lease, resolved.idle)
            return guard.run(call).pipe(
              Effect.map((reply) => reply === undefined ? undefined : S.decodeReply(reply, config)),
              Effect.provideContext(context)
            )
          }
        }
      }
    }
  })

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
