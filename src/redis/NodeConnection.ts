/**
 * NodeConnection: the `Redis` service for Node (`NodeRedis.layer` from `@effect/platform-node`)
 * with a shutdown that cannot hang. node-redis' `close()` waits for the reply of every command in
 * flight, so with a paused or unreachable-but-connected Redis (SIGSTOP, a frozen VM, a network
 * partition that drops packets) the scope holding the connection never finishes closing, and
 * neither does the program. Here the close first asks Redis for a `PING` within `closeTimeout`:
 * replies come in order, so an answer means nothing is left in flight and the client closes
 * gracefully; no answer, and the client is destroyed (commands in flight are failed). The
 * connections the stores open beside it (the near cache's subscription, reserved connections)
 * are destroyed, never awaited, by `NodeRedis` itself.
 *
 * It lives outside `effect-resilience/redis` (import `effect-resilience/redis/NodeConnection`)
 * so that the Redis stores do not require `@effect/platform-node`.
 *
 * @since 0.1.0
 */
import { NodeRedis } from "@effect/platform-node"
import { Context, Duration, Effect, Exit, Fiber, Layer, Option, Result, Schema, Scope } from "effect"
import type { Redis } from "effect/persistence"
import { PositiveDelay, withDefault } from "../internal/fields.ts"
import type { PolicyError } from "../internal/policyError.ts"
import { decodeOptions } from "../internal/strict.ts"

/**
 * The options this module adds to node-redis' own: `closeTimeout` (1 second), how long closing
 * waits for Redis to answer before the client is destroyed (and, again, at most how long the
 * close then takes).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import * as NodeConnection from "effect-resilience/redis/NodeConnection"
 * Schema.decodeUnknownSync(NodeConnection.ClosePolicy)({ closeTimeout: "500 millis" })
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const ClosePolicy = Schema.Struct({
  closeTimeout: withDefault(PositiveDelay, "1 second")
})

/**
 * Options of `layer`: node-redis client options (and `Redis.PoolOptions`), as for
 * `NodeRedis.layer`, plus `closeTimeout`. `disableOfflineQueue` defaults to `true` here: a
 * command sent while disconnected fails at once instead of waiting for the store's timeout.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = NonNullable<Parameters<typeof NodeRedis.layer>[0]> & {
  /** How long closing waits for Redis before destroying the client. Default 1 second. */
  readonly closeTimeout?: Duration.Input | undefined
}

type Client = NodeRedis.NodeRedis["Service"]["client"]

/** Graceful when Redis answers within `bound`, destroyed otherwise; returns within about 2 × `bound`. */
const closeWithin = (scope: Scope.Closeable, client: Client, bound: number) =>
  Effect.gen(function*() {
    const answered = yield* Effect.tryPromise(() => client.sendCommand(["PING"])).pipe(
      Effect.timeoutOption(bound),
      Effect.map(Option.isSome),
      Effect.orElseSucceed(() => false)
    )
    if (!answered) {
      yield* Effect.sync(() => {
        try {
          if (client.isOpen) client.destroy()
        } catch {
          // Already closing or closed: nothing is left to destroy.
        }
      })
    }
    // NodeRedis' own finalizer (close) returns at once now; bounded anyway, it must not hang us.
    const closing = yield* Effect.forkDetach(Scope.close(scope, Exit.void))
    yield* Fiber.await(closing).pipe(Effect.timeoutOption(bound))
  })

/**
 * Provides `Redis` (and `NodeRedis`) over one node-redis client, like `NodeRedis.layer`, whose
 * closing finishes within about twice `closeTimeout` whatever state Redis is in. Fails with
 * `Policy.PolicyError` for a bad `closeTimeout`, or `RedisError` when it cannot connect.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * import { CircuitBreakerStore } from "effect-resilience/redis"
 * import * as NodeConnection from "effect-resilience/redis/NodeConnection"
 *
 * const Shared = CircuitBreakerStore.layer().pipe(
 *   Layer.provide(NodeConnection.layer({ url: "redis://127.0.0.1:6379", closeTimeout: "1 second" }))
 * )
 * const program = CircuitBreaker.make({ name: "payments" }).pipe(Effect.scoped, Effect.provide(Shared))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Redis.Redis | NodeRedis.NodeRedis, Redis.RedisError | PolicyError> =>
  Layer.effectContext(Effect.gen(function*() {
    const { closeTimeout, ...client } = options
    const decoded = decodeOptions(ClosePolicy, { closeTimeout })
    if (Result.isFailure(decoded)) return yield* Effect.fail(decoded.failure)
    const bound = Duration.toMillis(decoded.success.closeTimeout)
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(NodeRedis.layer({ disableOfflineQueue: true, ...client }), scope).pipe(
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
    yield* Effect.addFinalizer(() => closeWithin(scope, Context.get(context, NodeRedis.NodeRedis).client, bound))
    return context
  }))
