// ResilientClient against real loopback servers, through both of Effect's clients (fetch and
// Node's undici). Sockets are real, so these run on the live clock with 1 ms backoffs; no test
// asserts on how long anything took.
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Fiber, Layer, Random, Stream } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { Propagation, ResilientClient } from "../../src/http/index.ts"
import { Deadline, Timeout } from "../../src/index.ts"
import { closedPort, loopback, reply } from "./loopback.ts"

const fast = { retry: { maxRetries: 2, initialDelay: 1, jitter: "none" as const }, circuitBreaker: false as const }

const resilient = (options: ResilientClient.Options = {}) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => ResilientClient.make(client, { policy: fast, log: false, ...options }))

const clients = [
  ["fetch", FetchHttpClient.layer],
  ["node (undici)", NodeHttpClient.layerUndici]
] as const

for (const [clientName, clientLayer] of clients) {
  const live = <A, E>(name: string, body: () => Effect.Effect<A, E, HttpClient.HttpClient | import("effect").Scope.Scope>) =>
    it.live(`${clientName}: ${name}`, () => body().pipe(Effect.scoped, Effect.provide(clientLayer as Layer.Layer<HttpClient.HttpClient>)))

  describe(`ResilientClient over ${clientName}`, () => {
    live("a transient status is retried and the success returned as the typed response", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => i < 2 ? reply(res, 503) : reply(res, 200))
        const client = yield* resilient()
        const response = yield* client.get(`${server.url}/a`)
        assert.strictEqual(response.status, 200)
        assert.strictEqual(yield* response.text, "ok")
        assert.strictEqual(server.seen.length, 3)
        // Each attempt says which it is.
        assert.deepStrictEqual(server.seen.map((s) => s.headers["x-retry-attempt"]), ["1", "2", "3"])
      }))

    live("giving up keeps the last failure, classified, with the server's hint", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => reply(res, 429, { "retry-after-ms": "5" }))
        const client = yield* resilient()
        const error = yield* Effect.flip(client.get(server.url))
        assert.strictEqual(error._tag, "RetriesExhausted")
        if (error._tag !== "RetriesExhausted") return
        assert.strictEqual(error.attempts, 3)
        assert.strictEqual(error.last.kind, "RateLimit")
        assert.strictEqual(error.last.retryAfter && Duration.toMillis(error.last.retryAfter), 5)
        assert.strictEqual(error.last.error._tag, "HttpClientError")
        assert.strictEqual(server.seen.length, 3)
      }))

    live("a status that is not transient (404) is a response, sent once", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => reply(res, 404))
        const client = yield* resilient()
        const response = yield* client.get(server.url)
        assert.strictEqual(response.status, 404)
        assert.strictEqual(server.seen.length, 1)
      }))

    live("a POST without an idempotency key is not retried, and says why", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => reply(res, 503))
        const client = yield* resilient()
        const error = yield* Effect.flip(client.post(server.url))
        assert.strictEqual(server.seen.length, 1)
        assert.strictEqual(error._tag, "Permanent")
        assert.isTrue(error._tag === "Permanent" && error.error instanceof ResilientClient.NotRetried && error.error.reason === "notIdempotent")
        assert.isTrue(error._tag === "Permanent" && error.kind === "Server")
      }))

    live("a POST with a generated idempotency key is retried with the same key", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => i < 2 ? reply(res, 503) : reply(res, 200))
        const client = yield* resilient({ idempotencyKey: true })
        const response = yield* client.post(server.url)
        assert.strictEqual(response.status, 200)
        assert.strictEqual(server.seen.length, 3)
        const keys = server.seen.map((s) => s.headers["idempotency-key"])
        assert.isString(keys[0])
        assert.deepStrictEqual(new Set(keys).size, 1)
        // A second logical call gets a key of its own.
        yield* client.post(server.url)
        assert.notStrictEqual(server.seen[3]!.headers["idempotency-key"], keys[0])
      }))

    live("a POST carrying its own key is retried; PUT and DELETE are idempotent", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => i % 2 === 0 ? reply(res, 503) : reply(res, 200))
        const client = yield* resilient()
        const keyed = HttpClientRequest.post(server.url).pipe(HttpClientRequest.setHeader("Idempotency-Key", "charge-42"))
        assert.strictEqual((yield* client.execute(keyed)).status, 200)
        assert.strictEqual((yield* client.put(server.url)).status, 200)
        assert.strictEqual((yield* client.del(server.url)).status, 200)
        assert.deepStrictEqual(server.seen.map((s) => s.method), ["POST", "POST", "PUT", "PUT", "DELETE", "DELETE"])
        assert.deepStrictEqual([server.seen[0]!.headers["idempotency-key"], server.seen[1]!.headers["idempotency-key"]], ["charge-42", "charge-42"])
      }))

    live("a POST that was never sent (connection refused) is retried", () =>
      Effect.gen(function*() {
        const url = yield* closedPort
        const client = yield* resilient()
        const error = yield* Effect.flip(client.post(url))
        assert.strictEqual(error._tag, "RetriesExhausted")
        assert.isTrue(error._tag === "RetriesExhausted" && error.attempts === 3 && error.last.kind === "Network")
      }))

    live("retryable: \"always\" retries any method", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => i < 1 ? reply(res, 502) : reply(res, 200))
        const client = yield* resilient({ retryable: "always" })
        assert.strictEqual((yield* client.patch(server.url)).status, 200)
        assert.strictEqual(server.seen.length, 2)
      }))

    live("circuits are per host: one failing upstream does not open the others'", () =>
      Effect.gen(function*() {
        const bad = yield* loopback((_req, res) => reply(res, 503))
        const good = yield* loopback((_req, res) => reply(res, 200))
        const client = yield* resilient({ policy: { retry: false, circuitBreaker: { consecutiveFailures: 2, openFor: "1 minute" } } })
        for (let i = 0; i < 2; i++) assert.strictEqual((yield* Effect.flip(client.get(bad.url)))._tag, "RetriesExhausted")
        const rejected = yield* Effect.flip(client.get(bad.url))
        assert.isTrue(rejected._tag === "Permanent" && rejected.kind === "CircuitOpen")
        assert.strictEqual(bad.seen.length, 2)
        assert.strictEqual((yield* client.get(good.url)).status, 200)
        assert.strictEqual(good.seen.length, 1)
      }))

    live("a body that fails before its first byte is read again from a fresh attempt", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => {
          if (i === 0) {
            res.writeHead(200, { "content-type": "text/plain", "content-length": "11" })
            res.flushHeaders()
            setTimeout(() => res.socket?.destroy(), 20)
            return
          }
          reply(res, 200, { "content-type": "text/plain" }, "hello world")
        })
        const client = yield* resilient()
        const response = yield* client.get(server.url)
        const text = new TextDecoder().decode(yield* Stream.mkUint8Array(response.stream))
        assert.strictEqual(text, "hello world")
        assert.strictEqual(server.seen.length, 2)
      }))

    live("text() hands nothing over before the whole body: a body cut halfway is read again", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res, i) => {
          if (i === 0) {
            res.writeHead(200, { "content-type": "text/plain", "content-length": "100" })
            res.write("hel")
            setTimeout(() => res.socket?.destroy(), 20)
            return
          }
          reply(res, 200, { "content-type": "text/plain" }, "hello world")
        })
        const client = yield* resilient()
        const response = yield* client.get(server.url)
        assert.strictEqual(yield* response.text, "hello world")
        assert.strictEqual(server.seen.length, 2)
      }))

    live("a POST's body is not read again: it fails as it is", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => {
          res.writeHead(200, { "content-type": "text/plain", "content-length": "100" })
          res.flushHeaders()
          setTimeout(() => res.socket?.destroy(), 20)
        })
        const client = yield* resilient()
        const response = yield* client.post(server.url)
        assert.strictEqual((yield* Effect.flip(response.text))._tag, "HttpClientError")
        assert.strictEqual(server.seen.length, 1)
      }))

    live("a body that fails after its first byte is not retried, and the error says why", () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => {
          res.writeHead(200, { "content-type": "text/plain", "content-length": "100" })
          res.write("hello")
          setTimeout(() => res.socket?.destroy(), 20)
        })
        const client = yield* resilient()
        const response = yield* client.get(server.url)
        const error = yield* Effect.flip(Stream.runCollect(response.stream))
        assert.strictEqual(error._tag, "HttpClientError")
        assert.match(error.message, /after 5 bytes were handed to the caller; not retried/)
        assert.strictEqual(server.seen.length, 1)
      }))
  })
}

