/**
 * The one circuit shell: runs calls through any store. It asks the store to admit a call, runs
 * it, classifies its exit and tells the store the outcome; it publishes the changes the store
 * reports and keeps this process's counters. A store that decides in this process offers its
 * `LocalCircuit` side, and then a call into a closed circuit costs one `Effect.suspend` and one
 * `Effect.onExit`, with no store effect and, for a success that changes nothing, no record at all.
 *
 * Every admission that lets a call in is settled on every exit of the call (success, failure,
 * defect, interruption, and a classifier that throws), inside an uninterruptible region from the
 * admission to the registration of the exit handler, so a probe slot is never lost.
 *
 * @internal
 */
import { Cause, type Clock, Duration, Effect, type Exit, Stream } from "effect"
import { toMillis } from "../fields.ts"
import type { ClosedPath } from "../fused.ts"
import { NOTHING } from "../onExit.ts"
import { failExit, shared } from "../traceless.ts"
import { Permanent } from "../verdicts.ts"
import { BreakerOpen, verdictKey } from "./errors.ts"
import type { Admission, Change, CircuitConfig, LocalCircuit, Outcome, State, Stats, StoredCircuit, StoreService, Token } from "./model.ts"
import { publish, type Publisher, publishRejections, type Transition } from "./publish.ts"

type Rejected = Extract<Admission, { readonly _tag: "Rejected" }>

/** What a call's typed error means for the circuit (the public `CircuitBreaker.Outcome`). */
export type Verdict = "success" | "failure" | "ignored" | { readonly retryAfter: Duration.Input }

/** What every circuit of one breaker (or one keyed family) shares. */
export interface Family {
  readonly config: CircuitConfig
  readonly clock: Clock.Clock
  readonly publisher: Publisher
  readonly classify: (error: unknown) => Verdict
  /** Slow-call threshold in ms, when a slow-call rule exists. */
  readonly slowerThan: number | undefined
  readonly store: StoreService
  /**
   * The last rejection handed out, reused while it is true for the next one (same circuit, same
   * retry-after in ms): in an outage most rejections of a millisecond share one frozen error.
   */
  lastRejection: SharedRejection | undefined
}

interface SharedRejection {
  readonly name: string
  readonly after: number | undefined
  readonly error: BreakerOpen
}

// Effect's onExit primitive accepts a handler that returns undefined (no finalizer effect to run);
// only the closed-state handlers return it, which saves a step per successful call.
const SUCCESS: Outcome = { _tag: "Success", slow: false }
const SLOW_SUCCESS: Outcome = { _tag: "Success", slow: true }
const IGNORED: Outcome = { _tag: "Ignored" }

const closedPathKey = Symbol.for("effect-resilience/CircuitBreaker/closedPath")

/**
 * The closed-state hot path of a circuit whose store decides locally, for callers that observe
 * the call's exit themselves (`internal/fused.ts`); undefined for any other breaker.
 */
export const closedPathOf = (breaker: object): ClosedPath | undefined =>
  (breaker as { readonly [closedPathKey]?: ClosedPath | undefined })[closedPathKey]

export class Circuit implements ClosedPath {
  calls = 0
  successes = 0
  failures = 0
  slowCalls = 0
  ignored = 0
  rejections = 0
  publishedRejections = 0
  /** A change handed over with a fused-path rejection, not yet published (see `takeNews`). */
  news: Change | undefined = undefined
  /** Used since the last eviction sweep. */
  touched = true
  /** Eviction sweeps since the circuit was last used (a small integer: a time would be a heap number per circuit). */
  idleSweeps = 0
  readonly name: string
  readonly family: Family
  readonly store: StoredCircuit
  readonly local: LocalCircuit | undefined

  constructor(family: Family, name: string) {
    this.family = family
    this.name = name
    this.store = family.store.circuit(name, family.config, family.clock)
    this.local = this.store.local
  }

  get [closedPathKey](): ClosedPath | undefined {
    return this.local === undefined ? undefined : this
  }

  now(): number {
    return this.family.clock.currentTimeMillisUnsafe()
  }

  /** The fused path must time every call: a slow-call rule needs each call's start. */
  get needsStart(): boolean {
    return this.family.slowerThan !== undefined
  }

  /** Fused-path admission: counts the call if the store admits it at once (closed). */
  admitClosed(): boolean {
    this.touched = true
    const local = this.local
    if (local === undefined || !local.admitClosed()) return false
    this.calls++
    return true
  }

  /**
   * Fused-path rejection: when the circuit rejects now without changing (open and not yet due,
   * half-open with every probe out, isolated), counts the rejection and returns its error;
   * otherwise undefined, and nothing changed.
   */
  rejectNow(): BreakerOpen | undefined {
    const local = this.local
    if (local === undefined) return undefined
    const now = this.now()
    if (!local.rejectsAt(now)) return undefined
    if (local.retryAfterAt !== undefined) return this.rejection(local.retryAfterAt(now))
    const admission = local.admitAt(now) as Rejected
    // A near-cache replica hands over a transition it learned from the fleet with its next
    // admission: kept for the caller to publish (`takeNews`), never dropped.
    if (admission.change !== undefined) this.news = admission.change
    return this.rejection(admission.retryAfterMillis)
  }

