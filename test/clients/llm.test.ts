// The OpenAI and Anthropic SDKs (their own retries off) against a loopback server that answers
// like the APIs: JSON error bodies, retry-after and retry-after-ms headers, dropped sockets.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import Anthropic from "@anthropic-ai/sdk"
import OpenAI from "openai"
import { attempt, closedPort, httpLoopback, retriedOnTestClock, type Step, verdict } from "./loopback.ts"

const openaiError = (status: number, type: string, code: string | null, headers: Record<string, string> = {}): Step => ({
  status,
  headers,
  body: { error: { message: `${type} happened`, type, param: null, code } }
})
const anthropicError = (status: number, type: string, headers: Record<string, string> = {}): Step => ({
  status,
  headers,
  body: { type: "error", error: { type, message: `${type} happened` } }
})
const model = { id: "m", object: "model", created: 0, owned_by: "test", type: "model", display_name: "M", created_at: "2025-01-01T00:00:00Z" }

describe("openai", () => {
  it.effect("each error shape: verdict, kind, hint", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 2_000 })
      const call = () => attempt(() => client.models.retrieve("m"))
      const shapes: ReadonlyArray<readonly [string, Step, string, number | undefined]> = [
        ["429 rate_limit_exceeded + retry-after-ms", openaiError(429, "requests", "rate_limit_exceeded", { "retry-after-ms": "1500", "retry-after": "2" }), "Transient/RateLimit", 1500],
        ["429 insufficient_quota (billing: waiting does not help)", openaiError(429, "insufficient_quota", "insufficient_quota"), "Permanent/Auth", undefined],
        ["500 server_error", openaiError(500, "server_error", null), "Transient/Server", undefined],
        ["503 + Retry-After", openaiError(503, "server_error", null, { "retry-after": "3" }), "Transient/Server", 3000],
        ["400 invalid_request_error", openaiError(400, "invalid_request_error", null), "Permanent/Validation", undefined],
        ["401 invalid_api_key", openaiError(401, "invalid_request_error", "invalid_api_key"), "Permanent/Auth", undefined],
        ["404 model_not_found", openaiError(404, "invalid_request_error", "model_not_found"), "Permanent/NotFound", undefined],
        ["dropped socket (APIConnectionError)", "drop", "Transient/Network", undefined]
      ]
      for (const [label, step, expected, hint] of shapes) {
        server.script(step)
        assert.deepStrictEqual(verdict(yield* Effect.flip(call())), { verdict: expected, hintMs: hint }, label)
      }
      server.script("hang")
      const slow = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 50 })
      const timedOut = yield* Effect.flip(attempt(() => slow.models.retrieve("m")))
      assert.strictEqual((timedOut as Error).constructor.name, "APIConnectionTimeoutError")
      assert.deepStrictEqual(verdict(timedOut), { verdict: "Transient/Timeout", hintMs: undefined })
      const down = new OpenAI({ apiKey: "sk-test", baseURL: `http://127.0.0.1:${yield* closedPort}/v1`, maxRetries: 0 })
      assert.deepStrictEqual(verdict(yield* Effect.flip(attempt(() => down.models.retrieve("m")))), { verdict: "Transient/Network", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: a 429 is retried after retry-after-ms, a 401 is not retried", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(openaiError(429, "requests", "rate_limit_exceeded", { "retry-after-ms": "1500" }), { status: 200, body: model })
      const client = new OpenAI({ apiKey: "sk-test", baseURL: `${server.url}/v1`, maxRetries: 0 })
      const ok = yield* retriedOnTestClock(attempt(() => client.models.retrieve("m")), { maxRetries: 3, initialDelay: 10, jitter: "none" })
      assert.isTrue(Exit.isSuccess(ok.exit))
      assert.deepStrictEqual(ok.delays, [1500])
      server.script(openaiError(401, "invalid_request_error", "invalid_api_key"))
      const denied = yield* retriedOnTestClock(attempt(() => client.models.retrieve("m")), { maxRetries: 3, initialDelay: 10, jitter: "none" })
      assert.isTrue(Exit.isFailure(denied.exit))
      assert.deepStrictEqual(denied.delays, [])
      assert.strictEqual(server.requests.length, 3)
    }).pipe(Effect.scoped))
})

describe("@anthropic-ai/sdk", () => {
  it.effect("each error shape: verdict, kind, hint", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback()
      const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: 0, timeout: 2_000 })
      const call = () => attempt(() => client.models.retrieve("m"))
      const shapes: ReadonlyArray<readonly [string, Step, string, number | undefined]> = [
        ["529 overloaded_error", anthropicError(529, "overloaded_error"), "Transient/Server", undefined],
        ["429 rate_limit_error + retry-after", anthropicError(429, "rate_limit_error", { "retry-after": "7" }), "Transient/RateLimit", 7000],
        ["500 api_error", anthropicError(500, "api_error"), "Transient/Server", undefined],
        ["400 invalid_request_error", anthropicError(400, "invalid_request_error"), "Permanent/Validation", undefined],
        ["401 authentication_error", anthropicError(401, "authentication_error"), "Permanent/Auth", undefined],
        ["403 permission_error", anthropicError(403, "permission_error"), "Permanent/Auth", undefined],
        ["404 not_found_error", anthropicError(404, "not_found_error"), "Permanent/NotFound", undefined],
        ["413 request_too_large", anthropicError(413, "request_too_large"), "Permanent/Validation", undefined],
        ["dropped socket", "drop", "Transient/Network", undefined]
      ]
      for (const [label, step, expected, hint] of shapes) {
        server.script(step)
        assert.deepStrictEqual(verdict(yield* Effect.flip(call())), { verdict: expected, hintMs: hint }, label)
      }
      server.script("hang")
      const slow = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: 0, timeout: 50 })
      assert.deepStrictEqual(verdict(yield* Effect.flip(attempt(() => slow.models.retrieve("m")))), { verdict: "Transient/Timeout", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: 529 then 429 with retry-after, then success", () =>
    Effect.gen(function*() {
      const server = yield* httpLoopback(anthropicError(529, "overloaded_error"), anthropicError(429, "rate_limit_error", { "retry-after": "5" }), {
        status: 200,
        body: model
      })
      const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.url, maxRetries: 0 })
      const { delays, exit } = yield* retriedOnTestClock(attempt(() => client.models.retrieve("m")), { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(delays, [100, 5000])
      assert.strictEqual(server.requests.length, 3)
    }).pipe(Effect.scoped))
})
