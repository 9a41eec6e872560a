import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Option } from "effect"
import { Failure } from "../src/index.ts"

const verdictOf = (error: unknown) => {
  const v = Failure.defaultClassifier(error)
  return `${v._tag}/${v.kind}`
}

describe("Failure.httpStatus", () => {
  // Seed 001's table plus 408 (DESIGN.md §2).
  const table: ReadonlyArray<readonly [number, string]> = [
    [408, "Transient/Timeout"],
    [429, "Transient/RateLimit"],
    [500, "Transient/Server"],
    [502, "Transient/Server"],
    [503, "Transient/Server"],
    [504, "Transient/Timeout"],
    [507, "Transient/Server"],
    [400, "Permanent/Validation"],
    [401, "Permanent/Auth"],
    [403, "Permanent/Auth"],
    [404, "Permanent/NotFound"],
    [409, "Permanent/Client"],
    [418, "Permanent/Client"],
    [422, "Permanent/Validation"],
    [501, "Permanent/Server"],
    [505, "Permanent/Server"]
  ]
  for (const [status, expected] of table) {
    it(`${status} is ${expected}`, () => {
      const v = Failure.httpStatus(status)
      assert.strictEqual(`${v._tag}/${v.kind}`, expected)
      assert.strictEqual(verdictOf({ status }), expected)
      assert.strictEqual(verdictOf({ statusCode: status }), expected)
      assert.strictEqual(verdictOf({ response: { status } }), expected)
      assert.strictEqual(verdictOf({ $metadata: { httpStatusCode: status } }), expected)
    })
  }

  it("reads Retry-After (seconds) on 429 and 503", () => {
    const v = Failure.httpStatus(429, { "Retry-After": "7" })
    assert.strictEqual(v._tag, "Transient")
    assert.strictEqual(v._tag === "Transient" && v.retryAfter && Duration.toMillis(v.retryAfter), 7000)
    const w = Failure.defaultClassifier({ status: 503, headers: new Headers({ "retry-after": "2" }) })
    assert.strictEqual(w._tag === "Transient" && w.retryAfter && Duration.toMillis(w.retryAfter), 2000)
  })

  it("prefers retry-after-ms (LLM APIs) over Retry-After", () => {
    const v = Failure.httpStatus(429, { "retry-after-ms": "1500", "retry-after": "9" })
    assert.strictEqual(v._tag === "Transient" && v.retryAfter && Duration.toMillis(v.retryAfter), 1500)
  })

  it("ignores Retry-After on permanent statuses", () => {
    const v = Failure.httpStatus(400, { "retry-after": "9" })
    assert.strictEqual(v._tag, "Permanent")
  })
})

describe("Failure.parseRetryAfter", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT")
  it("parses delta-seconds", () => {
    assert.deepStrictEqual(Option.map(Failure.parseRetryAfter("120", now), Duration.toMillis), Option.some(120_000))
    assert.deepStrictEqual(Option.map(Failure.parseRetryAfter(" 0 ", now), Duration.toMillis), Option.some(0))
    assert.deepStrictEqual(Option.map(Failure.parseRetryAfter(3, now), Duration.toMillis), Option.some(3000))
  })
  it("parses HTTP-dates relative to now, clamping the past to zero", () => {
    assert.deepStrictEqual(
      Option.map(Failure.parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), Duration.toMillis),
      Option.some(30_000)
    )
    assert.deepStrictEqual(
      Option.map(Failure.parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), Duration.toMillis),
      Option.some(0)
    )
  })
  it("rejects garbage", () => {
    for (const bad of ["", "soon", "-5", "1e3x", "NaN"]) {
      assert.isTrue(Option.isNone(Failure.parseRetryAfter(bad, now)), bad)
    }
    assert.isTrue(Option.isNone(Failure.parseRetryAfter(-1, now)))
    assert.isTrue(Option.isNone(Failure.parseRetryAfter(Number.NaN, now)))
  })
})

