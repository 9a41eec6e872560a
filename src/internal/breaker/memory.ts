/**
 * The in-memory store: one circuit's machine state in this process, changed by one synchronous
 * read-modify-write per event (atomic: there is no yield point between the read and the write).
 * It decides admission locally, so it offers the breaker its `LocalCircuit` side. One object per
 * circuit, methods on the prototype: an idle keyed circuit costs a few fields.
 *
 * @internal
 */
import { type Clock, Effect } from "effect"
import * as M from "./machine.ts"
import type { Admission, Change, CircuitConfig, LocalCircuit, Outcome, Signal, Snapshot, StoredCircuit, Token } from "./model.ts"
import { ADMIT, forgettable, signalEvents, toAdmission, toEvent, toPublic } from "./translate.ts"

/** The ticket of calls admitted by `admitClosed`: never a half-open generation, so it cannot settle a probe. */
const CLOSED = -2
const CLOSED_SUCCESS: M.Event = { _tag: "Success", ticket: CLOSED }

/** One circuit's state in this process. */
export class MemoryCircuit implements StoredCircuit, LocalCircuit {
  state: M.State
  readonly config: CircuitConfig
  readonly clock: Clock.Clock
  /** Some rule keeps a window, so every success is recorded. */
  readonly windowed: boolean

  constructor(config: CircuitConfig, clock: Clock.Clock) {
    this.config = config
    this.clock = clock
    this.windowed = M.hasWindows(config)
    this.state = M.initial(clock.currentTimeMillisUnsafe())
  }

  get local(): LocalCircuit {
    return this
  }

  apply(event: M.Event, now: number): M.Step {
    const step = M.step(this.state, event, now, this.config)
    this.state = step[0]
    return step
  }

  admitClosed(): boolean {
    return this.state._tag === "Closed"
  }

  quietSuccess(): boolean {
    const state = this.state
    // The machine returns such a state unchanged on success.
    return state._tag === "Closed" && state.failures === 0 && !this.windowed
  }

  recordClosed(outcome: Outcome, now: number): Change | undefined {
    // A success is the common case (every call with a rate rule): no event allocated for it.
    const event = outcome._tag === "Success" && !outcome.slow ? CLOSED_SUCCESS : toEvent(CLOSED, outcome)
    return this.apply(event, now)[1]
  }

  rejectsAt(now: number): boolean {
    const state = this.state
    switch (state._tag) {
      case "Closed":
        return false
      case "Open":
        return now < state.until
      case "HalfOpen":
        return state.inFlight >= this.config.probes
      case "Isolated":
        return true
    }
  }

  retryAfterAt(now: number): number | undefined {
    // What `admitAt` reports for a rejection: it never changes the state (see `rejectsAt`).
    return M.retryAfter(this.state, now)
  }

  admitAt(now: number): Admission {
    return toAdmission(this.apply(ADMIT, now), now)
  }

  recordAt(token: Token, outcome: Outcome, now: number): Change | undefined {
    return this.apply(toEvent(token as unknown as number, outcome), now)[1]
  }

  forgettable(now: number): boolean {
    return forgettable(this.state, now)
  }

  signalAt(signal: Signal, now: number): Change | undefined {
    return this.apply(signalEvents[signal], now)[1]
  }

  readAt(now: number): Snapshot {
    const change = this.apply(signalEvents.Tick, now)[1]
    return { state: toPublic(this.state), now, rates: M.rates(this.state, this.config, now), change }
  }

  get admit(): Effect.Effect<Admission> {
    return Effect.sync(() => this.admitAt(this.clock.currentTimeMillisUnsafe()))
  }

  record(token: Token, outcome: Outcome): Effect.Effect<Change | undefined> {
    return Effect.sync(() => this.recordAt(token, outcome, this.clock.currentTimeMillisUnsafe()))
  }

  signal(signal: Signal): Effect.Effect<Change | undefined> {
    return Effect.sync(() => this.signalAt(signal, this.clock.currentTimeMillisUnsafe()))
  }

  get read(): Effect.Effect<Snapshot> {
    return Effect.sync(() => this.readAt(this.clock.currentTimeMillisUnsafe()))
  }
}

/** Opens a circuit in memory (the `CircuitBreakerStore.memory` service). */
export const memoryCircuit = (_name: string, config: CircuitConfig, clock: Clock.Clock): MemoryCircuit =>
  new MemoryCircuit(config, clock)
