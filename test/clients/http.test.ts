// axios, undici and fetch against loopback servers that fail like real HTTP services: the verdict,
// kind and hint of each error shape, and a retry that waits what the server asked.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import axios from "axios"
import { Client, interceptors, request } from "undici"
import { attempt, closedPort, httpLoopback, retriedOnTestClock, type Step, verdict } from "./loopback.ts"

const busy = (status: number, retryAfter?: string) => ({
  status,
  headers: retryAfter === undefined ? {} : { "retry-after": retryAfter },
  body: "busy"
})

describe("axios", () => {
  it.effect("statuses, Retry-After on error.response.headers (AxiosHeaders), timeouts, dropped and refused sockets", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const get = (url = server.url, timeout = 0) => attempt(() => axios.get(url, { timeout }))
      const shapes: ReadonlyArray<readonly [string, Step, string, number | undefined]> = [
        ["503 + Retry-After", busy(503, "2"), "Transient/Server", 2000],
        ["429 + Retry-After", busy(429, "1"), "Transient/RateLimit", 1000],
        ["500", busy(500), "Transient/Server", undefined],
        ["404", busy(404), "Permanent/NotFound", undefined],
        ["401", busy(401), "Permanent/Auth", undefined],
        ["dropped socket", "drop", "Transient/Network", undefined]
      ]
      for (const [label, step, expected, hint] of shapes) {
        server.script(step)
        const error = yield* Effect.flip(get())
        assert.deepStrictEqual(verdict(error), { verdict: expected, hintMs: hint }, label)
      }
      server.script("hang")
      const timeout = yield* Effect.flip(get(server.url, 50))
      assert.strictEqual((timeout as { code?: string }).code, "ECONNABORTED")
      assert.deepStrictEqual(verdict(timeout), { verdict: "Transient/Timeout", hintMs: undefined })
      const refused = yield* Effect.flip(get(`http://127.0.0.1:${yield* closedPort}`))
      assert.deepStrictEqual(verdict(refused), { verdict: "Transient/Network", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("a retry waits what Retry-After asked, not the 10 ms backoff", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(busy(503, "2"), { status: 200, body: { ok: true } })
      const { delays, exit } = yield* retriedOnTestClock(attempt(() => axios.get(server.url)), { maxRetries: 3, initialDelay: 10, jitter: "none" })
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(delays, [2000])
      assert.strictEqual(server.requests.length, 2)
    }).pipe(Effect.scoped))

  it.effect("a 400 is not retried", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(busy(400))
      const { delays, exit } = yield* retriedOnTestClock(attempt(() => axios.get(server.url)), { maxRetries: 3, initialDelay: 10 })
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(delays, [])
      assert.strictEqual(server.requests.length, 1)
    }).pipe(Effect.scoped))

  it.effect("a hostile Retry-After: 3600 ends the retries at once instead of sleeping an hour", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(busy(429, "3600"), { status: 200, body: { ok: true } })
      const { delays, exit } = yield* retriedOnTestClock(attempt(() => axios.get(server.url)), { maxRetries: 3, initialDelay: 10, maxDelay: "1 second" })
      assert.deepStrictEqual(delays, [])
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag === "Fail" && (error.error as { reason?: string }).reason, "retryAfter")
      assert.strictEqual(server.requests.length, 1)
    }).pipe(Effect.scoped))
})

