/**
 * ResilientClient: an `HttpClient` that runs every request through a resilience policy.
 *
 * Transient statuses (408, 429, 5xx but 501/505/511) and transport errors become classified
 * failures with the server's hints (`Retry-After`, `retry-after-ms`); other responses, 4xx
 * included, are returned as they are. Only requests that are safe to send again are retried or
 * hedged: idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE), requests that carry an
 * idempotency key, and any request that failed before it was sent. Circuits are kept per host. A
 * body that fails before its first byte reaches the caller is read again from a fresh attempt; after
 * that it fails with a reason. The call's deadline and attempt number travel to the next service,
 * and a server's "do not retry" pushback is honoured.
 *
 * @since 0.1.0
 */
import { Data, Duration, Effect, Layer, Option, Random, Result, Schema, type Scope } from "effect"
import { Headers, HttpClient, HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import * as Failure from "../Failure.ts"
import * as Hedge from "../Hedge.ts"
import { CurrentDeadline } from "../internal/deadline.ts"
import { readHeader } from "../internal/hints.ts"
import { restartable } from "../internal/http/body.ts"
import { failedBeforeSending, hostOf, idempotentMethods, readPushback } from "../internal/http/rules.ts"
import { describe, get } from "../internal/inspect.ts"
import { PolicyError, prefixIssues } from "../internal/policyError.ts"
import { decodeOptions } from "../internal/strict.ts"
import * as Pipeline from "../Pipeline.ts"
import * as Policy from "../Policy.ts"
import * as Retry from "../Retry.ts"
import * as Timeout from "../Timeout.ts"
import * as Propagation from "./Propagation.ts"

/**
 * The client's options as data, the one place their rules and defaults live:
 *
 * * `retryable`: `"idempotent"` (default: GET, HEAD, OPTIONS, PUT, DELETE, requests with an
 *   idempotency key, and requests that failed before they were sent) or `"always"`.
 * * `idempotencyKey`: generate an idempotency key for each logical call of another method that has
 *   none (kept across its attempts and body restarts), which makes it retryable. Default `false`.
 * * `nestedRetries`: what a call made while handling a request that is itself a retry (its
 *   attempt header above 1) may do: `"all"` (default) retries as usual, `"none"` makes one attempt,
 *   `"budget"` retries only when the policy has a retry budget to pay for it.
 * * `honorPushback`: a failure whose response carries the pushback header is not retried
 *   (`stop`) or waits the milliseconds it names. Default `true`.
 * * `propagate`: send the time left and the attempt number. Default `true`.
 * * `headers`: the header names (`Propagation.HeaderNames`).
 * * `log`: log retries and circuit transitions. Default `true`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ResilientClient } from "effect-resilience/http"
 * Schema.decodeUnknownSync(ResilientClient.ClientOptions)({ idempotencyKey: true }).retryable // "idempotent"
 * ```
 * @since 0.1.0
 * @category schemas
 */
export const ClientOptions = Schema.Struct({
  name: Schema.optional(Schema.NonEmptyString),
  retryable: Schema.Literals(["idempotent", "always"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("idempotent" as const))),
  idempotencyKey: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  nestedRetries: Schema.Literals(["all", "none", "budget"]).pipe(Schema.withDecodingDefaultKey(Effect.succeed("all" as const))),
  honorPushback: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  propagate: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  log: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  headers: Propagation.HeaderNames.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

/**
 * Options of `make` and `layer`: the data fields of `ClientOptions`, the policy, and code-only hooks.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Partial<Omit<typeof ClientOptions.Encoded, "headers">> {
  /** The pipeline policy (retry, total and attempt timeouts, breaker, budget, hedge, …). Default `Policy.presets.http`. */
  readonly policy?: Policy.PipelinePolicyInput | undefined
  /** Header names; missing ones keep their defaults. */
  readonly headers?: Propagation.HeaderNamesInput | undefined
  /** Decides which requests may be sent again, instead of `retryable`. */
  readonly isRetryable?: ((request: HttpClientRequest.HttpClientRequest) => boolean) | undefined
  /** The circuit a request goes through (default: its URL's host). */
  readonly circuitKey?: ((request: HttpClientRequest.HttpClientRequest) => string) | undefined
}

/**
 * Why a transient failure was not retried: the request was not safe to send again
 * (`"notIdempotent"`), the server pushed back (`"pushback"`), or the call serves a request that is
 * itself a retry (`"nestedRetry"`).
 *
 * @since 0.1.0
 * @category models
 */
export type NotRetriedReason = "notIdempotent" | "pushback" | "nestedRetry"

/**
 * A transient failure that was not retried, inside a `Permanent` of the failure's kind, with the
 * reason and the failure itself.
 *
 * @example
 * ```ts
 * import { ResilientClient } from "effect-resilience/http"
 * const error = new ResilientClient.NotRetried({ reason: "pushback", error: "503" })
 * error.message // "Not retried (pushback): 503"
 * ```
 * @since 0.1.0
 * @category errors
 */
export class NotRetried extends Data.TaggedError("NotRetried")<{
  readonly reason: NotRetriedReason
  readonly error: unknown
}> {
  override get message(): string {
    return `Not retried (${this.reason}): ${describe(this.error)}`
  }
}

/**
 * What a resilient client's requests fail with: the pipeline's verdicts over `HttpClientError`s,
 * timeouts, open circuits and `NotRetried`.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientError = Pipeline.PipelineError<
  HttpClientError.HttpClientError | Failure.Permanent<NotRetried> | Failure.Permanent<HttpClientError.HttpClientError>
>

// The attempt number and time left, added to each attempt's request.
const propagated = (
  request: HttpClientRequest.HttpClientRequest,
  names: Propagation.HeaderNames,
  attempt: number,
  left: number | undefined
): HttpClientRequest.HttpClientRequest => {
  const withAttempt = HttpClientRequest.setHeader(request, names.attempt, String(attempt))
  return left === undefined ? withAttempt : HttpClientRequest.setHeader(withAttempt, names.timeLeft, String(Math.max(0, Math.floor(left))))
}

// The one safe header reader (any header shape, never throws); it takes lower-case names.
const header = (error: unknown, name: string): string | undefined => readHeader(get(get(error, "response"), "headers"), name.toLowerCase())

const newKey: Effect.Effect<string> = Effect.map(
  Effect.all([Random.nextIntBetween(0, 0xffffffff), Random.nextIntBetween(0, 0xffffffff), Random.nextIntBetween(0, 0xffffffff)]),
  (parts) => parts.map((n) => n.toString(16).padStart(8, "0")).join("-")
)

const deadlinePassed = new Failure.Permanent({
  error: new Timeout.TimeoutExceeded({ duration: Duration.zero, scope: "deadline" }),
  kind: "Timeout"
})

/** Did this call's final failure come after this layer retried (or from a pushback)? Then its caller should not retry. */
const gaveUp = (error: unknown): boolean => {
  if (error instanceof Retry.RetriesExhausted) return error.attempts > 1 || error.reason === "deadline"
  const inner = get(error, "error")
  if (inner instanceof NotRetried) return inner.reason === "pushback"
  return inner instanceof Timeout.TimeoutExceeded && inner.scope === "deadline"
}

/**
 * The `HttpClientError` inside a resilient client's failure (the last attempt's, for a call that
 * gave up), or, when there is none (a timeout, an open circuit, a full bulkhead), a
 * `TransportError` whose `cause` is the failure. `layer` maps every failure through it.
 *
 * @example
 * ```ts
 * import { HttpClientRequest } from "effect/http"
 * import { Failure } from "effect-resilience"
 * import { ResilientClient } from "effect-resilience/http"
 * const request = HttpClientRequest.get("https://example.com")
 * const error = ResilientClient.toHttpClientError(request, Failure.permanent("open", { kind: "CircuitOpen" }))
 * error.reason._tag // "TransportError"
 * ```
 * @since 0.1.0
 * @category conversions
 */
export const toHttpClientError = (
  request: HttpClientRequest.HttpClientRequest,
  failure: unknown
): HttpClientError.HttpClientError => {
  let current: unknown = failure
  for (let depth = 0; depth < 4; depth++) {
    if (HttpClientError.isHttpClientError(current)) return current
    current = get(current, "_tag") === "RetriesExhausted" ? get(get(current, "last"), "error") : get(current, "error")
  }
  return new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({ request, cause: failure, description: describe(failure) })
  })
}

