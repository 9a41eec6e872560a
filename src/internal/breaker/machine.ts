/**
 * The circuit breaker's state machine: one pure transition function
 * `step(state, event, now, config) → [state, transition, ticket]` that knows nothing of Effect's
 * runtime. A store applies it atomically (in memory: one synchronous read-modify-write of a `Ref`;
 * in Redis: one Lua call per event). docs/circuit-breaker.md writes the rules out for a second
 * implementation.
 *
 * States are immutable objects except the rate windows a `Closed` state owns, which are linear
 * values updated in place (see window.ts). When an event changes nothing, `step` returns the
 * very same state object, so the success path allocates only the result tuple.
 *
 * @internal
 */
import * as W from "../window.ts"
import type { Change, CircuitConfig, Reason, StateTag, TripRule } from "./model.ts"

export type { Reason, StateTag }

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/** A trip rule, as data (the store's words). */
export type Rule = TripRule

/** Everything the machine needs, resolved to plain numbers (milliseconds). */
export type Config = CircuitConfig

// ---------------------------------------------------------------------------------------------
// States, events, transitions
// ---------------------------------------------------------------------------------------------

/** Fields every state carries. */
interface Common {
  /** When this state was entered (ms). */
  readonly since: number
  /** Incremented on every transition; tickets name the generation that admitted a call. */
  readonly generation: number
  /** Consecutive openings so far (drives the `openFor` schedule). */
  readonly openings: number
  /** The length of the last open period (ms); the openings count resets after this long closed. */
  readonly lastOpenFor: number
}

/** Calls flow; failures are counted. */
export interface Closed extends Common {
  readonly _tag: "Closed"
  /** Consecutive failures. */
  readonly failures: number
  /**
   * One window per rule (undefined for consecutive rules), allocated on first use: quiet (two
   * numbers) while it has seen only successes in one bucket, a full ring from the first failure
   * or slow call on.
   */
  readonly windows: Array<W.Window | W.QuietWindow | undefined> | undefined
}

/** Calls are rejected until `until`. */
export interface Open extends Common {
  readonly _tag: "Open"
  readonly until: number
}

/** Up to `probes` calls test the dependency. */
export interface HalfOpen extends Common {
  readonly _tag: "HalfOpen"
  readonly inFlight: number
  readonly successes: number
}

/** Forced open by hand until `reset`. */
export interface Isolated extends Common {
  readonly _tag: "Isolated"
}

/** A circuit's state. */
export type State = Closed | Open | HalfOpen | Isolated

/** What happens to a circuit. `ticket` is the generation returned by the `Admit` that let the call in. */
export type Event =
  | { readonly _tag: "Admit" }
  | { readonly _tag: "Success"; readonly ticket: number }
  | { readonly _tag: "Failure"; readonly ticket: number; readonly slow: boolean; readonly retryAfter: number | undefined }
  | { readonly _tag: "Slow"; readonly ticket: number }
  | { readonly _tag: "Ignored"; readonly ticket: number }
  | { readonly _tag: "Tick" }
  | { readonly _tag: "Healthy" }
  | { readonly _tag: "Isolate" }
  | { readonly _tag: "Reset" }

/** A change of state. */
export type Transition = Change

/** `[next state, transition if the tag changed, ticket]`; the ticket is −1 for a rejected `Admit`. */
export type Step = readonly [State, Transition | undefined, number]

/** The state of a new circuit. */
export const initial = (now: number): Closed => ({
  _tag: "Closed",
  since: now,
  generation: 0,
  openings: 0,
  lastOpenFor: 0,
  failures: 0,
  windows: undefined
})

// ---------------------------------------------------------------------------------------------
// The transition function
// ---------------------------------------------------------------------------------------------

const closed = (from: State, now: number, openings: number): Closed => ({
  _tag: "Closed",
  since: now,
  generation: from.generation + 1,
  openings,
  lastOpenFor: from.lastOpenFor,
  failures: 0,
  windows: undefined
})

const halfOpen = (from: State, now: number, inFlight: number): HalfOpen => ({
  _tag: "HalfOpen",
  since: now,
  generation: from.generation + 1,
  openings: from.openings,
  lastOpenFor: from.lastOpenFor,
  inFlight,
  successes: 0
})

/** The open period of the next opening: the schedule's delay, stretched to a hint, capped. */
export const openPeriod = (config: Config, opening: number, retryAfter: number | undefined): number => {
  let period = config.openFor(opening)
  if (retryAfter !== undefined && retryAfter > period) period = retryAfter
  return Math.max(0, Math.min(period, config.maxOpenFor))
}

