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
}

/** Publishes one circuit's change. */
export const publish = (publisher: Publisher, name: string, change: Change): Effect.Effect<void> => {
  const { log, pubsub, sinks } = publisher
  const transition: Transition = { name, from: change.from, to: change.to, at: change.at, reason: change.reason }
  const effects: Array<Effect.Effect<unknown>> = [
    PubSub.publish(pubsub, transition),
    Metric.update(Metric.withAttributes(sinks.state, { operation: name }), sinks.stateValue(change.to)),
    Metric.update(Metric.withAttributes(sinks.transitions, { operation: name, from: change.from, to: change.to }), 1)
  ]
  if (log) {
    const line = `Circuit breaker ${name}: ${change.from} -> ${change.to} (${change.reason})`
    const entry = change.to === "Open" || change.to === "Isolated" ? Effect.logWarning(line) : Effect.logInfo(line)
    effects.push(entry.pipe(Effect.annotateLogs({ breaker: name, from: change.from, to: change.to, reason: change.reason })))
  }
  return Effect.all(effects, { discard: true })
}

/** Publishes rejections counted since the last time (a no-op when there are none). */
export const publishRejections = (publisher: Publisher, name: string, delta: number): Effect.Effect<void> =>
  delta === 0
    ? Effect.void
    : Metric.update(Metric.withAttributes(publisher.sinks.rejections, { operation: name, reason: "circuit_open" }), delta)

/** Sets a new circuit's state on the gauge (dashboards see a closed circuit from the start). */
export const publishInitial = (publisher: Publisher, name: string): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(publisher.sinks.state, { operation: name }), publisher.sinks.stateValue("Closed"))

/** Counts keyed circuits dropped. */
export const publishEvictions = (publisher: Publisher, name: string, reason: "idle" | "capacity", count: number): Effect.Effect<void> =>
  count === 0 ? Effect.void : Metric.update(Metric.withAttributes(publisher.sinks.evictions, { operation: name, reason }), count)
