// Effect HTTP services on 127.0.0.1 (Node's server through @effect/platform-node), each behind the
// ResilientServer middleware, for tests that chain real services. Closed with the scope.
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, type Scope } from "effect"
import { HttpServer, type HttpServerRequest, type HttpServerResponse } from "effect/http"
import { createServer } from "node:http"
import { ResilientServer } from "../../src/http/index.ts"

/** Serves `app` behind the middleware; returns the service's base URL. */
export const service = <E>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, HttpServerRequest.HttpServerRequest>,
  options: ResilientServer.Options = {}
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" }).pipe(Effect.orDie)
    yield* server.serve(app, ResilientServer.middleware(options))
    return HttpServer.formatAddress(server.address)
  })