const trip = (
  from: State,
  now: number,
  config: Config,
  retryAfter: number | undefined,
  reason: Reason
): Step => {
  // The openings count resets once the circuit has stayed closed as long as it was last open.
  const before = from._tag === "Closed" && now - from.since >= from.lastOpenFor ? 0 : from.openings
  const period = openPeriod(config, before + 1, retryAfter)
  const next: Open = {
    _tag: "Open",
    since: now,
    generation: from.generation + 1,
    openings: before + 1,
    lastOpenFor: period,
    until: now + period
  }
  return [next, { from: from._tag, to: "Open", at: now, reason }, -1]
}

const changed = (from: State, to: State, now: number, reason: Reason, ticket: number): Step =>
  [to, { from: from._tag, to: to._tag, at: now, reason }, ticket]

const same = (state: State, ticket: number): Step => [state, undefined, ticket]

/** Which rule, if any, says a closed circuit must open. */
const tripReason = (state: Closed, config: Config): Reason | undefined => {
  const rules = config.rules
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    if (rule._tag === "Consecutive") {
      if (state.failures >= rule.failures) return "ConsecutiveFailures"
      continue
    }
    const window = state.windows?.[i]
    // A quiet window has no failure and no slow call: it cannot trip a rule.
    if (window === undefined || window._tag === "Quiet" || window.calls < rule.minimumCalls) continue
    if (rule._tag === "FailureRate") {
      if (window.failures / window.calls >= rule.threshold) return "FailureRate"
    } else if (window.slow / window.calls >= rule.threshold) {
      return "SlowCallRate"
    }
  }
  return undefined
}

/** Records an outcome into every rate window of a closed state (allocating them on first use). */
const recordWindows = (state: Closed, config: Config, bits: number, now: number): Closed => {
  const rules = config.rules
  let windows = state.windows
  let fresh = false
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!
    if (rule._tag === "Consecutive") continue
    if (windows === undefined) {
      windows = new Array<W.Window | W.QuietWindow | undefined>(rules.length)
      fresh = true
    }
    const window = windows[i]
    if (window === undefined) {
      if (bits === 0) {
        windows[i] = { _tag: "Quiet", calls: 1, start: now }
        continue
      }
      const full = windows[i] = W.make(rule.window, now)
      W.record(full, bits, now)
    } else if (window._tag === "Quiet") {
      if (bits === 0 && W.staysQuiet(rule.window, window, now)) {
        window.calls++
        continue
      }
      const full = windows[i] = W.materialize(rule.window, window)
      W.record(full, bits, now)
    } else {
      W.record(window, bits, now)
    }
  }
  return fresh ? { ...state, windows } : state
}

/** Does any rule keep a window? */
export const hasWindows = (config: Config): boolean => config.rules.some((rule) => rule._tag !== "Consecutive")

const onClosedOutcome = (state: Closed, config: Config, bits: number, now: number, retryAfter: number | undefined): Step => {
  const failed = (bits & W.FAILED) !== 0
  let next: Closed = state
  if (failed) next = { ...state, failures: state.failures + 1 }
  else if (state.failures !== 0) next = { ...state, failures: 0 }
  next = recordWindows(next, config, bits, now)
  if (bits === 0) return same(next, 0)
  const reason = tripReason(next, config)
  return reason === undefined ? same(next, 0) : trip(next, now, config, retryAfter, reason)
}

/**
 * The transition function. Rules, per state:
 *
 * * Closed: `Admit` is let in. `Success`/`Slow`/`Failure` are recorded (consecutive count and rate
 *   windows); when any rule trips, → Open. `Ignored` changes nothing.
 * * Open: `Admit`/`Tick` at or after `until` → HalfOpen (an `Admit` takes the first probe slot);
 *   before it, `Admit` is rejected. `Healthy` → HalfOpen (or Closed with `closeOnHealthy`).
 *   Outcomes of calls admitted earlier are ignored.
 * * HalfOpen: `Admit` takes a slot while `inFlight < probes`, else is rejected. Outcomes count
 *   only for tickets of this generation: `Success` → successes + 1, and at `successesToClose` →
 *   Closed; `Failure` or `Slow` (when a slow-call rule exists) → Open with the next opening;
 *   `Ignored` (interruption, excluded errors) frees the slot.
 * * Isolated: every `Admit` is rejected; only `Reset` leaves it.
 * * Any state: `Isolate` → Isolated, `Reset` → Closed with the openings count cleared.
 */
