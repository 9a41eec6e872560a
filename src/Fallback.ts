/**
 * Fallback: what to answer when everything else failed (retries exhausted, circuit open, bulkhead
 * full, a permanent error): a cached value, a default, or another effect, chosen by the failure's
 * `Kind`.
 *
 * The kind is read from the error itself: a `Transient`/`Permanent` verdict's `kind`, the last
 * failure's kind for `Retry.RetriesExhausted`, else `Failure.defaultClassifier` (so a
 * `BreakerOpen` is `"CircuitOpen"` and a `BulkheadFull` is `"RateLimit"`). Only typed failures are
 * handled: defects and interruptions pass through.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { dual } from "effect/Function"
import type { Kind } from "./Failure.ts"
import { kindOf } from "./internal/errorInfo.ts"

/**
 * What to fall back to: a fixed `value`, or an `effect` built from the error and its kind.
 *
 * @since 0.1.0
 * @category models
 */
export type To<E, B, E2, R2> =
  | { readonly value: B }
  | { readonly effect: (error: E, kind: Kind) => Effect.Effect<B, E2, R2> }

/**
 * Options of `orElse`: the fallback, and the kinds it applies to (all kinds when `kinds` is absent).
 *
 * @since 0.1.0
 * @category models
 */
export type OrElseOptions<E, B, E2, R2, K extends ReadonlyArray<Kind> | undefined> = To<E, B, E2, R2> & {
  readonly kinds?: K
}

/**
 * The errors left after a fallback: none when it handles every kind, all of `E` when it is limited
 * to some `kinds` (the types cannot tell which errors have which kind).
 *
 * @since 0.1.0
 * @category models
 */
export type Remaining<E, K> = K extends ReadonlyArray<Kind> ? E : never

/**
 * Falls back to a value or an effect when the effect fails, for every failure or only for the
 * given `kinds`. Without `kinds` the error type afterwards is only the fallback effect's own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback, Retry } from "effect-resilience"
 *
 * declare const price: Effect.Effect<number, { readonly status: number }>
 * declare const cachedPrice: Effect.Effect<number>
 *
 * // any failure: the cached price
 * const a = price.pipe(Retry.retry({ maxRetries: 3 }), Fallback.orElse({ effect: () => cachedPrice }))
 * // only when rate-limited: a fixed answer; other failures stay in the error channel
 * const b = price.pipe(Retry.retry({ maxRetries: 3 }), Fallback.orElse({ kinds: ["RateLimit"], value: -1 }))
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const orElse: {
  <B, K extends ReadonlyArray<Kind> | undefined = undefined>(
    options: { readonly value: B; readonly kinds?: K }
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | B, Remaining<E, K>, R>
  <E, B, E2 = never, R2 = never, K extends ReadonlyArray<Kind> | undefined = undefined>(
    options: { readonly effect: (error: E, kind: Kind) => Effect.Effect<B, E2, R2>; readonly kinds?: K }
  ): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | B, Remaining<E, K> | E2, R | R2>
  <A, E, R, B, E2 = never, R2 = never, K extends ReadonlyArray<Kind> | undefined = undefined>(
    self: Effect.Effect<A, E, R>,
    options: OrElseOptions<NoInfer<E>, B, E2, R2, K>
  ): Effect.Effect<A | B, Remaining<E, K> | E2, R | R2>
} = dual(2, <A, E, R, B, E2, R2>(
  self: Effect.Effect<A, E, R>,
  options: OrElseOptions<E, B, E2, R2, ReadonlyArray<Kind> | undefined>
): Effect.Effect<A | B, E | E2, R | R2> => {
  const kinds = options.kinds
  return Effect.catch(self, (error): Effect.Effect<B, E | E2, R2> => {
    const kind = kindOf(error)
    if (kinds !== undefined && !kinds.includes(kind)) return Effect.fail(error)
    return "effect" in options ? options.effect(error, kind) : Effect.succeed(options.value)
  })
})

/**
 * Fallbacks by kind: each entry is a value, or an `Effect` to run; `default` covers the kinds not
 * listed.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers = { readonly [K in Kind | "default"]?: unknown }

type Values<H> = H[keyof H]
type SuccessOf<X> = X extends Effect.Effect<infer A, infer _E, infer _R> ? A : X

/**
 * The success type a fallback adds: the values, or the success types of the effects, of `H`.
 *
 * @since 0.1.0
 * @category models
 */
export type HandlersSuccess<H> = SuccessOf<Values<H>>

/**
 * Picks a fallback by the failure's kind: `{ CircuitOpen: cached, RateLimit: Effect, default: … }`.
 * Kinds with no entry and no `default` keep failing with the original error. The error type drops
 * `E` only when there is a `default`. An entry that is an `Effect` is run; anything else is the
 * value to succeed with (to compute a value from the error, use `orElse` with `effect`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * declare const recommendations: Effect.Effect<ReadonlyArray<string>, Error>
 * declare const fromCache: Effect.Effect<ReadonlyArray<string>>
 *
 * const safe = recommendations.pipe(
 *   Fallback.byKind({ CircuitOpen: fromCache, RateLimit: fromCache, default: [] })
 * ) // Effect<ReadonlyArray<string>, never>
 * ```
 * @since 0.1.0
 * @category combinators
 */
export const byKind: {
  <H extends Handlers>(
    handlers: H & { readonly [K in Exclude<keyof H, Kind | "default">]: never }
  ): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<
    A | HandlersSuccess<H>,
    Effect.Error<Values<H>> | ("default" extends keyof H ? never : E),
    R | Effect.Services<Values<H>>
  >
  <A, E, R, H extends Handlers>(
    self: Effect.Effect<A, E, R>,
    handlers: H & { readonly [K in Exclude<keyof H, Kind | "default">]: never }
  ): Effect.Effect<
    A | HandlersSuccess<H>,
    Effect.Error<Values<H>> | ("default" extends keyof H ? never : E),
    R | Effect.Services<Values<H>>
  >
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, handlers: Handlers): Effect.Effect<unknown, unknown, unknown> => {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(handlers, key)
  return Effect.catch(self, (error) => {
    const kind = kindOf(error)
    const key = has(kind) ? kind : has("default") ? "default" : undefined
    if (key === undefined) return Effect.fail(error)
    const handler: unknown = handlers[key as keyof Handlers]
    return Effect.isEffect(handler) ? handler : Effect.succeed(handler)
  })
})
