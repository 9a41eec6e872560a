/**
 * Response bodies that are read again from a fresh attempt when they fail before their first byte
 * reached the caller, and that say why they are not once it has.
 */
import { Effect, Stream } from "effect"
import { HttpClientError, type HttpClientResponse } from "effect/http"

/** How a failed body continues: a fresh response to read from, or `undefined` for "not again". */
export interface Restart {
  /** Whether this body failure may be retried at all (the request's rules and the error's verdict). */
  readonly allowed: (error: HttpClientError.HttpClientError) => boolean
  /** Runs the logical call again (same request, same idempotency key). */
  readonly again: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
  /** How many times a body may be restarted. */
  readonly max: number
}

const afterFirstByte = (
  response: HttpClientResponse.HttpClientResponse,
  error: HttpClientError.HttpClientError,
  bytes: number
): HttpClientError.HttpClientError =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.DecodeError({
      request: response.request,
      response,
      cause: error,
      description: `the body failed after ${bytes} byte${bytes === 1 ? " was" : "s were"} handed to the caller; ` +
        `not retried, since a retry would repeat them (${error.message})`
    })
  })

/**
 * A response whose `stream`, `text`, `arrayBuffer` and `json` restart the call when the body fails
 * before any byte was handed to the caller. `text` and friends hand nothing over before the whole
 * body is read, so any failure of theirs may restart; a `stream` may only until its first chunk.
 */
export const restartable = (
  first: HttpClientResponse.HttpClientResponse,
  restart: Restart
): HttpClientResponse.HttpClientResponse => {
  let restarts = 0
  const next = (error: HttpClientError.HttpClientError) =>
    restarts < restart.max && restart.allowed(error)
      ? (restarts++, restart.again)
      : undefined

  const streamFrom = (response: HttpClientResponse.HttpClientResponse): Stream.Stream<Uint8Array, HttpClientError.HttpClientError> =>
    Stream.suspend(() => {
      let handed = 0
      return response.stream.pipe(
        Stream.map((bytes) => {
          handed += bytes.length
          return bytes
        }),
        Stream.catchTag("HttpClientError", (error) => {
          if (handed > 0) return Stream.fail(afterFirstByte(response, error, handed))
          const again = next(error)
          return again === undefined ? Stream.fail(error) : Stream.unwrap(Effect.map(again, streamFrom))
        })
      )
    })

  const whole = <A>(read: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, HttpClientError.HttpClientError>) => {
    const from = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, HttpClientError.HttpClientError> =>
      Effect.catchTag(read(response), "HttpClientError", (error) => {
        const again = next(error)
        return again === undefined ? Effect.fail(error) : Effect.flatMap(again, from)
      })
    return from(first)
  }

  // The response's other members (status, headers, cookies, formData, …) stay those of `first`.
  const wrapped = Object.create(first) as Record<string, unknown>
  Object.defineProperties(wrapped, {
    stream: { get: () => streamFrom(first) },
    text: { get: () => whole((r) => r.text) },
    arrayBuffer: { get: () => whole((r) => r.arrayBuffer) },
    json: { get: () => whole((r) => r.json) }
  })
  return wrapped as unknown as HttpClientResponse.HttpClientResponse
}
