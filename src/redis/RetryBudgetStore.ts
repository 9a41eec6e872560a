/**
 * RetryBudgetStore: the retry token bucket (`RetryBudget.tokenBucket`, AWS SDK style) kept in
 * Redis, so every process of a policy draws from one allowance and an outage cannot be amplified
 * by N processes each retrying on its own budget.
 *
 * Tokens are leased: a retry that finds no tokens in this process's lease takes up to
 * `leaseSize` tokens (at most half of what is left, at least the retry's cost) from the shared
 * bucket in one atomic Lua call, and the next retries spend
 * from the lease without a round trip. Leased tokens are debited from the shared bucket first, so
 * the fleet never spends more than the bucket held; what a lease changes is when: once the shared
 * bucket reads empty, the fleet can still spend what its leases hold, at most
 * `processes × leaseSize` tokens. Unused leased tokens return to the bucket with the next flush
 * (every `flushEvery`) and when the scope closes; a process that dies loses its lease (fewer
 * retries, never more). `leaseSize: 0` spends one script call per retry.
 *
 * Refunds for successes are counted in memory (the budget's `onSuccess` hook is synchronous) and
 * sent with the next lease or by the background flush, so successful calls cost no round trip.
 * While Redis is unavailable, retries are decided by a local bucket of the same size
 * (`onStoreError: "allow"`) or denied (`"reject"`); the outage is logged once and Redis is tried
 * again later.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Result, Schedule, Schema, type Scope } from "effect"
import { Redis } from "effect/persistence"
import type { Transient } from "../Failure.ts"
import { Delay, IntBetween, PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import { Guard } from "../internal/redis/guard.ts"
import { decodeOptions } from "../internal/strict.ts"
import { bucketConfig, TokenBucket } from "../internal/tokenBucket.ts"
import { type RetryBudget, type Stats, type TokenBucketOptions, TokenBucketPolicy } from "../RetryBudget.ts"

/**
 * The shared bucket's options as data: a token bucket's fields (`RetryBudget.TokenBucketPolicy`)
 * plus `name`, `prefix`, `leaseSize` (25 tokens), `idleTimeToLive` (1 hour), `flushEvery` (1
 * second), `onStoreError` (`"allow"`), `storeTimeout` (100 millis) and `retryStoreAfter` (1
 * second). `tokenBucket` decodes its options through it.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RetryBudgetStore } from "effect-resilience/redis"
 * Schema.decodeUnknownSync(RetryBudgetStore.StorePolicy)({ name: "payments", storeTimeout: "50ms" })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const StorePolicy = Schema.Struct({
  ...TokenBucketPolicy.fields,
  name: Schema.NonEmptyString,
  prefix: withDefault(Schema.String, "resilience:budget:"),
  leaseSize: withDefault(IntBetween(0, 1_000_000), 25),
  idleTimeToLive: withDefault(PositiveDelay, "1 hour"),
  flushEvery: withDefault(PositiveDelay, "1 second"),
  onStoreError: withDefault(Schema.Literals(["allow", "reject"]), "allow"),
  storeTimeout: withDefault(PositiveDelay, "100 millis"),
  retryStoreAfter: withDefault(Delay, "1 second")
})

/**
 * Options of `tokenBucket`: the in-memory bucket's options plus where and how it is shared.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends TokenBucketOptions {
  /** Names the shared bucket: processes with the same name share one allowance. */
  readonly name: string
  /** Prepended to `name` to make the key. Default `"resilience:budget:"`. */
  readonly prefix?: string | undefined
  /**
   * Tokens taken from the shared bucket at once (at least a retry's cost); retries spend them
   * without a round trip. Bounds what the fleet can spend after the bucket reads empty:
   * processes × leaseSize. 0: one script call per retry. Default 25 (5 retries at the default cost).
   */
  readonly leaseSize?: number | undefined
  /** The key is dropped after this long unused (a full bucket is the same as none). Default 1 hour. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** How often pending refunds and unused leased tokens are sent back when no retry sends them. Default 1 second. */
  readonly flushEvery?: Duration.Input | undefined
  /** While Redis is unavailable: `"allow"` (a local bucket decides) or `"reject"` (deny retries). Default `"allow"`. */
  readonly onStoreError?: "allow" | "reject" | undefined
  /** A store call slower than this counts as unavailable. Default 100 millis. */
  readonly storeTimeout?: Duration.Input | undefined
  /** After a failed store call, retries skip Redis for this long. Default 1 second. */
  readonly retryStoreAfter?: Duration.Input | undefined
}

