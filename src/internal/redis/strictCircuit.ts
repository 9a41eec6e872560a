/**
 * A circuit of the strict Redis store: every admission and every counted outcome is one script
 * call; this process's in-memory circuit decides while Redis is unavailable.
 *
 * @internal
 */
import { type Clock, Effect } from "effect"
import * as M from "../breaker/machine.ts"
import { MemoryCircuit } from "../breaker/memory.ts"
import type { Admission, Change, CircuitConfig, Outcome, Signal, Snapshot, StoredCircuit, Token } from "../breaker/model.ts"
import { signalEvents, toEvent, toPublic } from "../breaker/translate.ts"
import * as S from "./breakerScript.ts"
import type { Guard } from "./guard.ts"
import { guardOf, scriptCall, type StoreContext } from "./storeContext.ts"

/** The fencing token of an admission: by Redis (its ticket and probe lease) or, while Redis is unavailable, by the local circuit. */
type RedisToken =
  | { readonly remote: true; readonly ticket: number; readonly lease: string; readonly quiet: boolean }
  | { readonly remote: false; readonly token: Token }

const toToken = (token: RedisToken): Token => token as unknown as Token
const fromToken = (token: Token): RedisToken => token as unknown as RedisToken

/** One circuit kept in Redis, with this process's in-memory circuit as the fallback while Redis is unavailable. */
export class RedisCircuit implements StoredCircuit {
  readonly local = undefined
  readonly fallback: MemoryCircuit
  readonly guard: Guard
  readonly encoded: string
  /** A success changes nothing in a closed circuit without failures when no rule keeps a window or times calls. */
  readonly windowed: boolean
  nextLease = 0
  readonly store: StoreContext
  readonly key: string
  readonly config: CircuitConfig

  constructor(store: StoreContext, key: string, config: CircuitConfig, clock: Clock.Clock, name: string) {
    this.store = store
    this.key = key
    this.config = config
    this.fallback = new MemoryCircuit(config, clock)
    this.encoded = S.encodeConfig(config)
    this.windowed = M.hasWindows(config)
    this.guard = guardOf(store, name, clock)
  }

  call(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = ""): Effect.Effect<S.Reply, unknown> {
    return scriptCall(this.store, this.key, this.encoded, code, ticket, slow, retryAfter, lease, "")
  }

  /** Runs one event through the guard; `undefined` while Redis is unavailable. */
  apply(code: S.Code, ticket = 0, slow = false, retryAfter: number | undefined = undefined, lease = "", abandoned?: Effect.Effect<unknown, unknown>) {
    return Effect.map(
      this.guard.run(this.call(code, ticket, slow, retryAfter, lease), abandoned),
      (reply) => (reply === undefined ? undefined : S.decodeReply(reply, this.config))
    )
  }

  get admit(): Effect.Effect<Admission> {
    return Effect.suspend(() => {
      const lease = `${this.store.id}.${this.nextLease++}`
      // An admission that got no reply in time may still be applied later: release its slot by name.
      const release = Effect.timeout(this.call("L", 0, false, undefined, lease), this.store.resolved.lease)
      return Effect.map(this.apply("A", 0, false, undefined, lease, release), (reply): Admission => {
        if (reply === undefined) {
          if (this.store.resolved.onStoreError === "reject") return { _tag: "Rejected", retryAfterMillis: undefined, change: undefined }
          const local = this.fallback.admitAt(this.fallback.clock.currentTimeMillisUnsafe())
          return local._tag === "Rejected" ? local : { ...local, token: toToken({ remote: false, token: local.token }) }
        }
        const [state, change, ticket] = reply.step
        if (ticket === -1) return { _tag: "Rejected", retryAfterMillis: M.retryAfter(state, reply.now), change }
        const quiet = state._tag === "Closed" && state.failures === 0 && !this.windowed
        return { _tag: "Admitted", token: toToken({ remote: true, ticket, lease, quiet }), probe: state._tag === "HalfOpen", change }
      })
    })
  }

  record(token: Token, outcome: Outcome): Effect.Effect<Change | undefined> {
    const t = fromToken(token)
    if (!t.remote) return this.fallback.record(t.token, outcome)
    if (t.quiet && outcome._tag === "Success" && !outcome.slow) return Effect.succeed(undefined)
    const event = toEvent(t.ticket, outcome)
    const [code, ticket, slow, retryAfter] = S.encodeEvent(event)
    return Effect.map(this.apply(code, ticket, slow, retryAfter, t.lease), (reply) => reply?.step[1])
  }

  signal(signal: Signal): Effect.Effect<Change | undefined> {
    const [code] = S.encodeEvent(signalEvents[signal])
    const remote = Effect.map(this.apply(code), (reply) => reply?.step[1])
    // A reset also clears what this process counted while Redis was unavailable.
    return signal === "Reset" ? Effect.tap(remote, () => this.fallback.signal("Reset")) : remote
  }

  get read(): Effect.Effect<Snapshot> {
    return Effect.flatMap(this.apply("T"), (reply) => {
      if (reply === undefined) return this.fallback.read
      const state = reply.step[0]
      return Effect.succeed({ state: toPublic(state), now: reply.now, rates: M.rates(state, this.config, reply.now), change: reply.step[1] })
    })
  }
}

