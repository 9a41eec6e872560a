/**
 * ResilientServer: the server half of deadlines and one-layer retries, as a middleware for Effect's
 * HTTP server and router.
 *
 * It reads the caller's time left and attempt number (`Propagation`), gives the handler the same
 * deadline (`Deadline`, so its own timeouts and retries fit in it, and its `ResilientClient` calls
 * pass it on), sheds a request that arrives with no time left with a fast 504 instead of doing the
 * work, answers 504 when the deadline passes during the work, and tells the caller not to retry a
 * failure that this service already retried downstream (the pushback header).
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Layer, Result, Schema } from "effect"
import { HttpEffect, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { CurrentDeadline } from "../internal/deadline.ts"
import { Delay, withDefault } from "../internal/fields.ts"
import { integerHeader } from "../internal/http/rules.ts"
import type { PolicyError } from "../internal/policyError.ts"
import { decodeOptions } from "../internal/strict.ts"
import * as Propagation from "./Propagation.ts"

/**
 * The middleware's options as data:
 *
 * * `minTimeLeft`: a request with less time left than this is shed at once (default 0: only a
 *   request whose deadline has passed).
 * * `shedStatus`: the status of a shed request, 503 or 504 (default 504).
 * * `enforce`: answer with `shedStatus` when the deadline passes while the handler works,
 *   interrupting it (default `true`).
 * * `pushback`: add the pushback header (`stop`) to a shed request and to a 5xx answer given after
 *   a `ResilientClient` call of this request gave up retrying, so the caller does not retry too
 *   (default `true`).
 * * `headers`: the header names (`Propagation.HeaderNames`).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ResilientServer } from "effect-resilience/http"
 * Schema.decodeUnknownSync(ResilientServer.ServerOptions)({ shedStatus: 503 }).enforce // true
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const ServerOptions = Schema.Struct({
  minTimeLeft: withDefault(Delay, 0),
  shedStatus: Schema.Literals([503, 504]).pipe(Schema.withDecodingDefaultKey(Effect.succeed(504 as const))),
  enforce: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  pushback: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  headers: Propagation.HeaderNames.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

/**
 * Options of `middleware`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Partial<Omit<typeof ServerOptions.Encoded, "headers">> {
  readonly headers?: Propagation.HeaderNamesInput | undefined
}

/**
 * A middleware over any HTTP app (`HttpServer.serve(app, middleware)`, `HttpRouter.serve(…, { middleware })`).
 *
 * @since 0.1.0
 * @category models
 */
export type Middleware = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>

/**
 * Builds the middleware; invalid options are a `PolicyError` naming every bad field.
 *
 * @example
 * ```ts
 * import { Effect, Result } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import { ResilientServer } from "effect-resilience/http"
 *
 * const middleware = ResilientServer.make({ minTimeLeft: "20 millis" })
 * const app = Effect.succeed(HttpServerResponse.text("ok"))
 * const served = Result.map(middleware, (m) => m(app))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Result.Result<Middleware, PolicyError> =>
  Result.map(decodeOptions(ServerOptions, options), (decoded) => build(decoded))

/**
 * The middleware with `options`, for code whose options are constants: invalid options make every
 * request die with the `PolicyError` (prefer `make` to handle it).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpServerResponse } from "effect/http"
 * import { ResilientServer } from "effect-resilience/http"
 *
 * const app = ResilientServer.middleware()(Effect.succeed(HttpServerResponse.text("ok")))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const middleware = (options: Options = {}): Middleware => {
  const made = make(options)
  return Result.isSuccess(made) ? made.success : (() => Effect.die(made.failure)) as Middleware
}

/**
 * The middleware as a global `HttpRouter` middleware layer.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpRouter, HttpServerResponse } from "effect/http"
 * import { ResilientServer } from "effect-resilience/http"
 *
 * const App = Layer.mergeAll(
 *   HttpRouter.add("GET", "/hello", HttpServerResponse.text("hello")),
 *   ResilientServer.layerRouter()
 * )
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layerRouter = (options: Options = {}): Layer.Layer<never, never, HttpRouter.HttpRouter> =>
  HttpRouter.middleware(middleware(options) as never, { global: true }) as Layer.Layer<never, never, HttpRouter.HttpRouter>

const build = (options: typeof ServerOptions.Type): Middleware => {
  const names = Propagation.lowerCased(options.headers)
  const minLeft = Duration.toMillis(options.minTimeLeft)
  const shed = () =>
    HttpServerResponse.empty({
      status: options.shedStatus,
      headers: options.pushback ? { [names.pushback]: "stop" } : {}
    })
  return <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const attempt = integerHeader(request.headers[names.attempt])
      const left = integerHeader(request.headers[names.timeLeft])
      const now = (yield* Clock.Clock).currentTimeMillisUnsafe()
      if (left !== undefined && (left <= 0 || left < minLeft)) return shed()
      const deadline = left === undefined ? undefined : now + left
      const incoming: Propagation.Incoming = { attempt: attempt !== undefined && attempt > 0 ? attempt : 1, deadline, gaveUp: false }
      if (options.pushback) {
        // Before the response is written (the app may write it itself): a failure this service
        // already retried downstream tells the caller not to retry it again.
        yield* HttpEffect.appendPreResponseHandler((_request, response) =>
          Effect.succeed(
            incoming.gaveUp && response.status >= 500 ? HttpServerResponse.setHeader(response, names.pushback, "stop") : response
          )
        )
      }
      let handled = Effect.provideService(app, Propagation.CurrentIncoming, incoming)
      if (deadline !== undefined) {
        handled = Effect.provideService(handled, CurrentDeadline, deadline)
        if (options.enforce) {
          handled = Effect.timeoutOrElse(handled, { duration: Duration.millis(left!), orElse: () => Effect.succeed(shed()) })
        }
      }
      return yield* handled
    })
}