// KEYS[1] bucket; ARGV: capacity, refund, cost, idle ms, lease. Returns { tokens granted (0 when
// fewer than cost are left, else between cost and the lease, at most half of what was left unless
// that is less than cost), tokens left }.
const acquire = Redis.script(
  (key: string, capacity: number, refund: number, cost: number, idle: number, lease: number) => [key, capacity, refund, cost, idle, lease],
  {
    numberOfKeys: 1,
    lua: `
local capacity = tonumber(ARGV[1])
local refund = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local idle = tonumber(ARGV[4])
local lease = math.max(cost, tonumber(ARGV[5]) or 0)
local stored = redis.call("GET", KEYS[1])
local tokens = tonumber(stored or capacity)
if tokens == nil then
  return redis.error_reply("key " .. KEYS[1] .. " does not hold a retry budget (give each store its own prefix)")
end
tokens = math.min(capacity, tokens + refund)
local granted = 0
if cost > 0 then
  if tokens >= cost then
    -- At most half of what is left (at least one retry): the last tokens are spread, not hoarded.
    granted = math.max(cost, math.min(lease, math.floor(tokens / 2)))
    tokens = tokens - granted
  end
end
redis.call("SET", KEYS[1], string.format("%.17g", tokens), "PX", string.format("%.0f", idle))
return { granted, string.format("%.17g", tokens) }
`
  }
).withReturnType<readonly [number, string]>()

/**
 * A token bucket shared through Redis: the same rules and defaults as
 * `RetryBudget.tokenBucket` (capacity 500, a retry costs 5, a timeout's retry 10, a first-try
 * success refunds 1, a success after retries refunds its last retry's cost), with the level held
 * in one Redis key per `name`. Pass it as `budget` to `Retry.retry` in every process. Needs a
 * `Scope` for the background refund flush. Fails with `Policy.PolicyError` naming bad options.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeRedis } from "@effect/platform-node"
 * import { Retry } from "effect-resilience"
 * import { RetryBudgetStore } from "effect-resilience/redis"
 *
 * declare const call: Effect.Effect<string, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudgetStore.tokenBucket({ name: "payments", capacity: 500 })
 *   return yield* call.pipe(Retry.retry({ maxRetries: 3, budget }))
 * }).pipe(Effect.scoped, Effect.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true })))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const tokenBucket = (options: Options): Effect.Effect<RetryBudget, PolicyError, Redis.Redis | Scope.Scope> =>
  Effect.gen(function*() {
    const decoded = decodeOptions(StorePolicy, options)
    if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
    const policy = decoded.success
    const config = bucketConfig(policy)
    const idle = Duration.toMillis(policy.idleTimeToLive)
    const flushEvery = Duration.toMillis(policy.flushEvery)
    const timeout = Duration.toMillis(policy.storeTimeout)
    const retryEvery = Duration.toMillis(policy.retryStoreAfter)
    const mode = policy.onStoreError
    const redis = yield* Redis.Redis
    const run = redis.eval(acquire)
    const key = policy.prefix + policy.name
    const guard = new Guard({
      what: `retry budget ${policy.name}`,
      timeout,
      retryEvery,
      fallback: mode === "allow" ? "retries are budgeted by this process alone" : "retries are denied"
    }, yield* Clock.Clock)
    const local = new TokenBucket(config)
    const leaseSize = policy.leaseSize
    /** Tokens this process holds from the shared bucket, spent without a round trip. */
    let leased = 0
    let pending = 0
    let available = config.capacity
    let requests = 0
    let granted = 0
    let denied = 0
    const costOf = (failure: Transient<unknown> | undefined) => failure !== undefined && failure.kind === "Timeout"
    /**
     * Sends pending refunds and asks for a lease of at least `cost` tokens (0: refunds only);
     * whether the lease was granted, undefined when Redis is unavailable.
     */
    const send = (cost: number) =>
      Effect.suspend(() => {
        const refund = pending
        pending = 0
        return Effect.map(guard.run(run(key, config.capacity, refund, cost, idle, leaseSize)), (reply) => {
          if (reply === undefined) return undefined
          available = Number(reply[1])
          leased += reply[0]
          return reply[0] > 0
        })
      })
    /** Unused leased tokens go back with the refunds: a lease lives at most `flushEvery`. */
    const giveBack = Effect.suspend(() => {
      pending += leased
      leased = 0
      return pending > 0 ? Effect.asVoid(send(0)) : Effect.void
    })
    yield* Effect.forkScoped(Effect.repeat(giveBack, Schedule.spaced(Duration.millis(flushEvery))).pipe(Effect.delay(Duration.millis(flushEvery))))
    yield* Effect.addFinalizer(() => giveBack)
    const statsUnsafe = (): Stats => ({ strategy: "tokenBucket", available: available + leased, requests, retriesGranted: granted, retriesDenied: denied })
    const budget: RetryBudget = {
      onRequest: () => {
        requests++
      },
      onSuccess: (retried, last) => {
        pending += retried ? local.costOf(costOf(last)) : config.noRetryIncrement
        local.refund(retried ? costOf(last) : undefined)
      },
      tryAcquire: (failure) =>
        Effect.suspend(() => {
          const cost = local.costOf(costOf(failure))
          const spend = (ok: boolean) => {
            if (ok) {
              leased -= cost
              granted++
            } else denied++
            return ok
          }
          if (leased >= cost) return Effect.succeed(spend(true))
          return Effect.map(send(cost), (ok) => {
            if (ok !== undefined) return spend(ok)
            const verdict = mode === "allow" ? local.tryAcquire(costOf(failure)) : false
            if (verdict) granted++
            else denied++
            return verdict
          })
        }),
      stats: Effect.sync(() => statsUnsafe()),
      statsUnsafe
    }
    return budget
  })