describe("Failure.defaultClassifier", () => {
  const networkCodes = [
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "EAI_AGAIN",
    "ENOTFOUND",
    "ECONNABORTED",
    "UND_ERR_SOCKET",
    "UND_ERR_CLOSED"
  ]
  for (const code of networkCodes) {
    it(`${code} is a transient Network failure`, () => {
      assert.strictEqual(verdictOf(Object.assign(new Error(`connect ${code}`), { code })), "Transient/Network")
    })
  }
  for (const code of ["ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]) {
    it(`${code} is a transient Timeout`, () => {
      assert.strictEqual(verdictOf({ code }), "Transient/Timeout")
    })
  }

  const cloudCodes: ReadonlyArray<readonly [string, string]> = [
    ["ThrottlingException", "Transient/RateLimit"],
    ["SlowDown", "Transient/RateLimit"],
    ["RequestLimitExceeded", "Transient/RateLimit"],
    ["ProvisionedThroughputExceededException", "Transient/RateLimit"],
    ["TooManyRequests", "Transient/RateLimit"],
    ["TransactionInProgressException", "Transient/Server"],
    ["RequestTimeout", "Transient/Timeout"],
    ["ServiceUnavailable", "Transient/Server"],
    ["InternalError", "Transient/Server"],
    ["NoSuchKey", "Permanent/NotFound"],
    ["AccessDenied", "Permanent/Auth"]
  ]
  for (const [code, expected] of cloudCodes) {
    it(`cloud code ${code} is ${expected}, as code or as name`, () => {
      assert.strictEqual(verdictOf({ code }), expected)
      assert.strictEqual(verdictOf(Object.assign(new Error("x"), { name: code })), expected)
    })
  }

  it("looks through fetch's TypeError to the undici cause", () => {
    const error = new TypeError("fetch failed", { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) })
    assert.strictEqual(verdictOf(error), "Transient/Network")
  })

  // Seed 003's retryable message patterns.
  const transientMessages = [
    "connection refused",
    "read: connection reset by peer",
    "dial tcp: connection timeout",
    "network unreachable",
    "dial tcp: lookup api: no such host",
    "operation timeout",
    "net/http: TLS handshake timeout",
    "i/o timeout",
    "write: broken pipe",
    "unexpected EOF",
    "500 Internal Server Error",
    "502 Bad Gateway",
    "503 Service Unavailable",
    "504 Gateway Timeout",
    "429 Too Many Requests",
    "RequestTimeout: your socket connection was not read from",
    "ServiceUnavailable",
    "InternalError",
    "SlowDown: reduce your request rate",
    "ThrottlingException: Rate exceeded"
  ]
  for (const message of transientMessages) {
    it(`message "${message}" is transient`, () => {
      assert.strictEqual(Failure.defaultClassifier(new Error(message))._tag, "Transient")
    })
  }

  // Seed 003's non-retryable ones.
  const permanentMessages: ReadonlyArray<readonly [string, string]> = [
    ["file not found", "Permanent/NotFound"],
    ["NoSuchKey: The specified key does not exist", "Permanent/NotFound"],
    ["open /data/x: permission denied", "Permanent/Auth"],
    ["Access Denied", "Permanent/Auth"],
    ["invalid input: name is required", "Permanent/Validation"],
    ["validation failed for field email", "Permanent/Validation"]
  ]
  for (const [message, expected] of permanentMessages) {
    it(`message "${message}" is ${expected}`, () => {
      assert.strictEqual(verdictOf(new Error(message)), expected)
    })
  }

  it("honours explicit retryable flags (seed 000's ModelError.Retryable, KafkaJS's retriable)", () => {
    assert.strictEqual(verdictOf({ retryable: true }), "Transient/Unknown")
    assert.strictEqual(verdictOf({ retriable: true, message: "whatever" }), "Transient/Unknown")
    assert.strictEqual(verdictOf({ retryable: false, message: "connection reset" }), "Permanent/Client")
  })

  it("knows PostgreSQL SQLSTATEs", () => {
    assert.strictEqual(verdictOf({ code: "40001" }), "Transient/Server")
    assert.strictEqual(verdictOf({ code: "40P01" }), "Transient/Server")
    assert.strictEqual(verdictOf({ code: "08006" }), "Transient/Network")
    assert.strictEqual(verdictOf({ code: "23505" }), "Permanent/Unknown")
  })

  it("treats Effect's TimeoutError as a transient Timeout and an open circuit as permanent", () => {
    assert.strictEqual(verdictOf(new Cause.TimeoutError()), "Transient/Timeout")
    assert.strictEqual(verdictOf({ _tag: "BreakerOpen", name: "x", retryAfter: undefined }), "Permanent/CircuitOpen")
  })

  it("makes unknown errors Permanent by default, Transient when asked, but never programming errors", () => {
    assert.strictEqual(verdictOf(new Error("something odd")), "Permanent/Unknown")
    assert.strictEqual(verdictOf("plain string"), "Permanent/Unknown")
    const lenient = Failure.makeClassifier({ unknown: "Transient" })
    assert.strictEqual(lenient(new Error("something odd"))._tag, "Transient")
    assert.strictEqual(lenient(new TypeError("x is not a function"))._tag, "Permanent")
  })

  it("accepts extra patterns", () => {
    const classify = Failure.makeClassifier({ transientPatterns: [/lock wait/i], permanentPatterns: [/quota of account/i] })
    assert.strictEqual(classify(new Error("Lock wait timeout exceeded"))._tag, "Transient")
    assert.strictEqual(classify(new Error("429 quota of account exceeded"))._tag, "Permanent")
  })

  it("passes verdicts through unchanged", () => {
    const t = Failure.transient("x", { kind: "Network" })
    const p = Failure.permanent("y", { kind: "Auth" })
    assert.strictEqual(Failure.defaultClassifier(t), t)
    assert.strictEqual(Failure.defaultClassifier(p), p)
  })

  it("keeps the wrapped error and gives a readable message", () => {
    const original = new Error("connection reset")
    const v = Failure.defaultClassifier(original)
    assert.strictEqual(v.error, original)
    assert.strictEqual(v.message, "Transient(Network): connection reset")
  })
})

