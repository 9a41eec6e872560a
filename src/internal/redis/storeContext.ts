/**
 * What every circuit of one Redis breaker store shares, in either mode: the resolved options, the
 * script runner with the context it needs, the store's id (it names probe leases), and the
 * channel transitions are published on; the guard each circuit runs its script calls through.
 *
 * @internal
 */
import { type Clock, type Context, Effect } from "effect"
import type { Redis } from "effect/persistence"
import type * as S from "./breakerScript.ts"
import { Guard } from "./guard.ts"

/** Resolved options, in milliseconds. */
export interface Resolved {
  readonly prefix: string
  readonly consistency: "nearCache" | "strict"
  readonly flushInterval: number
  readonly heartbeat: number
  readonly lease: number
  readonly idle: number
  readonly onStoreError: "allow" | "reject"
  readonly timeout: number
  readonly retryEvery: number
}

/** What every circuit of one store shares. */
export interface StoreContext {
  readonly resolved: Resolved
  readonly run: (...args: Parameters<typeof S.script["params"]>) => Effect.Effect<S.Reply, Redis.RedisError>
  readonly context: Context.Context<never>
  /** Names this store's probe leases apart from other processes'. */
  readonly id: string
  /** Where the script publishes transitions. */
  readonly channel: string
}

export const guardOf = (store: StoreContext, name: string, clock: Clock.Clock): Guard =>
  new Guard({
    what: `breaker ${name}`,
    timeout: store.resolved.timeout,
    retryEvery: store.resolved.retryEvery,
    fallback: store.resolved.onStoreError === "allow"
      ? "failing open (this process's circuit decides)"
      : "failing closed (calls rejected)"
  }, clock)

export const scriptCall = (
  store: StoreContext,
  key: string,
  encoded: string,
  code: S.Code,
  ticket: number,
  slow: boolean,
  retryAfter: number | undefined,
  lease: string,
  runs: string
): Effect.Effect<S.Reply, unknown> => {
  const { resolved, run } = store
  return Effect.provideContext(
    run(key, code, ticket, slow, retryAfter, undefined, encoded, resolved.lease, resolved.idle, lease, store.channel, runs),
    store.context
  )
}

/** The channel a store's script publishes transitions on (one per prefix). */
export const channelOf = (prefix: string): string => `${prefix}~transitions`

