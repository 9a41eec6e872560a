/**
 * A near-cache replica of one circuit shared through Redis. Closed admissions are decided here
 * (no round trip); outcomes are aggregated as runs of the same kind, in order, and flushed to the
 * breaker script (`M`) by the store's ticker at most once per flush interval, or at once when a
 * failure could trip the shared circuit. Every reply, and every transition the script publishes,
 * replaces this replica's view of the shared state; an open view rejects here until its period
 * ends (on this process's clock, from the reply's remaining time, so clock skew does not matter).
 * Everything else (a half-open probe, a circuit not known yet, signals, reads) is a script call
 * as in strict mode. While Redis is unavailable the replica decides by its fallback circuit
 * (`"allow"`) or rejects (`"reject"`), until a poll answers again.
 *
 * @internal
 */
import { Deferred, Effect, Exit } from "effect"
import * as M from "../breaker/machine.ts"
import { MemoryCircuit } from "../breaker/memory.ts"
import type { Admission, Change, CircuitConfig, LocalCircuit, Outcome, Signal, Snapshot, StoredCircuit, Token } from "../breaker/model.ts"
import { signalEvents, toEvent, toPublic } from "../breaker/translate.ts"
import * as W from "../window.ts"
import * as S from "./breakerScript.ts"
import type { Guard } from "./guard.ts"

/** What a replica needs from its store. */
export interface Host {
  /** One script call on this replica's key: code, ticket, slow, retry-after hint, lease id, flush runs. */
  readonly call: (code: S.Code, ticket: number, slow: boolean, retryAfter: number | undefined, lease: string, runs: string) => Effect.Effect<S.Reply, unknown>
  readonly onStoreError: "allow" | "reject"
  /** A probe lease's name, unique in the fleet. */
  readonly nextLease: () => string
  /** Asks for a flush of this replica (pending outcomes to share). `urgent`: now, not on the next tick. */
  readonly dirty: (replica: NearCircuit, urgent: boolean) => void
  /** Redis did not answer this replica: poll it on the ticks until it does. */
  readonly down: (replica: NearCircuit) => void
  /** The replica is dropped (its keyed circuit was evicted): stop sending it the fleet's transitions. */
  readonly forget: (replica: NearCircuit) => void
}

/** A token of this replica: a closed admission (outcome aggregated here), a remote one (probe), or the fallback's. */
type NearToken =
  | { readonly kind: "closed" }
  | { readonly kind: "remote"; readonly ticket: number; readonly lease: string }
  | { readonly kind: "fallback"; readonly token: Token }

const CLOSED_TOKEN: NearToken = { kind: "closed" }
const toToken = (token: NearToken): Token => token as unknown as Token
const fromToken = (token: Token): NearToken => token as unknown as NearToken

/** The outcome bits of the machine's windows (0 success, 1 failure, 2 slow, 3 slow failure); -1 ignored. */
const bitsOf = (outcome: Outcome): number =>
  outcome._tag === "Success" ? (outcome.slow ? W.SLOW : 0) : outcome._tag === "Failure" ? W.FAILED | (outcome.slow ? W.SLOW : 0) : -1

/** Totals of a rate window as last seen (a quiet window has calls only). */
const totalsOf = (window: W.Window | W.QuietWindow | undefined): { calls: number; failures: number; slow: number } =>
  window === undefined ? { calls: 0, failures: 0, slow: 0 } : window._tag === "Quiet" ? { calls: window.calls, failures: 0, slow: 0 } : window

export class NearCircuit implements StoredCircuit, LocalCircuit {
  readonly remoteAdmission = true
  readonly config: CircuitConfig
  readonly guard: Guard
  readonly host: Host
  readonly fallback: MemoryCircuit
  readonly clock: MemoryCircuit["clock"]
  readonly windowed: boolean
  /** The shared state as last learned (undefined: not known yet, the next admission asks Redis). */
  shared: M.State | undefined = undefined
  /** Redis time of `shared`: older news never replaces newer. */
  sharedAt = -Infinity
  /** This process's clock when an open `shared` state's period ends. */
  localUntil = 0
  /** Redis was unavailable at the last attempt: the fallback decides until a call answers. */
  unavailable = false
  /** A change learned from Redis not yet announced to the breaker (it is, with the next call or read). */
  unannounced: Change | undefined = undefined
  // Pending outcomes of closed admissions: [bits, count, bits, count, ...] in order.
  runs: Array<number> = []
  /** The closed generation the pending outcomes were admitted in. */
  pendingGen = 0
  /** The largest retry-after hint among pending failures. */
  hint: number | undefined = undefined
  /** Pending failures since the last pending success, and whether there was one. */
  trailing = 0
  cleared = false
  pendingCalls = 0
  pendingFailures = 0
  pendingSlow = 0
  flushing = false
  /** What the flush on its way says, until its reply is adopted (`couldTrip` counts it). */
  flying: { readonly cleared: boolean; readonly trailing: number; readonly calls: number; readonly failures: number; readonly slow: number } | undefined = undefined
  /** Completed when the flush on its way has its reply (or gave up). */
  inFlight: Deferred.Deferred<void> | undefined = undefined
  /** A pending failure could trip the shared circuit: its call flushes before it returns (`mustShare`). */
  urgent = false
  /** Flushes sent (the store's counters and tests read it). */
  flushes = 0
  polls = 0