export const step = (state: State, event: Event, now: number, config: Config): Step => {
  switch (event._tag) {
    case "Admit": {
      switch (state._tag) {
        case "Closed":
          return same(state, state.generation)
        case "Open": {
          if (now < state.until) return same(state, -1)
          const next = halfOpen(state, now, 1)
          return changed(state, next, now, "OpenElapsed", next.generation)
        }
        case "HalfOpen": {
          if (state.inFlight >= config.probes) return same(state, -1)
          return same({ ...state, inFlight: state.inFlight + 1 }, state.generation)
        }
        case "Isolated":
          return same(state, -1)
      }
    }
    // falls through: unreachable, every case above returns
    case "Success":
    case "Slow":
    case "Failure": {
      const bits = event._tag === "Success" ? 0 : event._tag === "Slow" ? W.SLOW : W.FAILED | (event.slow ? W.SLOW : 0)
      const retryAfter = event._tag === "Failure" ? event.retryAfter : undefined
      switch (state._tag) {
        case "Closed":
          return onClosedOutcome(state, config, bits, now, retryAfter)
        case "HalfOpen": {
          if (event.ticket !== state.generation) return same(state, 0)
          const failed = (bits & W.FAILED) !== 0 || ((bits & W.SLOW) !== 0 && hasSlowRule(config))
          if (failed) return trip(state, now, config, retryAfter, "ProbeFailed")
          const successes = state.successes + 1
          if (successes >= config.successesToClose) {
            return changed(state, closed(state, now, state.openings), now, "ProbesSucceeded", 0)
          }
          return same({ ...state, inFlight: Math.max(0, state.inFlight - 1), successes }, 0)
        }
        default:
          return same(state, 0)
      }
    }
    case "Ignored": {
      if (state._tag === "HalfOpen" && event.ticket === state.generation && state.inFlight > 0) {
        return same({ ...state, inFlight: state.inFlight - 1 }, 0)
      }
      return same(state, 0)
    }
    case "Tick": {
      if (state._tag === "Open" && now >= state.until) return changed(state, halfOpen(state, now, 0), now, "OpenElapsed", 0)
      if (state._tag === "Closed" && state.windows !== undefined) advanceWindows(state.windows, config, now)
      return same(state, 0)
    }
    case "Healthy": {
      if (state._tag !== "Open") return same(state, 0)
      const next = config.closeOnHealthy ? closed(state, now, state.openings) : halfOpen(state, now, 0)
      return changed(state, next, now, "HealthCheck", 0)
    }
    case "Isolate": {
      if (state._tag === "Isolated") return same(state, 0)
      const next: Isolated = {
        _tag: "Isolated",
        since: now,
        generation: state.generation + 1,
        openings: state.openings,
        lastOpenFor: state.lastOpenFor
      }
      return changed(state, next, now, "Isolated", 0)
    }
    case "Reset": {
      const next: Closed = { ...closed(state, now, 0), lastOpenFor: 0 }
      return changed(state, next, now, "Reset", 0)
    }
  }
}

/** Moves every window to `now`; a quiet window whose first bucket has passed becomes a full one (as it would have advanced). */
const advanceWindows = (windows: Array<W.Window | W.QuietWindow | undefined>, config: Config, now: number): void => {
  for (let i = 0; i < windows.length; i++) {
    const window = windows[i]
    if (window === undefined) continue
    const rule = config.rules[i]!
    if (window._tag !== "Quiet") W.advance(window, now)
    else if (rule._tag !== "Consecutive" && !W.staysQuiet(rule.window, window, now)) {
      const full = windows[i] = W.materialize(rule.window, window)
      W.advance(full, now)
    }
  }
}

/** Does any rule look at slow calls? */
export const hasSlowRule = (config: Config): boolean => config.rules.some((rule) => rule._tag === "SlowCallRate")

/** How long a rejected caller should wait (ms), if known. */
export const retryAfter = (state: State, now: number): number | undefined =>
  state._tag === "Open" ? Math.max(0, state.until - now) : undefined

/** The failure and slow-call rates the windows see right now (undefined without rate rules). */
export const rates = (
  state: State,
  config: Config,
  now: number
): { readonly calls: number; readonly failureRate: number; readonly slowCallRate: number } | undefined => {
  if (state._tag !== "Closed" || state.windows === undefined) return undefined
  let best: W.Totals | undefined
  for (let i = 0; i < config.rules.length; i++) {
    const window = state.windows[i]
    const rule = config.rules[i]!
    if (window === undefined || rule._tag === "Consecutive") continue
    let totals: W.Totals
    if (window._tag === "Quiet") {
      // Read without materializing: stats must not grow an idle circuit.
      totals = { calls: W.quietCalls(rule.window, window, now), failures: 0, slow: 0 }
    } else {
      W.advance(window, now)
      totals = window
    }
    if (best === undefined || totals.calls > best.calls) best = totals
  }
  if (best === undefined || best.calls === 0) return { calls: 0, failureRate: 0, slowCallRate: 0 }
  return { calls: best.calls, failureRate: best.failures / best.calls, slowCallRate: best.slow / best.calls }
}