type Decoded = typeof ClientOptions.Type & { readonly policy: Policy.PipelinePolicy }

const decode = (options: Options): Effect.Effect<Decoded, PolicyError> =>
  Effect.gen(function*() {
    const data = decodeOptions(ClientOptions, options, ["policy", "isRetryable", "circuitKey"])
    const policy = Policy.decodePipelineResult(options.policy ?? Policy.presets.http)
    // Every bad field in one error: the options' and the policy's (under `policy`).
    if (Result.isFailure(data) || Result.isFailure(policy)) {
      return yield* new PolicyError({
        issues: [
          ...(Result.isFailure(data) ? data.failure.issues : []),
          ...(Result.isFailure(policy) ? prefixIssues(["policy"], policy.failure.issues) : [])
        ]
      })
    }
    return { ...data.success, headers: Propagation.lowerCased(data.success.headers), policy: policy.success }
  })

/**
 * Wraps a client: every request runs through a pipeline built from `options.policy` (default
 * `Policy.presets.http`), whose circuit breaker, when it has one, becomes one circuit per host.
 * Successful responses (2xx, and statuses that are not transient such as 404) come back as they
 * are; failures are the pipeline's verdicts (`ClientError`). Needs a `Scope` (the breakers live
 * in it). Invalid options fail with a `Policy.PolicyError` naming every bad field.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 * import { ResilientClient } from "effect-resilience/http"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const client = yield* ResilientClient.make(yield* HttpClient.HttpClient, {
 *     policy: { retry: { maxRetries: 3, initialDelay: "200 millis" }, timeout: "10 seconds", circuitBreaker: true },
 *     idempotencyKey: true
 *   })
 *   const response = yield* client.post("https://api.example.com/v1/charges")
 *   return response.status
 * })).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  client: HttpClient.HttpClient,
  options: Options = {}
): Effect.Effect<HttpClient.HttpClient.With<ClientError>, PolicyError, Scope.Scope> =>
  Effect.gen(function*() {
    const decoded = yield* decode(options)
    const { circuitBreaker, attemptTimeout, hedge, ...rest } = decoded.policy
    const name = decoded.name ?? decoded.policy.name ?? "http"
    // The breaker, attempt timeout and hedging are applied here, around each attempt, so that the
    // circuit is per host and hedging follows the same rule as retries.
    const pipeline = yield* Pipeline.fromPolicy(rest, { name, log: decoded.log })
    const circuits = circuitBreaker === undefined || circuitBreaker === false
      ? undefined
      : yield* CircuitBreaker.keyed<string>({ ...CircuitBreaker.optionsFromPolicy(name, circuitBreaker), log: decoded.log })
    const retryPolicy = decoded.policy.retry
    const maxRestarts = retryPolicy === false ? 0 : (retryPolicy ?? Policy.defaults).maxRetries
    const names = decoded.headers
    const classify = Failure.makeClassifier({ unknown: retryPolicy === false ? "Permanent" : retryPolicy?.unknownErrors })
    const circuitKey = options.circuitKey ?? ((request: HttpClientRequest.HttpClientRequest) => hostOf(request.url))
    const isRetryable = options.isRetryable ?? ((request: HttpClientRequest.HttpClientRequest) =>
      decoded.retryable === "always" || idempotentMethods.has(request.method) ||
      Option.isSome(Headers.get(request.headers, names.idempotencyKey)))

    // One attempt: propagate, send, and turn a transient status into a failure (one source of truth:
    // the classifier's HTTP table).
    const send = (request: HttpClientRequest.HttpClientRequest, inheritedAttempt: number) =>
      Effect.gen(function*() {
        const attempt = Math.max(yield* Retry.CurrentAttempt, inheritedAttempt)
        const deadline = yield* CurrentDeadline
        let left: number | undefined
        if (deadline !== undefined) {
          left = deadline - (yield* Effect.clockWith((clock) => clock.currentTimeMillis))
          // Nobody waits for an answer any more: do not send.
          if (left <= 0) return yield* Effect.fail(deadlinePassed)
        }
        const sent = decoded.propagate ? propagated(request, names, attempt, left) : request
        const response = yield* client.execute(sent)
        if (Failure.httpStatus(response.status)._tag === "Transient") {
          return yield* Effect.fail(
            new HttpClientError.HttpClientError({ reason: new HttpClientError.StatusCodeError({ request: sent, response }) })
          )
        }
        return response
      })

    // A transient failure of a request that may not be sent again becomes Permanent, with the reason.
    const guard = (retryable: boolean, nested: boolean) => (error: unknown): unknown => {
      const verdict = classify(error)
      if (verdict._tag === "Permanent") return verdict
      const pushback = decoded.honorPushback ? readPushback(header(verdict.error, names.pushback)) : undefined
      const stop = (reason: NotRetriedReason) => new Failure.Permanent({ error: new NotRetried({ reason, error: verdict.error }), kind: verdict.kind })
      if (pushback !== undefined && pushback.stop) return stop("pushback")
      if (!retryable && !failedBeforeSending(verdict.error)) return stop("notIdempotent")
      if (nested) return stop("nestedRetry")
      if (pushback !== undefined && !pushback.stop) {
        const hint = Duration.millis(pushback.millis)
        return new Failure.Transient({
          error: verdict.error,
          kind: verdict.kind,
          retryAfter: verdict.retryAfter === undefined ? hint : Duration.max(verdict.retryAfter, hint)
        })
      }
      return verdict
    }

    const attemptOf = (request: HttpClientRequest.HttpClientRequest, retryable: boolean, nested: boolean) => {
      // A call made for a retried request says so downstream too, so the rule holds at every hop.
      let attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, unknown> = nested
        ? Effect.flatMap(Propagation.CurrentIncoming, (incoming) => send(request, incoming?.attempt ?? 1))
        : send(request, 1)
      if (hedge !== undefined && retryable && !nested) attempt = Hedge.hedge(attempt, hedge)
      if (attemptTimeout !== undefined) attempt = Timeout.attempt(attempt, attemptTimeout)
      if (circuits !== undefined) attempt = circuits.execute(circuitKey(request), attempt)
      return Effect.mapError(attempt, guard(retryable, nested))
    }

    const call = (request: HttpClientRequest.HttpClientRequest, retryable: boolean, nested: boolean) =>
      Effect.flatMap(Effect.exit(pipeline.execute(attemptOf(request, retryable, nested))), (exit) =>
        Effect.flatMap(Propagation.CurrentIncoming, (incoming) => {
          if (exit._tag === "Failure" && incoming !== undefined) {
            const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
            if (failure !== undefined && gaveUp(failure.error)) incoming.gaveUp = true
          }
          return exit
        }))

    const execute = (original: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function*() {
        let request = original
        if (
          decoded.idempotencyKey && !idempotentMethods.has(request.method) &&
          Option.isNone(Headers.get(request.headers, names.idempotencyKey))
        ) {
          request = HttpClientRequest.setHeader(request, names.idempotencyKey, yield* newKey)
        }
        const retryable = isRetryable(request)
        const incoming = yield* Propagation.CurrentIncoming
        const nested = incoming !== undefined && incoming.attempt > 1 &&
          (decoded.nestedRetries === "none" || (decoded.nestedRetries === "budget" && pipeline.budget === undefined))
        const deadline = yield* CurrentDeadline
        const response = yield* call(request, retryable, nested)
        if (!retryable || nested || maxRestarts === 0) return response
        // A body read later (maybe elsewhere) restarts within the call's deadline, with the same key.
        const again = Effect.provideService(call(request, retryable, nested), CurrentDeadline, deadline).pipe(
          Effect.mapError((failure) => toHttpClientError(request, failure))
        )
        return restartable(response, {
          allowed: (error) => classify(error)._tag === "Transient",
          again,
          max: maxRestarts
        })
      })

    return HttpClient.makeWith(
      (effect) => Effect.flatMap(effect, execute),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    ) as HttpClient.HttpClient.With<ClientError>
  })

/**
 * A layer that replaces the `HttpClient` service with a resilient one built from the current
 * client. Its requests keep `HttpClient`'s error type: a failure is the last `HttpClientError`
 * (the response of a 503 that was retried until the policy gave up, say), or a `TransportError`
 * whose `cause` is the verdict when there is none (a timeout, an open circuit, a full bulkhead).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 * import { ResilientClient } from "effect-resilience/http"
 *
 * const Client = ResilientClient.layer({ policy: { retry: { maxRetries: 2 }, circuitBreaker: true } }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * const status = HttpClient.get("https://example.com").pipe(Effect.map((r) => r.status), Effect.provide(Client))
 * ```
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient, PolicyError, HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const resilient = yield* make(yield* HttpClient.HttpClient, options)
      return HttpClient.makeWith(
        (effect) =>
          Effect.flatMap(effect, (request) =>
            Effect.mapError(resilient.execute(request), (failure) => toHttpClientError(request, failure))),
        Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
      )
    })
  )