  constructor(config: CircuitConfig, clock: MemoryCircuit["clock"], guard: Guard, host: Host) {
    this.config = config
    this.clock = clock
    this.guard = guard
    this.host = host
    this.fallback = new MemoryCircuit(config, clock)
    this.windowed = M.hasWindows(config)
  }

  get local(): LocalCircuit {
    return this
  }

  now(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  // ------------------------------------------------------------------------------------------
  // Learning the shared state
  // ------------------------------------------------------------------------------------------

  /**
   * Adopts a state read from Redis at Redis time `at` (from a reply or a published transition),
   * unless newer news arrived first (a reply and a publication travel on different connections).
   * Time orders them, not the generation: a key that expired restarts its generations.
   */
  adopt(state: M.State, at: number, change: Change | undefined): void {
    this.unavailable = false
    const known = this.shared
    if (at < this.sharedAt || (at === this.sharedAt && known !== undefined && state.generation < known.generation)) return
    this.shared = state
    this.sharedAt = at
    this.localUntil = state._tag === "Open" ? this.now() + Math.max(0, state.until - at) : 0
    // A state learned by a poll carries no reason: it is adopted, not announced (no invented reason).
    if (change !== undefined) this.unannounced = change
    // Outcomes of a closed period the fleet has left are fenced by the script anyway: drop them.
    if (this.runs.length > 0 && (state._tag !== "Closed" || state.generation !== this.pendingGen)) this.clearPending()
  }

  /** Redis did not answer: the fallback circuit takes over from the shared state as last seen. */
  markUnavailable(): void {
    if (this.unavailable) return
    this.unavailable = true
    this.host.down(this)
    const shared = this.shared
    if (shared !== undefined && shared._tag === "Closed") this.fallback.state = { ...shared, windows: undefined }
  }

  /** Applies a script reply; undefined when Redis was unavailable. */
  applyReply(reply: S.Reply | undefined): M.Step | undefined {
    if (reply === undefined) {
      this.markUnavailable()
      return undefined
    }
    const decoded = S.decodeReply(reply, this.config)
    this.adopt(decoded.step[0], decoded.now, decoded.step[1])
    return decoded.step
  }

  /** A published transition: `key`, state, time, from-tag, reason (see the script). */
  onMessage(encoded: string, at: number, reason: string, from: string): void {
    const state = S.decodeState(encoded, this.config)
    const change: Change | undefined = reason === ""
      ? undefined
      : { from: S.tagOf(from), to: state._tag, at, reason: reason as Change["reason"] }
    this.adopt(state, at, change)
  }

  takeChange(): Change | undefined {
    const change = this.unannounced
    this.unannounced = undefined
    return change
  }

  run(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = "", runs = "", abandoned?: Effect.Effect<unknown, unknown>) {
    return Effect.map(this.guard.run(this.host.call(code, ticket, slow, retryAfter, lease, runs), abandoned), (reply) => this.applyReply(reply))
  }

  // ------------------------------------------------------------------------------------------
  // The local side: closed admissions and rejections
  // ------------------------------------------------------------------------------------------

  /** In an outage, failing open: the fallback circuit decides. */
  get fallingBack(): boolean {
    return this.unavailable && this.host.onStoreError === "allow"
  }

  admitClosed(): boolean {
    if (this.unavailable) return this.host.onStoreError === "allow" && this.fallback.admitClosed()
    return this.shared !== undefined && this.shared._tag === "Closed"
  }

  quietSuccess(): boolean {
    if (this.unavailable) return this.fallback.quietSuccess()
    const shared = this.shared
    return !this.windowed && this.runs.length === 0 && shared !== undefined && shared._tag === "Closed" && shared.failures === 0
  }

  recordClosed(outcome: Outcome, now: number): Change | undefined {
    if (this.fallingBack) return this.fallback.recordClosed(outcome, now)
    const bits = bitsOf(outcome)
    // A success that changes nothing (the breaker skips calling for it on its own fast path) is not sent.
    if (bits === 0 && this.quietSuccess()) return this.takeChange()
    if (bits >= 0 && this.shared !== undefined && this.shared._tag === "Closed") this.pend(this.shared, bits, outcome)
    return this.takeChange()
  }

  /** Adds one outcome to the pending runs and asks for a flush (at once if it could trip the shared circuit). */
  pend(shared: M.Closed, bits: number, outcome: Outcome): void {
    if (this.runs.length === 0) this.pendingGen = shared.generation
    const last = this.runs.length - 2
    if (last >= 0 && this.runs[last] === bits) this.runs[last + 1]!++
    else this.runs.push(bits, 1)
    this.pendingCalls++
    if (bits === 0) {
      this.trailing = 0
      this.cleared = true
      // A success matters only to clear failures or to fill a window.
      this.host.dirty(this, false)
      return
    }
    if ((bits & W.FAILED) !== 0) {
      this.pendingFailures++
      this.trailing++
      const hint = outcome._tag === "Failure" ? outcome.retryAfterMillis : undefined
      if (hint !== undefined && (this.hint === undefined || hint > this.hint)) this.hint = hint
    } else {
      this.trailing = 0
      this.cleared = true
    }
    if ((bits & W.SLOW) !== 0) this.pendingSlow++
    // The ticker flushes it anyway; a call that could trip the shared circuit flushes before it returns.
    this.host.dirty(this, false)
    if (this.couldTrip(shared)) this.urgent = true
  }

  mustShare(): Effect.Effect<Change | undefined> | undefined {
    if (!this.urgent) return undefined
    this.urgent = false
    // A flush already on its way (the ticker's) carries older outcomes: wait for it, then send ours.
    const inFlight = this.inFlight
    const flush = Effect.map(this.flush, () => this.takeChange())
    return inFlight === undefined ? flush : Effect.andThen(Deferred.await(inFlight), flush)
  }

  /**
   * Whether the shared circuit, as last seen plus the outcomes of the flush on its way plus the
   * pending ones, would meet a trip rule.
   */
  couldTrip(shared: M.Closed): boolean {
    const rules = this.config.rules
    const f = this.flying
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!
      if (rule._tag === "Consecutive") {
        let before = shared.failures
        if (f !== undefined) before = f.cleared ? f.trailing : before + f.trailing
        if ((this.cleared ? 0 : before) + this.trailing >= rule.failures) return true
        continue
      }
      const seen = totalsOf(shared.windows?.[i])
      const calls = seen.calls + this.pendingCalls + (f?.calls ?? 0)
      if (calls < rule.minimumCalls) continue
      const bad = rule._tag === "FailureRate"
        ? seen.failures + this.pendingFailures + (f?.failures ?? 0)
        : seen.slow + this.pendingSlow + (f?.slow ?? 0)
      if (bad / calls >= rule.threshold) return true
    }
    return false
  }

