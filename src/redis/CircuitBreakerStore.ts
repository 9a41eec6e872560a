/**
 * CircuitBreakerStore: circuits shared by every process of a fleet, kept in Redis. Provide
 * `layer(options)` and every breaker made in its scope (`CircuitBreaker.make`, `keyed`) keeps its
 * circuit there: each admission and each counted outcome is one atomic Lua script call (EVALSHA)
 * that runs the very transition function of the in-memory breaker, with time from Redis `TIME`,
 * so client clocks do not matter. Half-open probes are counted across processes, and each probe
 * slot is a named lease that expires if its process dies. An admission that got no reply within
 * `storeTimeout` is released by name, so a late reply never holds a probe slot. Keys are
 * `prefix + breaker name` and expire after `idleTimeToLive` without calls.
 *
 * When Redis is down or slower than `storeTimeout`, calls fail open (`onStoreError: "allow"`:
 * this process's in-memory circuit decides, counting locally) or closed (`"reject"`); the outage
 * is logged once, and Redis is tried again every `retryStoreAfter` until it answers.
 *
 * @since 0.1.0
 */
import { type Clock, type Context, Duration, Effect, Layer, Result, Schema } from "effect"
import { Redis } from "effect/persistence"
import * as Stores from "../CircuitBreakerStore.ts"
import * as M from "../internal/breaker/machine.ts"
import { MemoryCircuit } from "../internal/breaker/memory.ts"
import type { Admission, Change, CircuitConfig, Outcome, Signal, Snapshot, StoredCircuit, Token } from "../internal/breaker/model.ts"
import { signalEvents, toEvent, toPublic } from "../internal/breaker/translate.ts"
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
 * @category models
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

/** The fencing token of an admission: by Redis (its ticket and probe lease) or, while Redis is unavailable, by the local circuit. */
type RedisToken =
  | { readonly remote: true; readonly ticket: number; readonly lease: string; readonly quiet: boolean }
  | { readonly remote: false; readonly token: Token }

const toToken = (token: RedisToken): Token => token as unknown as Token
const fromToken = (token: Token): RedisToken => token as unknown as RedisToken

/** One circuit kept in Redis, with this process's in-memory circuit as the fallback while Redis is unavailable. */
class RedisCircuit implements StoredCircuit {
  readonly local = undefined
  readonly fallback: MemoryCircuit
  readonly guard: Guard
  readonly encoded: string
  /** A success changes nothing in a closed circuit without failures when no rule keeps a window or times calls. */
  readonly windowed: boolean
  nextLease = 0
  readonly store: StoreContext
  readonly key: string
  readonly config: CircuitConfig

  constructor(store: StoreContext, key: string, config: CircuitConfig, clock: Clock.Clock, name: string) {
    this.store = store
    this.key = key
    this.config = config
    this.fallback = new MemoryCircuit(config, clock)
    this.encoded = S.encodeConfig(config)
    this.windowed = M.hasWindows(config)
    this.guard = new Guard({
      what: `breaker ${name}`,
      timeout: store.resolved.timeout,
      retryEvery: store.resolved.retryEvery,
      fallback: store.resolved.onStoreError === "allow"
        ? "failing open (this process's circuit decides)"
        : "failing closed (calls rejected)"
    }, clock)
  }

  call(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = ""): Effect.Effect<S.Reply, unknown> {
    const { resolved, run } = this.store
    return Effect.provideContext(
      run(this.key, code, ticket, slow, retryAfter, undefined, this.encoded, resolved.lease, resolved.idle, lease),
      this.store.context
    )
  }

  /** Runs one event through the guard; `undefined` while Redis is unavailable. */
  apply(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = "", abandoned?: Effect.Effect<unknown, unknown>) {
    return Effect.map(
      this.guard.run(this.call(code, ticket, slow, retryAfter, lease), abandoned),
      (reply) => (reply === undefined ? undefined : S.decodeReply(reply, this.config))
    )
  }

