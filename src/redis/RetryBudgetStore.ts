/**
 * RetryBudgetStore: the retry token bucket (`RetryBudget.tokenBucket`, AWS SDK style) kept in
 * Redis, so every process of a policy draws from one allowance and an outage cannot be amplified
 * by N processes each retrying on its own budget.
 *
 * Tokens are leased: a retry that finds no tokens in this process's lease takes up to
 * `leaseSize` tokens (at most half of what is left, at least the retry's cost) from the shared
 * bucket in one atomic Lua call, and the next retries spend from the lease without a round trip.
 * Leased tokens are debited from the shared bucket first, so the fleet never spends more than the
 * bucket held; what a lease changes is when: once the shared bucket reads empty, the fleet can
 * still spend what its leases hold, at most `processes × leaseSize` tokens. Each lease is recorded
 * in Redis with an expiry on Redis time (`leaseTimeToLive`). Unused leased tokens return to the
 * bucket with the next flush (every `flushEvery`) and when the scope closes; the lease of a process
 * that dies (killed, out of memory) comes back by itself once it expires, on the next script call
 * of any process, with what it held after the retry that took it. A process never spends from a
 * lease past its own deadline (measured from before it asked), so a live lease is never reclaimed
 * under it; the retries a dead process made from its lease after taking it come back with the
 * lease, so each process that dies can add at most one lease (`leaseSize`) to the bound.
 * `leaseSize: 0` spends one script call per retry.
 *
 * Refunds for successes are counted in memory (the budget's `onSuccess` hook is synchronous) and
 * sent with the next lease or by the background flush, so successful calls cost no round trip.
 * They are sent as this process's running total, so a flush whose reply was lost (a paused Redis)
 * is sent again with the next one and applied once, never twice and never dropped.
 * While Redis is unavailable, retries are decided by a local bucket of the same size
 * (`onStoreError: "allow"`) or denied (`"reject"`); the outage is logged once and Redis is tried
 * again later.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Result, Schedule, Schema, type Scope } from "effect"
import { Redis } from "effect/persistence"
import type { Transient } from "../Failure.ts"
import { IntBetween, PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import * as B from "../internal/redis/budgetScript.ts"
import { Guard, outageFields } from "../internal/redis/guard.ts"
import { decodeOptions } from "../internal/strict.ts"
import { bucketConfig, TokenBucket } from "../internal/tokenBucket.ts"
import { type RetryBudget, type Stats, type TokenBucketOptions, TokenBucketPolicy } from "../RetryBudget.ts"

/**
 * The shared bucket's options as data: a token bucket's fields (`RetryBudget.TokenBucketPolicy`)
 * plus `name`, `prefix`, `leaseSize` (25 tokens), `leaseTimeToLive` (10 seconds), `idleTimeToLive`
 * (1 hour), `flushEvery` (1
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
  leaseTimeToLive: withDefault(PositiveDelay, "10 seconds"),
  flushEvery: withDefault(PositiveDelay, "1 second"),
  ...outageFields
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
  /**
   * A lease not given back within this long (Redis time) returns to the bucket by itself: what a
   * process that died held comes back. The process stops spending from it earlier. Default 10 seconds.
   */
  readonly leaseTimeToLive?: Duration.Input | undefined
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
    const leaseTtl = Duration.toMillis(policy.leaseTimeToLive)
    const redis = yield* Redis.Redis
    const run = redis.eval(B.script)
    const key = policy.prefix + policy.name
    const clock = yield* Clock.Clock
    const guard = new Guard({
      what: `retry budget ${policy.name}`,
      timeout,
      retryEvery,
      fallback: mode === "allow" ? "retries are budgeted by this process alone" : "retries are denied"
    }, clock)
    const local = new TokenBucket(config)
    const leaseSize = policy.leaseSize
    /** Names this process's leases and refund total in Redis. */
    const owner = Math.random().toString(36).slice(2, 10)
    let leases = 0
    /**
     * The lease this process spends from without a round trip: its unspent tokens, and until
     * when (this process's clock, from before the request was sent: never after Redis' expiry).
     */
    let current: { readonly id: string; tokens: number; readonly until: number } | undefined
    /** Leases to give back with the next call, until a reply says they were. */
    const releases = new Map<string, number>()
    /** Refunds since this process started, and how many of them a reply acknowledged. */
    let refundTotal = 0
    let refundAcked = 0
    let available = config.capacity
    let requests = 0
    let granted = 0
    let denied = 0
    const costOf = (failure: Transient<unknown> | undefined) => failure !== undefined && failure.kind === "Timeout"
    const retire = () => {
      if (current !== undefined && current.tokens > 0) releases.set(current.id, current.tokens)
      current = undefined
    }
    /**
     * Sends refunds and leases to give back, and asks for a lease of at least `cost` tokens (0:
     * a flush): whether the lease was granted, or undefined when Redis is unavailable, with the
     * lease's id if the request was sent (Redis may grant it without this process learning it).
     * Nothing is forgotten before a reply: without one, the same totals and returns go with the
     * next call, and Redis applies each at most once.
     */
    const send = (cost: number) =>
      Effect.suspend(() => {
        const sent = Array.from(releases)
        const total = refundTotal
        const leaseId = `${owner}.${leases++}`
        const sentAt = clock.currentTimeMillisUnsafe()
        let attempted = false
        const call = Effect.suspend(() => {
          attempted = true
          return run({
            key,
            capacity: config.capacity,
            refundTotal: total,
            refundAcked,
            cost,
            idle,
            lease: leaseSize,
            leaseTtl,
            owner,
            leaseId,
            releases: B.encodeReleases(sent)
          })
        })
        return guard.run(call).pipe(
          // An interrupted retry was not made: a lease granted meanwhile goes back whole.
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              if (attempted && cost > 0) releases.set(leaseId, B.WHOLE)
            })
          ),
          Effect.map((reply): { readonly ok: boolean | undefined; readonly lost?: string } => {
            if (reply === undefined) return attempted && cost > 0 ? { ok: undefined, lost: leaseId } : { ok: undefined }
            for (const [id, n] of sent) if (releases.get(id) === n) releases.delete(id)
            refundAcked = Math.max(refundAcked, total)
            available = Number(reply[1])
            if (reply[0] === 0) return { ok: false }
            retire()
            current = { id: leaseId, tokens: reply[0], until: sentAt + leaseTtl }
            return { ok: true }
          })
        )
      })
    /** Unused leased tokens go back with pending refunds: a lease lives at most `flushEvery`. */
    const giveBack = Effect.suspend(() => {
      retire()
      return releases.size > 0 || refundTotal > refundAcked ? Effect.asVoid(send(0)) : Effect.void
    })
    yield* Effect.forkScoped(Effect.repeat(giveBack, Schedule.spaced(Duration.millis(flushEvery))).pipe(Effect.delay(Duration.millis(flushEvery))))
    yield* Effect.addFinalizer(() => giveBack)
    const statsUnsafe = (): Stats => ({
      strategy: "tokenBucket",
      available: available + (current?.tokens ?? 0),
      requests,
      retriesGranted: granted,
      retriesDenied: denied
    })
    const budget: RetryBudget = {
      onRequest: () => {
        requests++
      },
      onSuccess: (retried, last) => {
        refundTotal += retried ? local.costOf(costOf(last)) : config.noRetryIncrement
        local.refund(retried ? costOf(last) : undefined)
      },
      tryAcquire: (failure) =>
        Effect.suspend(() => {
          const cost = local.costOf(costOf(failure))
          const spend = (ok: boolean) => {
            if (ok) {
              current!.tokens -= cost
              granted++
            } else denied++
            return ok
          }
          if (current !== undefined && current.tokens >= cost) {
            // Past its deadline the lease is Redis' again (it may already be reclaimed).
            if (clock.currentTimeMillisUnsafe() < current.until) return Effect.succeed(spend(true))
            retire()
          }
          return Effect.map(send(cost), ({ lost, ok }) => {
            if (ok !== undefined) return spend(ok)
            const verdict = mode === "allow" ? local.tryAcquire(costOf(failure)) : false
            // Redis may have granted the lease after all: it goes back with the next call, with
            // the retry's cost unless this process made the retry on its own.
            if (lost !== undefined) releases.set(lost, verdict ? B.HELD : B.WHOLE)
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