  clearPending(): void {
    this.urgent = false
    this.runs = []
    this.hint = undefined
    this.trailing = 0
    this.cleared = false
    this.pendingCalls = 0
    this.pendingFailures = 0
    this.pendingSlow = 0
  }

  rejectsAt(now: number): boolean {
    if (this.unavailable) return this.host.onStoreError === "reject" || this.fallback.rejectsAt(now)
    const shared = this.shared
    if (shared === undefined) return false
    return shared._tag === "Isolated" || (shared._tag === "Open" && now < this.localUntil)
  }

  /** A rejection decided here (the breaker asks only after `rejectsAt`). */
  admitAt(now: number): Admission {
    if (this.fallingBack) return this.fallback.admitAt(now)
    const shared = this.shared
    const retryAfterMillis = shared !== undefined && shared._tag === "Open" ? Math.max(0, this.localUntil - now) : undefined
    return { _tag: "Rejected", retryAfterMillis, change: this.takeChange() }
  }

  recordAt(_token: Token, _outcome: Outcome, _now: number): Change | undefined {
    // Outcomes of admissions through `admit` go through `record` (remoteAdmission).
    return undefined
  }

  forgettable(_now: number): boolean {
    if (this.runs.length > 0 || this.flushing) return false
    this.host.forget(this)
    return true
  }