  /** A change `rejectNow` took from the store, to publish with the rejection; undefined when none. */
  takeNews(): Effect.Effect<void> | undefined {
    const change = this.news
    if (change === undefined) return undefined
    this.news = undefined
    return this.publish(change)
  }

  /** The outcome of a call admitted by `admitClosed`; undefined when there is nothing to run. */
  closedExit(exit: Exit.Exit<unknown, unknown>, start: number): Effect.Effect<void> | undefined {
    const local = this.local!
    if (exit._tag === "Success" && this.family.slowerThan === undefined) {
      this.successes++
      if (local.quietSuccess()) return undefined
      const change = local.recordClosed(SUCCESS, this.now())
      return change === undefined ? undefined : this.publish(change)
    }
    const change = local.recordClosed(this.outcomeOf(exit, start), this.now())
    const shared = local.mustShare?.()
    if (shared !== undefined) {
      return Effect.flatMap(shared, (later) => Effect.andThen(this.announce(change), this.announce(later)))
    }
    return change === undefined ? undefined : this.publish(change)
  }

  /** Counts a finished call and says what it means for the circuit. Never throws. */
  outcomeOf(exit: Exit.Exit<unknown, unknown>, start: number): Outcome {
    const slowerThan = this.family.slowerThan
    const slow = slowerThan !== undefined && this.now() - start >= slowerThan
    if (exit._tag === "Success") {
      this.successes++
      if (slow) this.slowCalls++
      return slow ? SLOW_SUCCESS : SUCCESS
    }
    const verdict = this.verdictOf(exit.cause)
    if (verdict === "ignored") {
      this.ignored++
      return IGNORED
    }
    if (slow) this.slowCalls++
    if (verdict === "success") {
      this.successes++
      return slow ? SLOW_SUCCESS : SUCCESS
    }
    this.failures++
    let retryAfterMillis: number | undefined
    try {
      retryAfterMillis = verdict === "failure" ? undefined : toMillis(verdict.retryAfter)
    } catch {
      retryAfterMillis = undefined
    }
    return { _tag: "Failure", slow, retryAfterMillis }
  }

  /**
   * The classifier's verdict on a failure. A classifier that throws (a user's, or one reading an
   * error whose getters throw) makes the call a failure: the dependency answered with something
   * nobody could read, and the call must still be settled.
   */
  verdictOf(cause: Cause.Cause<unknown>): Verdict {
    for (const reason of cause.reasons) {
      if (reason._tag !== "Fail") continue
      try {
        const verdict = this.family.classify(reason.error)
        if (verdict === "success" || verdict === "failure" || verdict === "ignored") return verdict
        return typeof verdict === "object" && verdict !== null ? verdict : "failure"
      } catch {
        return "failure"
      }
    }
    return Cause.hasDies(cause) ? "failure" : "ignored"
  }

  /** Settles a call admitted through the store. Always an effect. */
  settle(token: Token, exit: Exit.Exit<unknown, unknown>, start: number): Effect.Effect<void> {
    const outcome = this.outcomeOf(exit, start)
    const local = this.local
    if (local !== undefined && local.remoteAdmission !== true) return this.announce(local.recordAt(token, outcome, this.now()))
    return Effect.flatMap(this.store.record(token, outcome), (change) => this.announce(change))
  }

  announce(change: Change | undefined): Effect.Effect<void> {
    return change === undefined ? Effect.void : this.publish(change)
  }

  publish(change: Change): Effect.Effect<void> {
    return Effect.andThen(publish(this.family.publisher, this.name, change), this.flushRejections)
  }