describe("undici", () => {
  it.effect("responseError's ResponseError (statusCode, headers), socket errors, refused connections", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const client = new Client(server.url).compose(interceptors.responseError())
      yield* Effect.addFinalizer(() => Effect.promise(() => (client as unknown as { close: () => Promise<void> }).close()))
      const call = () => attempt(() => client.request({ path: "/", method: "GET" }).then((r) => r.body.text()))
      const shapes: ReadonlyArray<readonly [Step, string, number | undefined]> = [
        [busy(503, "3"), "Transient/Server", 3000],
        [busy(429, "1"), "Transient/RateLimit", 1000],
        [busy(404), "Permanent/NotFound", undefined],
        [busy(422), "Permanent/Validation", undefined]
      ]
      for (const [step, expected, hint] of shapes) {
        server.script(step)
        const error = yield* Effect.flip(call())
        assert.strictEqual((error as { code?: string }).code, "UND_ERR_RESPONSE")
        assert.deepStrictEqual(verdict(error), { verdict: expected, hintMs: hint })
      }
      server.script("drop")
      const dropped = yield* Effect.flip(attempt(() => request(server.url)))
      assert.strictEqual((dropped as { code?: string }).code, "UND_ERR_SOCKET")
      assert.deepStrictEqual(verdict(dropped), { verdict: "Transient/Network", hintMs: undefined })
      server.script("hang")
      const slow = yield* Effect.flip(attempt(() => request(server.url, { headersTimeout: 50 })))
      assert.deepStrictEqual(verdict(slow), { verdict: "Transient/Timeout", hintMs: undefined })
      const port = yield* closedPort
      const refusedError = yield* Effect.flip(attempt(() => request(`http://127.0.0.1:${port}`)))
      assert.deepStrictEqual(verdict(refusedError), { verdict: "Transient/Network", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("a retry of a 429 with Retry-After waits what the server asked", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(busy(429, "4"), busy(503, "1"), { status: 200, body: "ok" })
      const client = new Client(server.url).compose(interceptors.responseError())
      const call = attempt(() => client.request({ path: "/", method: "GET" }).then((r) => r.body.text()))
      const { delays, exit } = yield* retriedOnTestClock(call, { maxRetries: 3, initialDelay: 10, jitter: "none" })
      assert.deepStrictEqual(exit, Exit.succeed("ok"))
      assert.deepStrictEqual(delays, [4000, 1000])
    }).pipe(Effect.scoped))
})

describe("fetch", () => {
  it.effect("a thrown Response, fetch's TypeError around undici causes, AbortSignal.timeout", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const checked = () =>
        attempt(async () => {
          const response = await fetch(server.url)
          if (!response.ok) throw response
          return response.text()
        })
      server.script(busy(503, "2"))
      assert.deepStrictEqual(verdict(yield* Effect.flip(checked())), { verdict: "Transient/Server", hintMs: 2000 })
      server.script({ status: 429, headers: { "retry-after-ms": "1500", "retry-after": "9" }, body: "slow down" })
      assert.deepStrictEqual(verdict(yield* Effect.flip(checked())), { verdict: "Transient/RateLimit", hintMs: 1500 })
      server.script({ status: 503, headers: { "retry-after": new Date(Date.now() + 5_000).toUTCString() }, body: "x" })
      const dated = verdict(yield* Effect.flip(checked()))
      assert.strictEqual(dated.verdict, "Transient/Server")
      assert.isTrue(dated.hintMs !== undefined && dated.hintMs > 0 && dated.hintMs <= 5_000, String(dated.hintMs))
      for (const hostile of ["-1", "NaN", "Thu, 01 Jan 1970 00:00:00 GMT"]) {
        server.script({ status: 503, headers: { "retry-after": hostile }, body: "x" })
        assert.deepStrictEqual(verdict(yield* Effect.flip(checked())), { verdict: "Transient/Server", hintMs: undefined }, hostile)
      }
      server.script(busy(403))
      assert.deepStrictEqual(verdict(yield* Effect.flip(checked())), { verdict: "Permanent/Auth", hintMs: undefined })
      server.script("drop")
      const dropped = yield* Effect.flip(checked())
      assert.instanceOf(dropped, TypeError)
      assert.deepStrictEqual(verdict(dropped), { verdict: "Transient/Network", hintMs: undefined })
      server.script("hang")
      const timedOut = yield* Effect.flip(attempt(() => fetch(server.url, { signal: AbortSignal.timeout(50) })))
      assert.deepStrictEqual(verdict(timedOut), { verdict: "Transient/Timeout", hintMs: undefined })
      const controller = new AbortController()
      const aborted = attempt(() => fetch(server.url, { signal: controller.signal }))
      const fiber = yield* Effect.forkChild(Effect.flip(aborted))
      controller.abort()
      assert.deepStrictEqual(verdict(yield* Fiber.join(fiber)), { verdict: "Permanent/Client", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: a retried fetch waits for Retry-After and succeeds", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(busy(503, "2"), "drop", { status: 200, body: "ok" })
      const call = attempt(async () => {
        const response = await fetch(server.url)
        if (!response.ok) throw response
        return response.text()
      })
      const { delays, exit } = yield* retriedOnTestClock(call, { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.deepStrictEqual(exit, Exit.succeed("ok"))
      // 2 s for the Retry-After, then the backoff's second delay (200 ms) after the dropped socket.
      assert.deepStrictEqual(delays, [2000, 200])
      assert.strictEqual(server.requests.length, 3)
    }).pipe(Effect.scoped))
})