describe("Failure.classify", () => {
  it.effect("classifies typed errors and leaves verdicts alone", () =>
    Effect.gen(function*() {
      const a = yield* Effect.flip(Effect.fail({ status: 503 }).pipe(Failure.classify()))
      assert.strictEqual(a._tag, "Transient")
      const already = Failure.permanent("p", { kind: "Auth" })
      const b = yield* Effect.flip(Effect.fail(already).pipe(Failure.classify()))
      assert.strictEqual(b, already)
    }))

  it.effect("uses a partial classifier first, then the default", () =>
    Effect.gen(function*() {
      const custom = (e: { readonly code: string }) => e.code === "BUSY" ? Failure.transient(e, { kind: "Server" }) : undefined
      const busy = yield* Effect.flip(Effect.fail({ code: "BUSY" }).pipe(Failure.classify(custom)))
      assert.strictEqual(`${busy._tag}/${busy.kind}`, "Transient/Server")
      const reset = yield* Effect.flip(Effect.fail({ code: "ECONNRESET" }).pipe(Failure.classify(custom)))
      assert.strictEqual(`${reset._tag}/${reset.kind}`, "Transient/Network")
    }))

  it.effect("does not touch defects", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.die("boom").pipe(Failure.classify()))
      assert.isTrue(exit._tag === "Failure" && Cause.hasDies(exit.cause))
    }))

  it.effect("works data-first", () =>
    Effect.gen(function*() {
      const v = yield* Effect.flip(Failure.classify(Effect.fail({ code: "ETIMEDOUT" })))
      assert.strictEqual(v.kind, "Timeout")
    }))
})
