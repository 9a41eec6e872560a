/**
 * Keyed circuits: one circuit per key, made on first use, sharing a family (options, store,
 * publisher). A background sweep drops circuits that are idle and whose state no longer matters
 * (closed and quiet, see `forgettable`); open, half-open and isolated circuits are kept. The
 * number of circuits is capped: at the cap the oldest forgettable circuits make room, else the
 * oldest closed one; with every circuit open, a new key runs on a circuit that is not kept. Drops
 * are counted and published by the sweep, not per call.
 *
 * @internal
 */
import { Effect, type Scope, Stream } from "effect"
import { Circuit, type Family } from "./circuit.ts"
import type { BreakerOpen } from "./errors.ts"
import { publishEvictions, type Transition } from "./publish.ts"

/** The keyed family's operations (the public `CircuitBreaker.Keyed`). */
export interface KeyedCircuits<in K> {
  readonly get: (key: K) => Effect.Effect<Circuit>
  readonly execute: <A, E, R>(key: K, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BreakerOpen, R>
  readonly changes: Stream.Stream<Transition>
  readonly size: Effect.Effect<number>
}

/** Makes a keyed family; its sweep runs in the scope. */
export const makeKeyed = <K>(
  family: Family,
  name: string,
  options: { readonly idleTimeToLive: number; readonly maxCircuits: number }
): Effect.Effect<KeyedCircuits<K>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { idleTimeToLive: ttl, maxCircuits } = options
    const clock = family.clock
    const circuits = new Map<K, Circuit>()
    let idleDrops = 0
    let capacityDrops = 0
    let published = { idle: 0, capacity: 0 }

    /** At the cap: drop up to a tenth of the cap of the oldest circuits whose state no longer matters. */
    const makeRoom = (now: number): void => {
      const want = Math.max(1, Math.ceil(maxCircuits / 10))
      let dropped = 0
      for (const [key, circuit] of circuits) {
        if (!circuit.forgettable(now)) continue
        circuits.delete(key)
        if (++dropped >= want) break
      }
      if (dropped === 0) {
        // Every circuit still matters: drop the oldest closed one rather than grow without bound.
        for (const [key, circuit] of circuits) {
          if (circuit.local !== undefined && !circuit.local.admitClosed()) continue
          circuits.delete(key)
          dropped = 1
          break
        }
      }
      capacityDrops += dropped
    }

    const circuitFor = (key: K): Circuit => {
      let circuit = circuits.get(key)
      if (circuit === undefined) {
        circuit = new Circuit(family, `${name}/${String(key)}`)
        if (circuits.size >= maxCircuits) makeRoom(clock.currentTimeMillisUnsafe())
        // With every circuit open or isolated, the new key runs on a circuit that is not kept.
        if (circuits.size < maxCircuits) circuits.set(key, circuit)
      }
      return circuit
    }

    const sweep = Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
      for (const [key, circuit] of circuits) {
        if (circuit.touched) {
          circuit.touched = false
          circuit.idleSweeps = 0
          continue
        }
        // Sweeps run every ttl / 2: idle for two of them is idle for ttl.
        if (++circuit.idleSweeps >= 2 && circuit.forgettable(now)) {
          circuits.delete(key)
          idleDrops++
        }
      }
      const idle = idleDrops - published.idle
      const capacity = capacityDrops - published.capacity
      published = { idle: idleDrops, capacity: capacityDrops }
      return Effect.andThen(
        publishEvictions(family.publisher, name, "idle", idle),
        publishEvictions(family.publisher, name, "capacity", capacity)
      )
    })
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(Math.max(1, ttl / 2)), sweep)))
    return {
      get: (key) => Effect.sync(() => circuitFor(key)),
      execute: (key, effect) => Effect.suspend(() => circuitFor(key).execute(effect)),
      changes: Stream.fromPubSub(family.publisher.pubsub),
      size: Effect.sync(() => circuits.size)
    }
  })