describe("ResilientClient options", () => {
  it.effect("bad options are a PolicyError naming every bad field", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const error = yield* Effect.flip(ResilientClient.make(client, {
        retryable: "sometimes" as never,
        headers: { attempt: "bad header" },
        policy: { retry: { maxRetries: -1 } }
      }))
      assert.strictEqual(error._tag, "PolicyError")
      assert.match(error.message, /retryable/)
      assert.match(error.message, /headers\.attempt/)
      assert.match(error.message, /policy\.retry\.maxRetries/)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))
})

// A client without a socket: every request is recorded and answered at once, so these tests can
// run on the TestClock and assert exact times.
const scripted = (answer: (request: HttpClientRequest.HttpClientRequest, index: number) => number) => {
  const seen: Array<HttpClientRequest.HttpClientRequest> = []
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      const status = answer(request, seen.length)
      seen.push(request)
      return HttpClientResponse.fromWeb(request, new Response(status === 200 ? "ok" : "busy", { status }))
    })
  )
  return { client, seen }
}

/** A resilient client over one that answers 503 with `headers` once, then 200; `times` are the send times. */
const busyOnce = (headers: Record<string, string>) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const client = HttpClient.make((request) =>
      Effect.clockWith((clock) => clock.currentTimeMillis).pipe(Effect.map((now) => {
        times.push(now)
        return HttpClientResponse.fromWeb(request, times.length === 1 ? new Response("busy", { status: 503, headers }) : new Response("ok"))
      }))
    )
    const policy = { retry: { maxRetries: 2, initialDelay: 1, jitter: "none" as const }, circuitBreaker: false as const }
    return { resilient: yield* ResilientClient.make(client, { log: false, policy }), times }
  })

