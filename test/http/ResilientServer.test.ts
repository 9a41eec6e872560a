// Deadlines and attempt numbers across real services: a test client calls service A, whose handler
// calls service B (and C) through ResilientClient; every service runs the ResilientServer
// middleware. Sockets are real, so these run on the live clock; assertions bound values, never
// compare the timing of two events.
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer, Option, Result, type Scope } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { Deadline } from "../../src/index.ts"
import { Propagation, ResilientClient, ResilientServer } from "../../src/http/index.ts"
import { service } from "./services.ts"

const client = (options: ResilientClient.Options) =>
  Effect.flatMap(HttpClient.HttpClient, (c) => ResilientClient.make(c, { log: false, ...options }))

const leftMillis = Effect.map(Deadline.remaining, (o) => Option.match(o, { onNone: () => -1, onSome: Duration.toMillis }))

type Client = HttpClient.HttpClient.With<ResilientClient.ClientError>

/** A handler that calls `next` and answers 200 with its body, or 503 when the call failed. */
const forward = (next: Client, url: string, count: { n: number }) =>
  Effect.gen(function*() {
    count.n++
    const result = yield* Effect.result(Effect.flatMap(next.get(url), (r) => r.text))
    return result._tag === "Success" ? HttpServerResponse.text(result.success) : HttpServerResponse.text("downstream failed", { status: 503 })
  })

const clients = [
  ["fetch", FetchHttpClient.layer],
  ["node (undici)", NodeHttpClient.layerUndici]
] as const

// Caller (20 s total timeout) → outer → inner: each handler records the time it has left.
const flows = Effect.gen(function*() {
  const innerSeen: Array<{ header: string | undefined; left: number; attempt: number | undefined }> = []
  const inner = yield* service(Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const incoming = yield* Propagation.CurrentIncoming
    innerSeen.push({ header: request.headers["x-time-left-ms"], left: yield* leftMillis, attempt: incoming?.attempt })
    return HttpServerResponse.text("inner")
  }))
  const toInner = yield* client({ policy: { retry: false } })
  const outerLeft: Array<number> = []
  const outer = yield* service(Effect.gen(function*() {
    outerLeft.push(yield* leftMillis)
    return HttpServerResponse.text(yield* Effect.flatMap(toInner.get(inner), (r) => r.text))
  }).pipe(Effect.orDie))
  const caller = yield* client({ policy: { retry: false, timeout: "20 seconds" } })
  const response = yield* caller.get(outer)
  assert.strictEqual(yield* response.text, "inner")
  // The outer handler got at most the caller's 20 s, the inner at most what the outer had left.
  assert.isTrue(outerLeft[0]! > 0 && outerLeft[0]! <= 20_000, `outer left ${outerLeft[0]}`)
  const seen = innerSeen[0]!
  assert.isTrue(Number(seen.header) > 0 && Number(seen.header) <= outerLeft[0]!, `inner header ${seen.header}`)
  assert.isTrue(seen.left > 0 && seen.left <= Number(seen.header), `inner left ${seen.left}`)
  assert.strictEqual(seen.attempt, 1)
})

/** A service that answers "done" and counts how often its handler ran. */
const counted = (options: ResilientServer.Options) =>
  Effect.gen(function*() {
    const handled = { n: 0 }
    const url = yield* service(Effect.sync(() => {
      handled.n++
      return HttpServerResponse.text("done")
    }), options)
    return { handled, url }
  })

