/**
 * The near-cache Redis breaker store: the replicas of this process by key, a ticker that flushes
 * dirty replicas every flush interval (and polls the ones Redis did not answer, or every one
 * while the subscription is down), the subscription that delivers published transitions, and a
 * heartbeat that finds lost publications and a silent subscription. The replica itself is
 * `nearCircuit.ts`.
 *
 * @internal
 */
import { type Clock, Deferred, Effect, Exit, Queue, Schedule, Scope } from "effect"
import type { Redis } from "effect/persistence"
import type { CircuitConfig, StoredCircuit, StoreService } from "../breaker/model.ts"
import * as S from "./breakerScript.ts"
import { NearCircuit } from "./nearCircuit.ts"
import { guardOf, scriptCall, type StoreContext } from "./storeContext.ts"

/**
 * The near cache's moving parts, one set per store: the replicas by key (to deliver published
 * transitions), a ticker that flushes dirty replicas every `flushInterval` (and polls every
 * replica while the subscription is down), a queue of urgent flushes, and the subscription with
 * its heartbeat.
 */
export const nearCache = (store: StoreContext, redis: Redis.Redis["Service"]): Effect.Effect<StoreService, never, Scope.Scope> =>
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
      // Subscribed (the queue fails if the connection is lost for good). Subscribed again after a
      // failure: what was published meanwhile is lost, read every circuit once.
      const again = !subscribed
      subscribed = true
      if (again) yield* each((r) => r.poll, all())
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