  get flushRejections(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const delta = this.rejections - this.publishedRejections
      this.publishedRejections = this.rejections
      return publishRejections(this.family.publisher, this.name, delta)
    })
  }

  execute<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> {
    return Effect.suspend(() => {
      this.touched = true
      const local = this.local
      // A closed circuit admits every call and admission changes nothing: skip the store effect.
      if (local !== undefined && local.admitClosed()) {
        this.calls++
        if (this.family.slowerThan === undefined) {
          // A handler per call, not one kept per circuit: an idle keyed circuit would hold it (~140 bytes).
          return Effect.onExit(effect, (exit) => this.closedExit(exit, 0) ?? NOTHING)
        }
        const start = this.now()
        return Effect.onExit(effect, (exit) => this.closedExit(exit, start) ?? NOTHING)
      }
      // A rejection changes nothing: no uninterruptible region needed (an open circuit's hot path).
      if (local !== undefined) {
        const now = this.now()
        if (local.rejectsAt(now)) {
          // In memory a rejection is no machine step: its error (and exit) is the shared one.
          if (local.retryAfterAt !== undefined) return failExit(this.rejection(local.retryAfterAt(now)))
          return this.rejected(local.admitAt(now) as Rejected)
        }
      }
      return this.guarded(effect)
    })
  }

  /** Admission through the store, uninterruptible up to the call, so an admitted call is always settled. */
  guarded<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | BreakerOpen, R> {
    return Effect.uninterruptibleMask((restore) => {
      const local = this.local
      if (local !== undefined && local.remoteAdmission !== true) {
        return Effect.suspend(() => this.admitted(local.admitAt(this.now()), restore, effect))
      }
      return Effect.flatMap(this.store.admit, (admission) => this.admitted(admission, restore, effect))
    })
  }

  admitted<A, E, R>(
    admission: Admission,
    restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E | BreakerOpen, R> {
    if (admission._tag === "Rejected") return this.rejected(admission)
    const announce = admission.change === undefined ? undefined : this.publish(admission.change)
    this.calls++
    const start = this.now()
    const token = admission.token
    const run = Effect.onExit(restore(effect), (exit) => this.settle(token, exit, start))
    return announce === undefined ? run : Effect.andThen(announce, run)
  }

  /** Counts a rejection (published with the next change or stats read) and fails with `BreakerOpen`. */
  rejected(admission: Rejected): Effect.Effect<never, BreakerOpen> {
    const error = this.rejection(admission.retryAfterMillis)
    return admission.change === undefined ? failExit(error) : Effect.andThen(this.publish(admission.change), failExit(error))
  }

  /**
   * Counts a rejection and returns its error: the family's last one when it is still true (this
   * circuit, the same retry-after), else a new one, frozen and shared with its exit and its
   * `Permanent` verdict (what the default classifier makes of it).
   */
  rejection(after: number | undefined): BreakerOpen {
    this.rejections++
    const family = this.family
    const last = family.lastRejection
    if (last !== undefined && last.after === after && last.name === this.name) return last.error
    const error = BreakerOpen.fast(this.name, after === undefined ? undefined : Duration.millis(after))
    Object.defineProperty(error, verdictKey, { value: shared(new Permanent({ error, kind: "CircuitOpen" })), enumerable: false })
    family.lastRejection = { name: this.name, after, error: shared(error) }
    return error
  }

  get state(): Effect.Effect<State> {
    return Effect.flatMap(this.store.read, (snapshot) => Effect.as(this.announce(snapshot.change), snapshot.state))
  }

  get stats(): Effect.Effect<Stats> {
    return Effect.flatMap(this.store.read, (snapshot) => {
      const counted = this.successes + this.failures
      const rates = snapshot.rates
      const stats: Stats = {
        name: this.name,
        state: snapshot.state._tag,
        since: snapshot.state.since,
        calls: this.calls,
        successes: this.successes,
        failures: this.failures,
        slowCalls: this.slowCalls,
        ignored: this.ignored,
        rejections: this.rejections,
        failureRate: rates?.failureRate ?? (counted === 0 ? 0 : this.failures / counted),
        slowCallRate: rates?.slowCallRate ?? (counted === 0 ? 0 : this.slowCalls / counted)
      }
      return Effect.as(Effect.andThen(this.announce(snapshot.change), this.flushRejections), stats)
    })
  }

  get changes(): Stream.Stream<Transition> {
    const name = this.name
    return Stream.filter(Stream.fromPubSub(this.family.publisher.pubsub), (t) => t.name === name)
  }

  get isolate(): Effect.Effect<void> {
    return Effect.flatMap(this.store.signal("Isolate"), (change) => this.announce(change))
  }

  get reset(): Effect.Effect<void> {
    return Effect.flatMap(this.store.signal("Reset"), (change) => this.announce(change))
  }

  /** Whether a keyed family may drop this circuit now: idle, and its state no longer matters. */
  forgettable(now: number): boolean {
    // A shared store keeps the state itself; only this process's counters are dropped.
    return this.local === undefined || this.local.forgettable(now)
  }
}

/** Checks the dependency every `every` ms while the circuit is open; a pass is the `Healthy` signal. */
export const healthCheck = (circuit: Circuit, probe: Effect.Effect<unknown, unknown>, every: number): Effect.Effect<never> => {
  const check = Effect.flatMap(circuit.store.read, (snapshot) => {
    const announced = circuit.announce(snapshot.change)
    if (snapshot.state._tag !== "Open") return announced
    return Effect.andThen(
      announced,
      Effect.flatMap(Effect.exit(probe), (exit) =>
        exit._tag === "Success"
          ? Effect.flatMap(circuit.store.signal("Healthy"), (change) => circuit.announce(change))
          : Effect.void)
    )
  })
  return Effect.forever(Effect.andThen(Effect.sleep(every), check))
}
