/**
 * CircuitBreakerStore: where circuit breakers keep their circuits' states. A breaker asks its
 * store to admit each call and tells it each call's outcome; the store applies the breaker's
 * transition rules atomically and answers in plain words: an admission (with an opaque fencing
 * token, and whether the call is a half-open probe) or a rejection, and the change of state an
 * event caused, if any.
 *
 * The default store keeps state in this process's memory; a breaker made without this service in
 * its context uses it. `effect-resilience/redis` provides a store shared by every process of a
 * fleet (`CircuitBreakerStore.layer` there). A store that decides admission in this process can
 * also offer `local`, synchronous access the breaker uses on its hot path.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { memoryCircuit } from "./internal/breaker/memory.ts"
import type * as Model from "./internal/breaker/model.ts"

/**
 * The tag of a circuit's state.
 *
 * @since 0.1.0
 * @category models
 */
export type StateTag = Model.StateTag

/**
 * Calls flow; failures are counted.
 *
 * @since 0.1.0
 * @category models
 */
export type Closed = Model.Closed

/**
 * Calls are rejected until `until` (ms since the epoch).
 *
 * @since 0.1.0
 * @category models
 */
export type Open = Model.Open

/**
 * A few probe calls test the dependency.
 *
 * @since 0.1.0
 * @category models
 */
export type HalfOpen = Model.HalfOpen

/**
 * Forced open by `isolate` until `reset`.
 *
 * @since 0.1.0
 * @category models
 */
export type Isolated = Model.Isolated

/**
 * A circuit's state.
 *
 * @since 0.1.0
 * @category models
 */
export type State = Model.State

/**
 * Why a circuit changed state.
 *
 * @since 0.1.0
 * @category models
 */
export type Reason = Model.Reason

/**
 * A change of state caused by one event; `at` is in ms since the epoch (the store's time).
 *
 * @since 0.1.0
 * @category models
 */
export type Change = Model.Change

/**
 * Names the state a call was admitted in. Pass it back with the call's outcome: an outcome whose
 * token no longer names the circuit's current half-open round (the circuit moved on, or the
 * admission was released) changes nothing. Only the store that issued it reads it.
 *
 * @since 0.1.0
 * @category models
 */
export type Token = Model.Token

/**
 * A store's answer to a call: let in (a probe when the circuit is half-open) or rejected, with
 * the change of state the admission caused (an open circuit whose period ended half-opens).
 *
 * @since 0.1.0
 * @category models
 */
export type Admission = Model.Admission

/**
 * What a finished call means for its circuit. `slow` marks a call slower than a slow-call rule's
 * threshold; `retryAfterMillis` is a server's hint that stretches the next open period.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = Model.Outcome

/**
 * Events not tied to a call: `Tick` applies time-driven changes (an open period that ended),
 * `Healthy` is a passing health check, `Isolate` and `Reset` are the manual overrides.
 *
 * @since 0.1.0
 * @category models
 */
export type Signal = Model.Signal

/**
 * A circuit's state as read (after a `Tick`), the store's time, the failure and slow-call rates
 * its windows see (undefined without rate rules or outside the closed state), and the change the
 * tick caused.
 *
 * @since 0.1.0
 * @category models
 */
export type Snapshot = Model.Snapshot

/**
 * Where a rate rule looks: the last `size` calls, or the calls of the last `millis` counted in
 * `buckets`.
 *
 * @since 0.1.0
 * @category models
 */
export type WindowSpec = Model.WindowSpec

/**
 * A trip rule in milliseconds, as a store applies it.
 *
 * @since 0.1.0
 * @category models
 */
export type TripRule = Model.TripRule

/**
 * A breaker's decoded options in milliseconds: what a store needs to apply its rules.
 *
 * @since 0.1.0
 * @category models
 */
export type CircuitConfig = Model.CircuitConfig

/**
 * Synchronous access to a circuit whose store decides in this process. The breaker then admits
 * calls to a closed circuit without a store effect, and records a success that changes nothing
 * without calling the store at all. A store whose rejections change nothing may also offer the
 * optional `retryAfterAt(now)`, which the breaker asks instead of `admitAt` once `rejectsAt(now)`
 * said yes. Only call these from inside an effect.
 *
 * @since 0.1.0
 * @category models
 */
export type LocalCircuit = Model.LocalCircuit

/**
 * One circuit's state in a store. Every effect answers; a store that cannot reach its backend
 * decides by its own fallback (it never fails a call by itself).
 *
 * @since 0.1.0
 * @category models
 */
export type StoredCircuit = Model.StoredCircuit

/**
 * The store service: opens one circuit per breaker name (`<name>/<key>` for keyed circuits).
 * `clock` is the breaker's clock, for stores that keep time in this process.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, CircuitBreakerStore } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" })
 *   return yield* breaker.execute(Effect.succeed("paid"))
 * }).pipe(Effect.scoped, Effect.provide(CircuitBreakerStore.layerMemory))
 * ```
 * @since 0.1.0
 * @category services
 */
export class CircuitBreakerStore extends Context.Service<CircuitBreakerStore, Model.StoreService>()("effect-resilience/CircuitBreakerStore") {}

/**
 * The in-memory store: each circuit is a state in this process, changed by one synchronous
 * read-modify-write per event on the breaker's clock. Breakers of the same name made from it keep
 * separate circuits.
 *
 * @example
 * ```ts
 * import { CircuitBreakerStore } from "effect-resilience"
 * const store = CircuitBreakerStore.memory
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const memory: CircuitBreakerStore["Service"] = { circuit: memoryCircuit }

/**
 * Provides the in-memory store (what a breaker uses when no store is provided).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreakerStore } from "effect-resilience"
 * declare const program: Effect.Effect<void, never, CircuitBreakerStore.CircuitBreakerStore>
 * const runnable = program.pipe(Effect.provide(CircuitBreakerStore.layerMemory))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CircuitBreakerStore> = Layer.succeed(CircuitBreakerStore, memory)

/**
 * The store a breaker uses: the `CircuitBreakerStore` of its context, or the in-memory store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreakerStore } from "effect-resilience"
 * const store = Effect.runSync(CircuitBreakerStore.current)
 * ```
 * @since 0.1.0
 * @category accessors
 */
export const current: Effect.Effect<CircuitBreakerStore["Service"]> = Effect.map(
  Effect.serviceOption(CircuitBreakerStore),
  (found) => (found._tag === "Some" ? found.value : memory)
)
