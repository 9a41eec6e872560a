/**
 * The words a circuit breaker and its store speak (re-exported, with their documentation, by the
 * public `CircuitBreakerStore` module). Types only: every breaker module and every store can import
 * them without importing a public module.
 *
 * @internal
 */
import type { Clock, Effect, Scope } from "effect"
import type * as W from "../window.ts"

/**
 * The tag of a circuit's state.
 *
 */
export type StateTag = "Closed" | "Open" | "HalfOpen" | "Isolated"

/**
 * Calls flow; failures are counted.
 *
 */
export interface Closed {
  readonly _tag: "Closed"
  /** When the state was entered, in ms since the epoch (the breaker's `Clock`). */
  readonly since: number
  readonly consecutiveFailures: number
}

/**
 * Calls are rejected until `until` (ms since the epoch).
 *
 */
export interface Open {
  readonly _tag: "Open"
  readonly since: number
  readonly until: number
  /** Consecutive openings, which drive an `openFor` schedule. */
  readonly openings: number
}

/**
 * A few probe calls test the dependency.
 *
 */
export interface HalfOpen {
  readonly _tag: "HalfOpen"
  readonly since: number
  readonly probesInFlight: number
  readonly successes: number
}

/**
 * Forced open by `isolate` until `reset`.
 *
 */
export interface Isolated {
  readonly _tag: "Isolated"
  readonly since: number
}

/**
 * A circuit's state.
 *
 */
export type State = Closed | Open | HalfOpen | Isolated

/**
 * Why a circuit changed state.
 *
 */
export type Reason =
  | "ConsecutiveFailures"
  | "FailureRate"
  | "SlowCallRate"
  | "OpenElapsed"
  | "ProbeFailed"
  | "ProbesSucceeded"
  | "HealthCheck"
  | "Isolated"
  | "Reset"

/**
 * A change of state caused by one event; `at` is in ms since the epoch (the store's time).
 *
 */
export interface Change {
  readonly from: StateTag
  readonly to: StateTag
  readonly at: number
  readonly reason: Reason
}

/**
 * Names the state a call was admitted in. Pass it back with the call's outcome: an outcome whose
 * token no longer names the circuit's current half-open round (the circuit moved on, or the
 * admission was released) changes nothing. Only the store that issued it reads it.
 *
 */
export interface Token {
  readonly [TokenBrand]: "Token"
}
declare const TokenBrand: unique symbol

/**
 * A store's answer to a call: let in (a probe when the circuit is half-open) or rejected, with
 * the change of state the admission caused (an open circuit whose period ended half-opens).
 *
 */
export type Admission =
  | { readonly _tag: "Admitted"; readonly token: Token; readonly probe: boolean; readonly change: Change | undefined }
  | { readonly _tag: "Rejected"; readonly retryAfterMillis: number | undefined; readonly change: Change | undefined }

/**
 * What a finished call means for its circuit. `slow` marks a call slower than a slow-call rule's
 * threshold; `retryAfterMillis` is a server's hint that stretches the next open period.
 *
 */
export type Outcome =
  | { readonly _tag: "Success"; readonly slow: boolean }
  | { readonly _tag: "Failure"; readonly slow: boolean; readonly retryAfterMillis: number | undefined }
  | { readonly _tag: "Ignored" }

/**
 * Events not tied to a call: `Tick` applies time-driven changes (an open period that ended),
 * `Healthy` is a passing health check, `Isolate` and `Reset` are the manual overrides.
 *
 */
export type Signal = "Tick" | "Healthy" | "Isolate" | "Reset"

/**
 * A circuit's state as read (after a `Tick`), the store's time, the failure and slow-call rates
 * its windows see (undefined without rate rules or outside the closed state), and the change the
 * tick caused.
 *
 */
export interface Snapshot {
  readonly state: State
  readonly now: number
  readonly rates: { readonly calls: number; readonly failureRate: number; readonly slowCallRate: number } | undefined
  readonly change: Change | undefined
}

/**
 * Where a rate rule looks: the last `size` calls, or the calls of the last `millis` counted in
 * `buckets`.
 *
 */
export type WindowSpec = W.WindowSpec

/**
 * A trip rule in milliseconds, as a store applies it.
 *
 */
export type TripRule =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | { readonly _tag: "FailureRate"; readonly threshold: number; readonly minimumCalls: number; readonly window: WindowSpec }
  | {
    readonly _tag: "SlowCallRate"
    readonly threshold: number
    readonly slowerThan: number
    readonly minimumCalls: number
    readonly window: WindowSpec
  }

