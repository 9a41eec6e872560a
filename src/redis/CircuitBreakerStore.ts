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
import { type Clock, type Context, Deferred, Duration, Effect, Exit, Layer, Queue, Result, Schedule, Schema, Scope } from "effect"
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
import { NearCircuit } from "../internal/redis/nearCircuit.ts"
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

/** Resolved options, in milliseconds. */
interface Resolved {
  readonly prefix: string
  readonly consistency: "nearCache" | "strict"
  readonly flushInterval: number
  readonly heartbeat: number
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
    this.guard = guardOf(store, name, clock)
  }

  call(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = ""): Effect.Effect<S.Reply, unknown> {
    return scriptCall(this.store, this.key, this.encoded, code, ticket, slow, retryAfter, lease, "")
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
  /** Where the script publishes transitions. */
  readonly channel: string
}

const guardOf = (store: StoreContext, name: string, clock: Clock.Clock): Guard =>
  new Guard({
    what: `breaker ${name}`,
    timeout: store.resolved.timeout,
    retryEvery: store.resolved.retryEvery,
    fallback: store.resolved.onStoreError === "allow"
      ? "failing open (this process's circuit decides)"
      : "failing closed (calls rejected)"
  }, clock)

const scriptCall = (
  store: StoreContext,
  key: string,
  encoded: string,
  code: S.Code,
  ticket: number,
  slow: boolean,
  retryAfter: number | undefined,
  lease: string,
  runs: string
): Effect.Effect<S.Reply, unknown> => {
  const { resolved, run } = store
  return Effect.provideContext(
    run(key, code, ticket, slow, retryAfter, undefined, encoded, resolved.lease, resolved.idle, lease, store.channel, runs),
    store.context
  )
}

/** The channel a store's script publishes transitions on (one per prefix). */
const channelOf = (prefix: string): string => `${prefix}~transitions`

/**
 * The near cache's moving parts, one set per store: the replicas by key (to deliver published
 * transitions), a ticker that flushes dirty replicas every `flushInterval` (and polls every
 * replica while the subscription is down), a queue of urgent flushes, and the subscription with
 * its heartbeat.
 */