describe("ResilientClient deadlines (TestClock)", () => {
  it.effect("each attempt sends the time left; no attempt starts that could not start before the deadline", () =>
    Effect.gen(function*() {
      const { client, seen } = scripted(() => 503)
      const resilient = yield* ResilientClient.make(client, {
        log: false,
        policy: { timeout: "1 second", retry: { maxRetries: 5, initialDelay: "300 millis", jitter: "none" }, circuitBreaker: false }
      })
      const fiber = yield* Effect.forkChild(Effect.flip(resilient.get("http://upstream.test/v1")))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      // Attempts at 0, 300 and 900 ms; the next would start at 2100 ms.
      assert.deepStrictEqual(seen.map((r) => r.headers["x-time-left-ms"]), ["1000", "700", "100"])
      assert.deepStrictEqual(seen.map((r) => r.headers["x-retry-attempt"]), ["1", "2", "3"])
      assert.isTrue(error._tag === "RetriesExhausted" && error.reason === "deadline")
    }))

  it.effect("an attempt timeout is cut to the time left, and a passed deadline sends nothing", () =>
    Effect.gen(function*() {
      const hanging = HttpClient.make(() => Effect.never)
      const resilient = yield* ResilientClient.make(hanging, {
        log: false,
        policy: { attemptTimeout: "10 seconds", retry: { maxRetries: 3, initialDelay: 1, jitter: "none" }, circuitBreaker: false }
      })
      const fiber = yield* Effect.forkChild(Effect.flip(resilient.get("http://upstream.test/").pipe(Deadline.within("2 seconds"))))
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.isTrue(error._tag === "Permanent" && error.error instanceof Timeout.TimeoutExceeded && error.error.scope === "deadline")

      const { client, seen } = scripted(() => 200)
      const quick = yield* ResilientClient.make(client, { log: false, policy: { retry: false } })
      const late = yield* Effect.flip(quick.get("http://upstream.test/").pipe(Deadline.within(0)))
      assert.strictEqual(late._tag, "Permanent")
      assert.strictEqual(seen.length, 0)
    }))

  it.effect("a pushback with milliseconds is a hint the retry waits for", () =>
    Effect.gen(function*() {
      const { resilient, times: seen } = yield* busyOnce({ "x-retry-pushback": "250" })
      const fiber = yield* Effect.forkChild(resilient.get("http://upstream.test/"))
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
      assert.deepStrictEqual(seen, [0, 250])
    }))

  it.effect("hedging follows the retry rule: a GET is hedged, a POST is not", () =>
    Effect.gen(function*() {
      // The first request never answers; any later one answers at once.
      const seen: Array<string> = []
      const client = HttpClient.make((request) => {
        seen.push(request.method)
        return seen.length === 1 ? Effect.never : Effect.succeed(HttpClientResponse.fromWeb(request, new Response("ok")))
      })
      const resilient = yield* ResilientClient.make(client, {
        log: false,
        policy: { hedge: { delay: "100 millis" }, attemptTimeout: "1 second", retry: false, circuitBreaker: false }
      })
      const get = yield* Effect.forkChild(resilient.get("http://upstream.test/"))
      yield* TestClock.adjust("100 millis")
      assert.strictEqual((yield* Fiber.join(get)).status, 200)
      assert.deepStrictEqual(seen, ["GET", "GET"])

      seen.length = 0
      const post = yield* Effect.forkChild(Effect.flip(resilient.post("http://upstream.test/")))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(post)
      assert.deepStrictEqual(seen, ["POST"])
      assert.isTrue(error._tag === "Permanent" && error.error instanceof ResilientClient.NotRetried && error.error.reason === "notIdempotent")
    }))
})