describe("ResilientServer", () => {
  for (const [clientName, clientLayer] of clients) {
    it.live(`${clientName}: the deadline flows through two services: each handler sees the caller's time left`, () =>
      flows.pipe(Effect.scoped, Effect.provide(clientLayer as Layer.Layer<HttpClient.HttpClient>)))
  }

  it.live("the inner service sheds a request that cannot finish in time: a fast 504, its handler never runs", () =>
    Effect.gen(function*() {
      // The inner service needs 30 s; the caller gives the whole chain 10 s.
      const { handled, url: inner } = yield* counted({ minTimeLeft: "30 seconds" })
      const outerCalls = { n: 0 }
      const toInner = yield* client({ policy: { retry: { maxRetries: 3, initialDelay: 1, jitter: "none" } } })
      const outer = yield* service(forward(toInner, inner, outerCalls))
      const caller = yield* client({ policy: { retry: { maxRetries: 3, initialDelay: 1, jitter: "none" }, timeout: "10 seconds" } })
      const error = yield* Effect.flip(caller.get(outer))
      assert.strictEqual(handled.n, 0)
      // The shed answer pushed back: neither the outer service nor the caller retried.
      assert.strictEqual(outerCalls.n, 1)
      assert.isTrue(error._tag === "Permanent" && error.error instanceof ResilientClient.NotRetried && error.error.reason === "pushback")
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("a request whose deadline has passed is shed with the pushback header; one without a deadline is served", () =>
    Effect.gen(function*() {
      const { handled, url } = yield* counted({ shedStatus: 503 })
      const raw = yield* HttpClient.HttpClient
      const expired = yield* raw.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("x-time-left-ms", "0")))
      assert.strictEqual(expired.status, 503)
      assert.strictEqual(expired.headers["x-retry-pushback"], "stop")
      assert.strictEqual(handled.n, 0)
      const plain = yield* raw.get(url)
      assert.strictEqual(plain.status, 200)
      assert.strictEqual(handled.n, 1)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("the deadline is enforced while the handler works: 504 at the deadline, the work interrupted", () =>
    Effect.gen(function*() {
      let finished = false
      const url = yield* service(Effect.sleep("30 seconds").pipe(
        Effect.andThen(Effect.sync(() => {
          finished = true
          return HttpServerResponse.text("late")
        }))
      ))
      const raw = yield* HttpClient.HttpClient
      const response = yield* raw.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeader("x-time-left-ms", "50")))
      assert.strictEqual(response.status, 504)
      assert.isFalse(finished)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))
})

// Three services in a chain, A → B → C, in front of a backend that is down (always 503). Every hop
// retries with 4 attempts. The counts are exact: no timing is involved.
const chain = (rule: "none" | "attempt" | "oneLayer") =>
  Effect.gen(function*() {
    const hits = { a: { n: 0 }, b: { n: 0 }, c: { n: 0 }, backend: { n: 0 } }
    const policy = { retry: { maxRetries: 3, initialDelay: 1, jitter: "none" as const } }
    const options: ResilientClient.Options = {
      policy,
      nestedRetries: rule === "none" ? "all" : "none",
      honorPushback: rule === "oneLayer"
    }
    const server = { pushback: rule === "oneLayer" }
    const backend = yield* service(Effect.sync(() => {
      hits.backend.n++
      return HttpServerResponse.text("down", { status: 503 })
    }))
    const c = yield* service(forward(yield* client(options), backend, hits.c), server)
    const b = yield* service(forward(yield* client(options), c, hits.b), server)
    const a = yield* service(forward(yield* client(options), b, hits.a), server)
    const caller = yield* client(options)
    yield* Effect.flip(caller.get(a))
    return { a: hits.a.n, b: hits.b.n, c: hits.c.n, backend: hits.backend.n }
  })

const measure = (rule: "none" | "attempt" | "oneLayer"): Effect.Effect<Record<string, number>, never, Scope.Scope | HttpClient.HttpClient> =>
  chain(rule).pipe(Effect.orDie)

describe("retry amplification across three services during an outage", () => {
  it.live("every hop retrying on its own: 4 × 4 × 4 × 4 = 256 backend calls", () =>
    Effect.gen(function*() {
      const counts = yield* measure("none")
      assert.deepStrictEqual(counts, { a: 4, b: 16, c: 64, backend: 256 })
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)), 60_000)

  it.live("a service called as a retry makes one attempt (nestedRetries: none)", () =>
    Effect.gen(function*() {
      const counts = yield* measure("attempt")
      assert.deepStrictEqual(counts, { a: 4, b: 7, c: 10, backend: 13 })
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("plus pushback: only the layer next to the outage retries", () =>
    Effect.gen(function*() {
      const counts = yield* measure("oneLayer")
      assert.deepStrictEqual(counts, { a: 1, b: 1, c: 1, backend: 4 })
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))
})

describe("ResilientServer.layerRouter", () => {
  it.live("as a global router middleware: the handler gets the deadline and the attempt; an expired request is shed", () =>
    Effect.acquireUseRelease(
      Effect.sync(() =>
        HttpRouter.toWebHandler(
          Layer.mergeAll(
            HttpRouter.add(
              "GET",
              "/left",
              Effect.gen(function*() {
                const left = yield* leftMillis
                const incoming = yield* Propagation.CurrentIncoming
                return HttpServerResponse.text(`${left > 0 && left <= 5000}/${incoming?.attempt}`)
              })
            ),
            ResilientServer.layerRouter({ headers: { attempt: "x-attempt" } })
          ),
          { disableLogger: true }
        )
      ),
      ({ handler }) =>
        Effect.gen(function*() {
          const ok = yield* Effect.promise(() =>
            handler(new Request("http://localhost/left", { headers: { "x-time-left-ms": "5000", "x-attempt": "3" } }))
          )
          assert.strictEqual(yield* Effect.promise(() => ok.text()), "true/3")
          const shed = yield* Effect.promise(() => handler(new Request("http://localhost/left", { headers: { "x-time-left-ms": "-5" } })))
          assert.strictEqual(shed.status, 504)
        }),
      ({ dispose }) => Effect.promise(dispose)
    ))

  it.live("malformed headers are no deadline and a first attempt; they never fail the request", () =>
    Effect.acquireUseRelease(
      Effect.sync(() =>
        HttpRouter.toWebHandler(
          Layer.mergeAll(
            HttpRouter.add("GET", "/", Effect.gen(function*() {
              const incoming = yield* Propagation.CurrentIncoming
              return HttpServerResponse.text(`${incoming?.deadline}/${incoming?.attempt}`)
            })),
            ResilientServer.layerRouter()
          ),
          { disableLogger: true }
        )
      ),
      ({ handler }) =>
        Effect.gen(function*() {
          for (const [left, attempt] of [["abc", "-3"], ["1e9", "two"], ["9".repeat(40), "0"], ["", "1.5"]] as const) {
            const response = yield* Effect.promise(() =>
              handler(new Request("http://localhost/", { headers: { "x-time-left-ms": left, "x-retry-attempt": attempt } }))
            )
            assert.strictEqual(response.status, 200)
            assert.strictEqual(yield* Effect.promise(() => response.text()), "undefined/1")
          }
        }),
      ({ dispose }) => Effect.promise(dispose)
    ))

  it("bad options are a PolicyError naming the field", () => {
    const made = ResilientServer.make({ shedStatus: 500 as never, minTimeLeft: -1 })
    assert.isTrue(Result.isFailure(made))
    if (Result.isFailure(made)) {
      assert.match(made.failure.message, /shedStatus/)
      assert.match(made.failure.message, /minTimeLeft/)
    }
  })
})