  get admit(): Effect.Effect<Admission> {
    return Effect.suspend(() => {
      const lease = `${this.store.id}.${this.nextLease++}`
      // An admission that got no reply in time may still be applied later: release its slot by name.
      const release = Effect.timeout(this.call("L", 0, false, undefined, lease), this.store.resolved.lease)
      return Effect.map(this.apply("A", 0, false, undefined, lease, release), (reply): Admission => {
        if (reply === undefined) {
          if (this.store.resolved.onStoreError === "reject") return { _tag: "Rejected", retryAfterMillis: undefined, change: undefined }
          const local = this.fallback.admitAt(this.fallback.clock.currentTimeMillisUnsafe())
          return local._tag === "Rejected" ? local : { ...local, token: toToken({ remote: false, token: local.token }) }
        }
        const [state, change, ticket] = reply.step
        if (ticket === -1) return { _tag: "Rejected", retryAfterMillis: M.retryAfter(state, reply.now), change }
        const quiet = state._tag === "Closed" && state.failures === 0 && !this.windowed
        return { _tag: "Admitted", token: toToken({ remote: true, ticket, lease, quiet }), probe: state._tag === "HalfOpen", change }
      })
    })
  }

  record(token: Token, outcome: Outcome): Effect.Effect<Change | undefined> {
    const t = fromToken(token)
    if (!t.remote) return this.fallback.record(t.token, outcome)
    if (t.quiet && outcome._tag === "Success" && !outcome.slow) return Effect.succeed(undefined)
    const event = toEvent(t.ticket, outcome)
    const [code, ticket, slow, retryAfter] = S.encodeEvent(event)
    return Effect.map(this.apply(code, ticket, slow, retryAfter, t.lease), (reply) => reply?.step[1])
  }

  signal(signal: Signal): Effect.Effect<Change | undefined> {
    const [code] = S.encodeEvent(signalEvents[signal])
    const remote = Effect.map(this.apply(code), (reply) => reply?.step[1])
    // A reset also clears what this process counted while Redis was unavailable.
    return signal === "Reset" ? Effect.tap(remote, () => this.fallback.signal("Reset")) : remote
  }

  get read(): Effect.Effect<Snapshot> {
    return Effect.flatMap(this.apply("T"), (reply) => {
      if (reply === undefined) return this.fallback.read
      const state = reply.step[0]
      return Effect.succeed({ state: toPublic(state), now: reply.now, rates: M.rates(state, this.config, reply.now), change: reply.step[1] })
    })
  }
}

/** What every circuit of one store shares. */
interface StoreContext {
  readonly resolved: Resolved
  readonly run: (...args: Parameters<typeof S.script["params"]>) => Effect.Effect<S.Reply, Redis.RedisError>
  readonly context: Context.Context<never>
  /** Names this store's probe leases apart from other processes'. */
  readonly id: string
}

/**
 * A Redis store, over Effect's `Redis` service (for Node, `NodeRedis.layer` from
 * `@effect/platform-node`; pass `disableOfflineQueue: true` so that calls made while disconnected
 * fail at once instead of waiting for the timeout). Fails with `Policy.PolicyError` naming every
 * bad option. Most programs provide it with `layer` instead.
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
export const make = (options: Options = {}): Effect.Effect<Stores.CircuitBreakerStore["Service"], PolicyError, Redis.Redis> =>
  Effect.gen(function*() {
    const resolved = resolve(options)
    if (!("prefix" in resolved)) return yield* Effect.fail(resolved)
    const redis = yield* Redis.Redis
    const store: StoreContext = {
      resolved,
      run: redis.eval(S.script),
      context: yield* Effect.context<never>(),
      id: Math.random().toString(36).slice(2, 10)
    }
    return {
      circuit: (name: string, config: CircuitConfig, clock: Clock.Clock): StoredCircuit =>
        new RedisCircuit(store, resolved.prefix + name, config, clock, name)
    }
  })

/**
 * Provides circuits shared through Redis to every breaker made in its scope: each admission and
 * each counted outcome is one atomic script call, half-open probes are counted fleet-wide.
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