const nearCache = (store: StoreContext, redis: Redis.Redis["Service"]) =>
  Effect.gen(function*() {
    const { resolved } = store
    const replicas = new Map<string, Set<NearCircuit>>()
    const dirty = new Set<NearCircuit>()
    /** Replicas Redis did not answer (polled until it does). */
    const down = new Set<NearCircuit>()
    const urgent = yield* Queue.unbounded<NearCircuit>()
    let subscribed = false
    let pingSent = 0
    let pingSeen = 0
    /** The number of the last transition published on the channel that this store knows of. */
    let lastSeq: number | undefined = undefined
    let nextLease = 0
    const each = (f: (replica: NearCircuit) => Effect.Effect<void>, of: Iterable<NearCircuit>) =>
      Effect.forEach(Array.from(of), f, { concurrency: "unbounded", discard: true })
    const all = () => Array.from(replicas.values(), (set) => Array.from(set)).flat()
    const tick = Effect.suspend(() => {
      const due = Array.from(dirty)
      dirty.clear()
      const flushes = each((r) => r.flush, due)
      // Unavailable replicas poll (the guard spaces the attempts); all of them while the subscription is down.
      for (const r of down) if (!r.unavailable) down.delete(r)
      return Effect.andThen(flushes, each((r) => r.poll, subscribed ? down : all()))
    })
    const onMessage = (message: string) => {
      if (message.startsWith("~ping ")) {
        const [, id, n] = message.split(" ")
        if (id === store.id) {
          const seen = Number(n)
          // Back after a gap: what was published meanwhile is lost, read every circuit once.
          const catchUp = !subscribed
          pingSeen = seen
          subscribed = true
          return catchUp
        }
        return false
      }
      const [key = "", encoded = "", at = "0", from = "", reason = "", seq = "0"] = message.split("\n")
      const set = replicas.get(key)
      if (set !== undefined) for (const r of set) r.onMessage(encoded, Number(at), reason, from)
      return numbered(Number(seq))
    }
    /** Notes a transition's number; true when one before it never arrived (read every circuit again). */
    const numbered = (seq: number): boolean => {
      const missed = lastSeq !== undefined && seq > lastSeq + 1
      if (lastSeq === undefined || seq > lastSeq) lastSeq = seq
      return missed
    }
    const listen = (ready: Deferred.Deferred<void>) => Effect.scoped(Effect.gen(function*() {
      const queue = yield* redis.subscribe(store.channel)
      yield* Deferred.succeed(ready, undefined)
      // Subscribed (the queue fails if the connection is lost for good): confirmed by the first ping's echo.
      subscribed = true
      while (true) {
        const message = yield* Queue.take(queue)
        if (onMessage(message.message)) yield* each((r) => r.poll, all())
      }
    })).pipe(
      Effect.catchCause(() => Effect.sync(() => (subscribed = false))),
      Effect.andThen(Deferred.succeed(ready, undefined)),
      Effect.andThen(Effect.sleep(resolved.heartbeat))
    )
    // The heartbeat: how many transitions were published (any this store missed while its
    // subscription was reconnecting is read back at once), and a ping through the subscription.
    const ping = Effect.suspend(() => {
      // The last ping did not come back through the subscription: it is down until one does.
      if (pingSeen < pingSent) subscribed = false
      pingSent++
      const check = Effect.flatMap(redis.send<string | null>("GET", store.channel), (count) => {
        // Published, not received: the subscription lost it (or it is still on its way: one extra read).
        const n = Number(count ?? 0)
        const missed = lastSeq !== undefined && n > lastSeq
        if (lastSeq === undefined || n > lastSeq) lastSeq = n
        return Effect.andThen(
          redis.send("PUBLISH", store.channel, `~ping ${store.id} ${pingSent}`),
          missed ? each((r) => r.poll, all()) : Effect.void
        )
      })
      return check.pipe(
        Effect.timeoutOption(resolved.timeout),
        Effect.result,
        // No answer: every replica falls back (or rejects) until its own poll gets one, as a call would.
        Effect.map((result) => {
          if (result._tag === "Failure" || result.success._tag === "None") for (const r of all()) r.markUnavailable()
        })
      )
    })
    /** The background work: the ticker, urgent flushes, the subscription and the heartbeat. */
    const machinery = Effect.gen(function*() {
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(resolved.flushInterval), tick)))
      yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(urgent), (r) => Effect.forkChild(r.flush))))
      const ready = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.forever(listen(ready)))
      yield* Effect.forkScoped(Effect.repeat(ping, Schedule.spaced(resolved.heartbeat)).pipe(Effect.delay(resolved.heartbeat)))
      // Wait (bounded) for the first subscription attempt, so a store starts with its channel
      // open, and learn how many transitions were published before it.
      yield* Deferred.await(ready).pipe(Effect.timeoutOption(resolved.timeout))
      yield* redis.send<string | null>("GET", store.channel).pipe(
        Effect.timeoutOption(resolved.timeout),
        Effect.map((count) => {
          if (count._tag === "Some") lastSeq = Number(count.value ?? 0)
        }),
        Effect.ignore
      )
    })
    // It runs while anyone holds the store: its own scope and every breaker made with it (a store
    // provided to `CircuitBreaker.make` alone would otherwise stop when `make` returns).
    let holders = 0
    let running: Scope.Closeable | undefined
    const retain: Effect.Effect<void, never, Scope.Scope> = Effect.acquireRelease(
      Effect.suspend(() => {
        holders++
        if (running !== undefined) return Effect.void
        return Effect.flatMap(Scope.make(), (scope) => {
          running = scope
          return Scope.provide(machinery, scope)
        })
      }),
      () =>
        Effect.suspend(() => {
          holders--
          const scope = running
          if (holders > 0 || scope === undefined) return Effect.void
          running = undefined
          return Scope.close(scope, Exit.void)
        })
    )
    yield* retain
    return {
      retain,
      circuit: (name: string, config: CircuitConfig, clock: Clock.Clock): StoredCircuit => {
        const key = resolved.prefix + name
        const encoded = S.encodeConfig(config)
        const replica: NearCircuit = new NearCircuit(config, clock, guardOf(store, name, clock), {
          call: (code, ticket, slow, retryAfter, lease, runs) => scriptCall(store, key, encoded, code, ticket, slow, retryAfter, lease, runs),
          onStoreError: resolved.onStoreError,
          nextLease: () => `${store.id}.${nextLease++}`,
          down: (r) => {
            down.add(r)
          },
          dirty: (r, now) => {
            if (now) Queue.offerUnsafe(urgent, r)
            else dirty.add(r)
          },
          forget: (r) => {
            down.delete(r)
            dirty.delete(r)
            const set = replicas.get(key)
            if (set !== undefined && set.delete(r) && set.size === 0) replicas.delete(key)
          }
        })
        const set = replicas.get(key)
        if (set === undefined) replicas.set(key, new Set([replica]))
        else set.add(replica)
        return replica
      }
    }
  })

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