describe("ResilientClient.layer", () => {
  it.live("replaces the HttpClient service; failures stay HttpClientErrors", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res, i) => i === 0 ? reply(res, 503) : i === 1 ? reply(res, 200) : reply(res, 503))
      const options = { log: false, policy: { retry: { maxRetries: 1, initialDelay: 1, jitter: "none" as const }, circuitBreaker: false as const } }
      const Client = ResilientClient.layer(options).pipe(Layer.provide(FetchHttpClient.layer), Layer.orDie)
      const ok = yield* HttpClient.get(server.url).pipe(Effect.provide(Client))
      assert.strictEqual(ok.status, 200)
      const error = yield* Effect.flip(HttpClient.get(server.url).pipe(Effect.provide(Client)))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual(error.reason._tag, "StatusCodeError")
      assert.strictEqual(error.response?.status, 503)
      assert.strictEqual(server.seen.length, 4)
    }).pipe(Effect.scoped))
})

describe("ResilientClient on the TestClock: hints, nested retries, interruption", () => {
  it.effect("a pushback that is not a non-negative number means \"do not retry\"", () =>
    Effect.gen(function*() {
      for (const value of ["stop", "-1", "soon"]) {
        const { resilient, times } = yield* busyOnce({ "x-retry-pushback": value })
        const error = yield* Effect.flip(resilient.get("http://upstream.test/"))
        assert.strictEqual(times.length, 1)
        assert.isTrue(error._tag === "Permanent" && error.error instanceof ResilientClient.NotRetried && error.error.reason === "pushback")
      }
    }))

  it.effect("Retry-After (seconds) sets the wait before the next attempt", () =>
    Effect.gen(function*() {
      const { resilient, times } = yield* busyOnce({ "retry-after": "2" })
      const fiber = yield* Effect.forkChild(resilient.get("http://upstream.test/"))
      yield* TestClock.adjust("1999 millis")
      assert.deepStrictEqual(times, [0])
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
      assert.deepStrictEqual(times, [0, 2000])
    }))

  it.effect("nestedRetries: a call serving a retried request makes one attempt, unless a budget pays (\"budget\")", () =>
    Effect.gen(function*() {
      const { client, seen } = scripted(() => 503)
      const retried: Propagation.Incoming = { attempt: 2, deadline: undefined, gaveUp: false }
      const policy = { retry: { maxRetries: 2, initialDelay: 1, jitter: "none" as const }, circuitBreaker: false as const }
      const none = yield* ResilientClient.make(client, { log: false, policy, nestedRetries: "budget" })
      const error = yield* Effect.flip(none.get("http://upstream.test/").pipe(Effect.provideService(Propagation.CurrentIncoming, retried)))
      assert.strictEqual(seen.length, 1)
      // The attempt number goes on, so the next hop knows it serves a retry too.
      assert.strictEqual(seen[0]!.headers["x-retry-attempt"], "2")
      assert.isTrue(error._tag === "Permanent" && error.error instanceof ResilientClient.NotRetried && error.error.reason === "nestedRetry")
      // One attempt is not "this layer retried": no pushback upstream.
      assert.isFalse(retried.gaveUp)

      seen.length = 0
      const budgeted = yield* ResilientClient.make(client, {
        log: false,
        policy: { ...policy, budget: { type: "tokenBucket" } },
        nestedRetries: "budget"
      })
      const fiber = yield* Effect.forkChild(Effect.flip(budgeted.get("http://upstream.test/").pipe(Effect.provideService(Propagation.CurrentIncoming, retried))))
      yield* TestClock.adjust("1 second")
      const exhausted = yield* Fiber.join(fiber)
      assert.strictEqual(seen.length, 3)
      assert.isTrue(exhausted._tag === "RetriesExhausted")
      // This layer retried and gave up: the request it serves is marked for pushback.
      assert.isTrue(retried.gaveUp)
    }))

  it.effect("interrupting a call aborts the request in flight and starts no other attempt", () =>
    Effect.gen(function*() {
      let sent = 0
      let aborted = 0
      const client = HttpClient.make((_request, _url, signal) =>
        Effect.callback<never>(() => {
          sent++
          signal.addEventListener("abort", () => aborted++)
        })
      )
      const resilient = yield* ResilientClient.make(client, { log: false, policy: { retry: { maxRetries: 3, initialDelay: 1 }, circuitBreaker: false } })
      const fiber = yield* Effect.forkChild(resilient.get("http://upstream.test/"))
      yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(sent, 1)
      assert.strictEqual(aborted, 1)
    }))

  it.effect("generated idempotency keys come from Effect's Random: a seed makes them reproducible", () =>
    Effect.gen(function*() {
      const { client, seen } = scripted(() => 200)
      const resilient = yield* ResilientClient.make(client, { log: false, policy: { retry: false }, idempotencyKey: true })
      const keyOf = Effect.gen(function*() {
        seen.length = 0
        yield* resilient.post("http://upstream.test/").pipe(Random.withSeed("keys"))
        return seen[0]!.headers["idempotency-key"]
      })
      const a = yield* keyOf
      const b = yield* keyOf
      assert.match(a!, /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/)
      assert.strictEqual(a, b)
    }))
})
