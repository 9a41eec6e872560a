// Integration with effect/http's HttpClient against a real server on 127.0.0.1: statuses,
// Retry-After and connection failures surface as HttpClientError, and the default classifier
// sorts them the way the HTTP table says.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { FetchHttpClient, HttpClient } from "effect/http"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Failure, Retry } from "../src/index.ts"

/** A loopback server that answers each request with the next scripted status. */
const serve = (script: ReadonlyArray<{ readonly status: number; readonly headers?: Record<string, string> }>) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: Server; readonly url: string; readonly hits: { n: number } }>((resume) => {
      const hits = { n: 0 }
      const server = createServer((_req, res) => {
        const step = script[Math.min(hits.n, script.length - 1)]!
        hits.n++
        res.writeHead(step.status, step.headers ?? {})
        res.end(step.status === 200 ? "{\"ok\":true}" : "busy")
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}/v1/complete`, hits }))
      })
    }),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

const getOk = (url: string) =>
  HttpClient.HttpClient.pipe(
    Effect.flatMap((client) => HttpClient.filterStatusOk(client).get(url)),
    Effect.flatMap((response) => response.text)
  )

describe("effect/http HttpClient errors", () => {
  it.effect("a 503 with Retry-After is a transient Server failure with the hint; retry waits for it", () =>
    Effect.gen(function*() {
      const { hits, url } = yield* serve([{ status: 503, headers: { "retry-after": "1" } }, { status: 503, headers: { "retry-after": "1" } }, {
        status: 200
      }])
      const error = yield* Effect.flip(getOk(url))
      const verdict = Failure.defaultClassifier(error)
      assert.strictEqual(`${verdict._tag}/${verdict.kind}`, "Transient/Server")
      assert.strictEqual(verdict._tag === "Transient" && verdict.retryAfter !== undefined && Duration.toMillis(verdict.retryAfter), 1000)
      // The retry waits on the TestClock: it sleeps for Retry-After (1 s), not the 10 ms backoff.
      const waiting = yield* Deferred.make<number>()
      const fiber = yield* Effect.forkChild(getOk(url).pipe(Retry.retry({
        maxRetries: 2,
        initialDelay: 10,
        jitter: "none",
        log: false,
        onRetry: (event) => Deferred.succeed(waiting, Duration.toMillis(event.delay)).pipe(Effect.asVoid)
      })))
      assert.strictEqual(yield* Deferred.await(waiting), 1000)
      assert.strictEqual(hits.n, 2)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(hits.n, 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "{\"ok\":true}")
      assert.strictEqual(hits.n, 3)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("4xx statuses are permanent and not retried", () =>
    Effect.gen(function*() {
      const { hits, url } = yield* serve([{ status: 401 }])
      const error = yield* Effect.flip(getOk(url).pipe(Retry.retry({ maxRetries: 3, initialDelay: 1, log: false })))
      assert.strictEqual(error._tag === "Permanent" && error.kind, "Auth")
      assert.strictEqual(hits.n, 1)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("a refused connection is a transient Network failure", () =>
    Effect.gen(function*() {
      // Bind and close a port, so nothing listens on it.
      const { server, url } = yield* serve([{ status: 200 }])
      yield* Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
      const error = yield* Effect.flip(getOk(url))
      const verdict = Failure.defaultClassifier(error)
      assert.strictEqual(`${verdict._tag}/${verdict.kind}`, "Transient/Network")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
