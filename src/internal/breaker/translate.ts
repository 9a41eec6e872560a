/**
 * Between the machine's words (events, steps, tickets) and the store's (outcomes, admissions,
 * changes, public state views). Every store that runs the machine, in memory or in a script,
 * answers through these, so a breaker sees the same answers from each.
 *
 * @internal
 */
import * as M from "./machine.ts"
import type { Admission, Outcome, Signal, State, Token } from "./model.ts"
import * as W from "../window.ts"

/** Events of the signals, allocated once. */
export const signalEvents: Record<Signal, M.Event> = {
  Tick: { _tag: "Tick" },
  Healthy: { _tag: "Healthy" },
  Isolate: { _tag: "Isolate" },
  Reset: { _tag: "Reset" }
}

/** The admission event, allocated once. */
export const ADMIT: M.Event = { _tag: "Admit" }

/** The machine event of a call's outcome under a ticket. */
export const toEvent = (ticket: number, outcome: Outcome): M.Event => {
  switch (outcome._tag) {
    case "Success":
      return outcome.slow ? { _tag: "Slow", ticket } : { _tag: "Success", ticket }
    case "Failure":
      return { _tag: "Failure", ticket, slow: outcome.slow, retryAfter: outcome.retryAfterMillis }
    case "Ignored":
      return { _tag: "Ignored", ticket }
  }
}

/** The admission an `Admit` step makes; the token is the ticket. */
export const toAdmission = (step: M.Step, now: number): Admission => {
  const [next, change, ticket] = step
  if (ticket === -1) return { _tag: "Rejected", retryAfterMillis: M.retryAfter(next, now), change }
  return { _tag: "Admitted", token: ticket as unknown as Token, probe: next._tag === "HalfOpen", change }
}

/** A machine state as users see it. */
export const toPublic = (state: M.State): State => {
  switch (state._tag) {
    case "Closed":
      return { _tag: "Closed", since: state.since, consecutiveFailures: state.failures }
    case "Open":
      return { _tag: "Open", since: state.since, until: state.until, openings: state.openings }
    case "HalfOpen":
      return { _tag: "HalfOpen", since: state.since, probesInFlight: state.inFlight, successes: state.successes }
    case "Isolated":
      return { _tag: "Isolated", since: state.since }
  }
}

/**
 * Whether a circuit can be dropped: only a closed one that a fresh circuit would replace without
 * a difference from `now` on (no failures counted, no failure or slow call in a window, and the
 * openings count no longer able to stretch a next open period). An open, half-open or isolated
 * circuit always matters: dropped, its next calls would all reach the dependency at once and its
 * open periods would stop growing.
 */
export const forgettable = (state: M.State, now: number): boolean => {
  if (state._tag !== "Closed" || state.failures !== 0) return false
  if (state.openings !== 0 && now - state.since < state.lastOpenFor) return false
  if (state.windows !== undefined) {
    for (const window of state.windows) {
      if (window === undefined || window._tag === "Quiet") continue
      W.advance(window, now)
      if (window.failures !== 0 || window.slow !== 0) return false
    }
  }
  return true
}
