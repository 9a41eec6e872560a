/**
 * Publishing a breaker's changes: the `changes` stream, the state gauge, the transitions and
 * rejections counters, and one log line per change. Rejections are counted in memory per circuit
 * and published with the next change or stats read, so a rejection costs no metric update.
 *
 * The metrics are passed in (they are `Telemetry`'s, so a pipeline and a standalone breaker report
 * to the same series).
 *
 * @internal
 */
import { Effect, Metric, PubSub } from "effect"
import { sameSeries } from "../metrics.ts"
import type { Change, StateTag } from "./model.ts"

/** A transition as published on `changes`. */
export interface Transition extends Change {
  readonly name: string
}

/** Where changes go. */
export interface Sinks {
  readonly state: Metric.Metric<number, unknown>
  readonly transitions: Metric.Metric<number, unknown>
  readonly rejections: Metric.Metric<number, unknown>
  readonly evictions: Metric.Metric<number, unknown>
  readonly stateValue: (tag: StateTag) => number
}

/** What one breaker (or keyed family) publishes to. */
export interface Publisher {
  readonly pubsub: PubSub.PubSub<Transition>
  readonly log: boolean
  readonly sinks: Sinks
  /** Per circuit name, its sinks with its attributes, made on its first change (see `sinksOf`). */
  readonly attributed?: Map<string, CircuitSinks> | undefined
}

type Sink = Metric.Metric<number, unknown>

/** One circuit's sinks with its attributes, each made when first needed. */
interface CircuitSinks {
  state: Sink | undefined
  rejections: Sink | undefined
  readonly transitions: Partial<Record<StateTag, Partial<Record<StateTag, Sink>>>>
}

/** How many circuits' sinks a publisher keeps (a keyed family's circuits come and go). */
const MAX_ATTRIBUTED = 1024

/**
 * A circuit's sinks, kept per publisher, each wrapping a metric of its own (`sameSeries`): a sink
 * computes its series key (sorted, serialised attributes) on its first update and keeps it, so a
 * half-open probe's two changes update four series without serialising attributes again. Bounded:
 * past `MAX_ATTRIBUTED` circuits the cache starts over (the series stay in the registry).
 */
const sinksOf = (publisher: Publisher, name: string): CircuitSinks => {
  const cache = publisher.attributed
  let sinks = cache?.get(name)
  if (sinks === undefined) {
    sinks = { state: undefined, rejections: undefined, transitions: {} }
    if (cache !== undefined) {
      if (cache.size >= MAX_ATTRIBUTED) cache.clear()
      cache.set(name, sinks)
    }
  }
  return sinks
}

/** Publishes one circuit's change. */
export const publish = (publisher: Publisher, name: string, change: Change): Effect.Effect<void> => {
  const { log, pubsub, sinks } = publisher
  const { from, to } = change
  const transition: Transition = { name, from, to, at: change.at, reason: change.reason }
  const own = sinksOf(publisher, name)
  const state = own.state ??= Metric.withAttributes(sameSeries(sinks.state), { operation: name })
  const fromHere = own.transitions[from] ??= {}
  const transitions = fromHere[to] ??= Metric.withAttributes(sameSeries(sinks.transitions), { operation: name, from, to })
  const effects: Array<Effect.Effect<unknown>> = [
    PubSub.publish(pubsub, transition),
    Metric.update(state, sinks.stateValue(to)),
    Metric.update(transitions, 1)
  ]
  if (log) {
    const line = `Circuit breaker ${name}: ${from} -> ${to} (${change.reason})`
    const entry = to === "Open" || to === "Isolated" ? Effect.logWarning(line) : Effect.logInfo(line)
    effects.push(entry.pipe(Effect.annotateLogs({ breaker: name, from, to, reason: change.reason })))
  }
  return Effect.all(effects, { discard: true })
}

/** Publishes rejections counted since the last time (a no-op when there are none). */
export const publishRejections = (publisher: Publisher, name: string, delta: number): Effect.Effect<void> =>
  delta === 0
    ? Effect.void
    : Metric.update(
      sinksOf(publisher, name).rejections ??= Metric.withAttributes(sameSeries(publisher.sinks.rejections), {
        operation: name,
        reason: "circuit_open"
      }),
      delta
    )

/** Sets a new circuit's state on the gauge (dashboards see a closed circuit from the start). */
export const publishInitial = (publisher: Publisher, name: string): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(publisher.sinks.state, { operation: name }), publisher.sinks.stateValue("Closed"))

/** Counts keyed circuits dropped. */
export const publishEvictions = (publisher: Publisher, name: string, reason: "idle" | "capacity", count: number): Effect.Effect<void> =>
  count === 0 ? Effect.void : Metric.update(Metric.withAttributes(publisher.sinks.evictions, { operation: name, reason }), count)