  // ------------------------------------------------------------------------------------------
  // Through Redis: flushes, polls, probes, signals, reads
  // ------------------------------------------------------------------------------------------

  /** Sends the pending outcomes (one script call); while Redis is unavailable they go to the fallback. */
  get flush(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.runs.length === 0 || this.flushing) return Effect.void
      const runs = this.runs
      const gen = this.pendingGen
      const hint = this.hint
      this.flying = { cleared: this.cleared, trailing: this.trailing, calls: this.pendingCalls, failures: this.pendingFailures, slow: this.pendingSlow }
      this.clearPending()
      this.flushing = true
      const done = Deferred.makeUnsafe<void>()
      this.inFlight = done
      this.flushes++
      return this.run("M", gen, false, hint, "", runs.join(" ")).pipe(
        Effect.map((step) => {
          if (step !== undefined) return
          // Unavailable: what this process saw still counts, in its own circuit.
          for (let i = 0; i < runs.length; i += 2) {
            const outcome: Outcome = (runs[i]! & W.FAILED) !== 0
              ? { _tag: "Failure", slow: (runs[i]! & W.SLOW) !== 0, retryAfterMillis: hint }
              : { _tag: "Success", slow: runs[i] === W.SLOW }
            for (let n = 0; n < runs[i + 1]!; n++) this.fallback.recordClosed(outcome, this.now())
          }
        }),
        Effect.ensuring(Effect.sync(() => {
          this.flushing = false
          this.flying = undefined
          this.inFlight = undefined
          Deferred.doneUnsafe(done, Exit.void)
          // Outcomes recorded meanwhile wait for the next tick; one that could trip goes now.
          if (this.runs.length > 0) this.host.dirty(this, this.shared?._tag === "Closed" && this.couldTrip(this.shared))
        }))
      )
    })
  }

  /** Reads the shared state (the subscription is down, or Redis was unavailable). */
  get poll(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.polls++
      return Effect.asVoid(this.run("G"))
    })
  }

  get admit(): Effect.Effect<Admission> {
    return Effect.suspend(() => {
      const lease = this.host.nextLease()
      // An admission that got no reply in time may still be applied later: release its slot by name.
      const release = this.host.call("L", 0, false, undefined, lease, "")
      return Effect.map(this.run("A", 0, false, undefined, lease, "", release), (step): Admission => {
        if (step === undefined) {
          if (this.host.onStoreError === "reject") return { _tag: "Rejected", retryAfterMillis: undefined, change: undefined }
          const local = this.fallback.admitAt(this.now())
          return local._tag === "Rejected" ? local : { ...local, token: toToken({ kind: "fallback", token: local.token }) }
        }
        const [state, , ticket] = step
        const change = this.takeChange()
        if (ticket === -1) return { _tag: "Rejected", retryAfterMillis: M.retryAfter(state, this.sharedAt), change }
        const token: NearToken = state._tag === "Closed" ? CLOSED_TOKEN : { kind: "remote", ticket, lease }
        return { _tag: "Admitted", token: toToken(token), probe: state._tag === "HalfOpen", change }
      })
    })
  }

  record(token: Token, outcome: Outcome): Effect.Effect<Change | undefined> {
    const t = fromToken(token)
    if (t.kind === "fallback") return this.fallback.record(t.token, outcome)
    if (t.kind === "closed") {
      return Effect.suspend(() => {
        const change = this.recordClosed(outcome, this.now())
        const shared = this.mustShare()
        return shared === undefined ? Effect.succeed(change) : Effect.map(shared, (later) => later ?? change)
      })
    }
    const [code, ticket, slow, retryAfter] = S.encodeEvent(toEvent(t.ticket, outcome))
    return Effect.map(this.run(code, ticket, slow, retryAfter, t.lease), () => this.takeChange())
  }

  signal(signal: Signal): Effect.Effect<Change | undefined> {
    const [code] = S.encodeEvent(signalEvents[signal])
    const remote = Effect.map(this.run(code), () => this.takeChange())
    // A reset also clears what this process counted while Redis was unavailable.
    return signal === "Reset" ? Effect.tap(remote, () => this.fallback.signal("Reset")) : remote
  }

  get read(): Effect.Effect<Snapshot> {
    return Effect.flatMap(this.run("T"), (step) => {
      if (step === undefined) return this.fallback.read
      const state = step[0]
      return Effect.succeed({ state: toPublic(state), now: this.sharedAt, rates: M.rates(state, this.config, this.sharedAt), change: this.takeChange() })
    })
  }
}
