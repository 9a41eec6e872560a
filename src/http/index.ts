/**
 * effect-resilience/http: resilience for Effect's `HttpClient` (retries that respect idempotency,
 * per-host circuits, restartable bodies) and deadlines and attempt numbers that flow across
 * services (a client middleware and a server middleware for Effect's HTTP server and router).
 *
 * @since 0.1.0
 */

/**
 * An `HttpClient` that runs every request through a resilience policy.
 *
 * @since 0.1.0
 */
export * as ResilientClient from "./ResilientClient.ts"

/**
 * The server middleware: deadlines, shedding, attempt numbers, pushback.
 *
 * @since 0.1.0
 */
export * as ResilientServer from "./ResilientServer.ts"

/**
 * Header names and what the server middleware learnt about the request being handled.
 *
 * @since 0.1.0
 */
export * as Propagation from "./Propagation.ts"