/**
 * A breaker's decoded options in milliseconds: what a store needs to apply its rules.
 *
 */
export interface CircuitConfig {
  /** Trip when any rule says so. */
  readonly rules: ReadonlyArray<TripRule>
  /** The open period of the k-th consecutive opening (k ≥ 1), in ms. */
  readonly openFor: (opening: number) => number
  /** Caps every open period, including one stretched by a retry-after hint. */
  readonly maxOpenFor: number
  /** Calls allowed in flight while half-open. */
  readonly probes: number
  /** Successful probes that close the circuit. */
  readonly successesToClose: number
  /** A passing health check closes the circuit instead of half-opening it. */
  readonly closeOnHealthy: boolean
}

/**
 * Synchronous access to a circuit whose store decides in this process. The breaker then admits
 * calls to a closed circuit without a store effect, and records a success that changes nothing
 * without calling the store at all. Only call these from inside an effect.
 *
 */
export interface LocalCircuit {
  /** Admits a call at once when the circuit is closed (admission changes nothing while closed). */
  readonly admitClosed: () => boolean
  /** Whether a success of a call `admitClosed` let in would change nothing now. */
  readonly quietSuccess: () => boolean
  /** Records the outcome of a call that `admitClosed` let in. */
  readonly recordClosed: (outcome: Outcome, now: number) => Change | undefined
  /** Whether an admission now would be rejected without changing anything (open, isolated, or every probe slot taken). */
  readonly rejectsAt: (now: number) => boolean
  readonly admitAt: (now: number) => Admission
  /**
   * After `rejectsAt(now)` said yes: that rejection's retry-after in ms (undefined when none is
   * known), without the machine step `admitAt` would allocate. Only for stores whose rejection
   * changes nothing (in memory); the breaker asks `admitAt` otherwise.
   */
  readonly retryAfterAt?: ((now: number) => number | undefined) | undefined
  readonly recordAt: (token: Token, outcome: Outcome, now: number) => Change | undefined
  /** Whether forgetting the circuit now loses nothing: a fresh circuit would behave the same. */
  readonly forgettable: (now: number) => boolean
  /**
   * Only closed admissions and rejections are decided here (`admitClosed`, `rejectsAt`): every
   * other admission (a half-open probe, a circuit whose state is not known yet) and its outcome
   * go through the store's `admit` and `record`. A near-cache replica of a shared circuit.
   */
  readonly remoteAdmission?: boolean | undefined
  /**
   * After `recordClosed`: an effect to run before the call returns when its outcome must reach a
   * shared store now (a failure that could trip the shared circuit), with the change it caused.
   */
  readonly mustShare?: (() => Effect.Effect<Change | undefined> | undefined) | undefined
}

/**
 * One circuit's state in a store. Every effect answers; a store that cannot reach its backend
 * decides by its own fallback (it never fails a call by itself).
 *
 */
export interface StoredCircuit {
  readonly admit: Effect.Effect<Admission>
  readonly record: (token: Token, outcome: Outcome) => Effect.Effect<Change | undefined>
  readonly signal: (signal: Signal) => Effect.Effect<Change | undefined>
  readonly read: Effect.Effect<Snapshot>
  /** Present when this process decides admission (see `LocalCircuit`). */
  readonly local: LocalCircuit | undefined
}

/**
 * Counters since the breaker was made, plus the current state.
 */
export interface Stats {
  readonly name: string
  readonly state: StateTag
  /** When the current state was entered (ms since the epoch). */
  readonly since: number
  /** Calls let in (rejections are not calls). */
  readonly calls: number
  readonly successes: number
  readonly failures: number
  readonly slowCalls: number
  /** Calls whose outcome did not count (interrupted, or excluded by the classifier). */
  readonly ignored: number
  readonly rejections: number
  /** Failures / counted calls in the current window (since the breaker was made without rate rules). */
  readonly failureRate: number
  readonly slowCallRate: number
}

/** The store service's shape. */
export interface StoreService {
  readonly circuit: (name: string, config: CircuitConfig, clock: Clock.Clock) => StoredCircuit
  /**
   * A store with background work (flushing, listening) keeps it running while the scope this
   * runs in is open: each breaker made with the store runs it in its own scope.
   */
  readonly retain?: Effect.Effect<void, never, Scope.Scope> | undefined
}
