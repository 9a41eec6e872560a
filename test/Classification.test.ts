// The classifier's precedence, its one table of codes, retry hints from every place clients keep
// headers, and its behaviour on hostile values. The real clients' errors are in test/clients/.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Logger, Option, References } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Failure, Retry } from "../src/index.ts"
import { clientCodes, cloudCodes, networkCodes, transientMessagePatterns } from "../src/internal/errorCatalog.ts"
import { describe as describeValue, preview } from "../src/internal/inspect.ts"

const verdictOf = (error: unknown) => {
  const v = Failure.defaultClassifier(error)
  return `${v._tag}/${v.kind}`
}
const hintOf = (error: unknown): number | undefined => {
  const v = Failure.defaultClassifier(error)
  return v._tag === "Transient" && v.retryAfter !== undefined ? Duration.toMillis(v.retryAfter) : undefined
}

describe("precedence: verdict → code → flag → status → cause → message → unknown", () => {
  it("a code beats the HTTP status (AWS JSON protocols report throttling as 400)", () => {
    const dynamo = (name: string) => Object.assign(new Error("x"), { name, $metadata: { httpStatusCode: 400 } })
    assert.strictEqual(verdictOf(dynamo("ThrottlingException")), "Transient/RateLimit")
    assert.strictEqual(verdictOf(dynamo("ProvisionedThroughputExceededException")), "Transient/RateLimit")
    assert.strictEqual(verdictOf(dynamo("RequestLimitExceeded")), "Transient/RateLimit")
    assert.strictEqual(verdictOf(dynamo("TransactionInProgressException")), "Transient/Server")
    assert.strictEqual(verdictOf(dynamo("ResourceNotFoundException")), "Permanent/NotFound")
    assert.strictEqual(verdictOf({ Code: "RequestTimeout", $metadata: { httpStatusCode: 400 } }), "Transient/Timeout")
    assert.strictEqual(verdictOf({ name: "SlowDown", $metadata: { httpStatusCode: 503 } }), "Transient/RateLimit")
    assert.strictEqual(verdictOf({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", status: 400 }), "Transient/RateLimit")
    assert.strictEqual(verdictOf({ code: "ThrottlingException:http://internal.amazon.com/coral/", status: 400 }), "Transient/RateLimit")
  })

  it("a code beats a flag, a flag beats the status, and the status gives the flag its kind", () => {
    assert.strictEqual(verdictOf({ code: "ECONNRESET", retryable: false }), "Transient/Network")
    assert.strictEqual(verdictOf({ retryable: false, status: 503 }), "Permanent/Server")
    assert.strictEqual(verdictOf({ retriable: true, status: 400 }), "Transient/Validation")
    assert.strictEqual(verdictOf({ isRetryable: false, message: "connection reset" }), "Permanent/Client")
  })

  it("a status beats the cause, the cause beats the message", () => {
    assert.strictEqual(verdictOf({ status: 404, cause: { code: "ECONNRESET" } }), "Permanent/NotFound")
    assert.strictEqual(verdictOf(new Error("not found", { cause: { code: "ETIMEDOUT" } })), "Transient/Timeout")
  })

  it("looks through wrappers whose own flag describes the wrapper (kafkajs gives up with retriable: false)", () => {
    const connection = Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), {
      name: "KafkaJSConnectionError",
      retriable: true,
      code: "ECONNREFUSED"
    })
    const exceeded = Object.assign(new Error(connection.message), {
      name: "KafkaJSNumberOfRetriesExceeded",
      retriable: false,
      retryCount: 0,
      cause: connection
    })
    assert.strictEqual(verdictOf(exceeded), "Transient/Network")
    // A wrapper around nothing recognisable keeps its own flag.
    const opaque = Object.assign(new Error("x"), { name: "KafkaJSNumberOfRetriesExceeded", retriable: false, cause: new Error("odd") })
    assert.strictEqual(verdictOf(opaque), "Permanent/Client")
    const aggregate = new AggregateError([{ code: "ECONNREFUSED" }, { code: "ENETUNREACH" }], "connect failed")
    assert.strictEqual(verdictOf(aggregate), "Transient/Network")
    assert.strictEqual(verdictOf({ originalError: { code: "40001" } }), "Transient/Server")
  })

  it("explicit verdicts and your patterns come first, anywhere in the chain", () => {
    const transient = Failure.transient("x", { kind: "Network", retryAfter: "2 seconds" })
    const wrapped = new Error("wrapper", { cause: transient })
    assert.strictEqual(verdictOf(wrapped), "Transient/Network")
    assert.strictEqual(hintOf(wrapped), 2000)
    const classify = Failure.makeClassifier({ permanentPatterns: [/maintenance/i], transientPatterns: [/not found yet/i] })
    assert.strictEqual(classify({ status: 503, message: "down for maintenance" })._tag, "Permanent")
    assert.strictEqual(classify({ code: "NoSuchKey", message: "key not found yet" })._tag, "Transient")
  })
})

describe("kinds come from one table, whatever field carried the signal", () => {
  const table = [...networkCodes, ...cloudCodes, ...clientCodes].filter(([code]) => /^[A-Za-z][A-Za-z0-9_]{3,}$/.test(code))
  it("every code means the same as `code`, `name`, `type` and as a word in a message", () => {
    for (const [code, verdict] of table) {
      const expected = `${verdict.transient ? "Transient" : "Permanent"}/${verdict.kind}`
      assert.strictEqual(verdictOf({ code }), expected, `code ${code}`)
      assert.strictEqual(verdictOf({ name: code }), expected, `name ${code}`)
      assert.strictEqual(verdictOf({ type: code }), expected, `type ${code}`)
      assert.strictEqual(verdictOf(new Error(code)), expected, `message ${code}`)
      assert.strictEqual(verdictOf(new Error(`${code}: something went wrong`)), expected, `message ${code}: …`)
    }
  })

  it("a code written as words gets the code's kind when a message pattern knows it", () => {
    for (const [code, verdict] of table) {
      if (!verdict.transient) continue
      const words = code.replace(/Exception$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ").toLowerCase()
      const byPattern = transientMessagePatterns.find(({ pattern }) => pattern.test(words))
      if (byPattern === undefined) continue
      assert.strictEqual(byPattern.verdict.kind, verdict.kind, `"${words}" (${code})`)
    }
  })

  const messages: ReadonlyArray<readonly [string, string]> = [
    ["RequestLimitExceeded", "Transient/RateLimit"],
    ["request limit exceeded for account", "Transient/RateLimit"],
    ["TooManyRequests", "Transient/RateLimit"],
    ["Connection terminated unexpectedly", "Transient/Network"],
    ["Client has encountered a connection error and is not queryable", "Transient/Network"],
    ["getaddrinfo EAI_AGAIN db: Temporary failure in name resolution", "Transient/Network"],
    ["Temporary failure in name resolution", "Transient/Network"],
    ["upstream connect error or disconnect/reset before headers. reset reason: connection failure", "Transient/Network"],
    ["Connection error.", "Transient/Network"],
    ["Request timed out.", "Transient/Timeout"],
    ["connect ECONNREFUSED 127.0.0.1:5432", "Transient/Network"],
    ["NoSuchKey: rate limit", "Permanent/NotFound"]
  ]
  for (const [message, expected] of messages) {
    it(`message "${message}" is ${expected}`, () => {
      assert.strictEqual(verdictOf(new Error(message)), expected)
    })
  }

  it("a network code whose message says it timed out is a Timeout (axios, kafkajs)", () => {
    assert.strictEqual(verdictOf({ code: "ECONNABORTED", message: "timeout of 50ms exceeded" }), "Transient/Timeout")
    assert.strictEqual(verdictOf({ name: "KafkaJSConnectionError", message: "Connection timeout" }), "Transient/Timeout")
    assert.strictEqual(verdictOf({ code: "ECONNABORTED", message: "connect ECONNABORTED" }), "Transient/Network")
  })

  it("codes that only say 'an HTTP response failed' leave the decision to the status", () => {
    assert.strictEqual(verdictOf({ code: "UND_ERR_RESPONSE", statusCode: 404 }), "Permanent/NotFound")
    assert.strictEqual(verdictOf({ code: "ERR_BAD_RESPONSE", response: { status: 503 } }), "Transient/Server")
    assert.strictEqual(verdictOf({ code: "ERR_BAD_REQUEST", response: { status: 429 } }), "Transient/RateLimit")
  })
})

describe("retry hints", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT")
  const at = (headers: unknown) => Failure.retryAfterFromHeaders(headers, now)
  const ms = (d: Duration.Duration | undefined) => d === undefined ? undefined : Duration.toMillis(d)

  it("reads every header shape clients use", () => {
    assert.strictEqual(ms(at(new Headers({ "Retry-After": "3" }))), 3000)
    assert.strictEqual(ms(at({ "Retry-After": "3" })), 3000)
    assert.strictEqual(ms(at({ "retry-after": ["4", "9"] })), 4000)
    assert.strictEqual(ms(at(new Map([["retry-after", "5"]]))), 5000)
    assert.strictEqual(ms(at(["content-type", "text/plain", "retry-after", "6"])), 6000)
    assert.strictEqual(ms(at([Buffer.from("Retry-After"), Buffer.from("7")])), 7000)
    assert.strictEqual(ms(at([["retry-after", "8"]])), 8000)
    assert.strictEqual(ms(at({ "retry-after-ms": "250", "retry-after": "9" })), 250)
    assert.strictEqual(ms(at({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" })), 30_000)
  })

  it("negative, NaN, infinite and past values are no hint", () => {
    for (const value of ["-1", "NaN", "soon", "1e3", "9".repeat(400), "Wed, 21 Oct 2015 07:00:00 GMT", ""]) {
      assert.isUndefined(at({ "retry-after": value }), value)
    }
    assert.isUndefined(at({ "retry-after-ms": "-5" }))
    assert.strictEqual(ms(at({ "retry-after-ms": "NaN", "retry-after": "2" })), 2000)
    assert.isTrue(Option.isNone(Failure.parseRetryAfter("9".repeat(400), now)))
  })

  it("finds the headers wherever the client put them", () => {
    const headers = { "retry-after": "2" }
    assert.strictEqual(hintOf({ status: 429, headers }), 2000)
    assert.strictEqual(hintOf({ response: { status: 429, headers } }), 2000) // axios, Effect's HttpClientError
    assert.strictEqual(hintOf({ name: "ThrottlingException", $metadata: { httpStatusCode: 400 }, $response: { statusCode: 400, headers } }), 2000)
    assert.strictEqual(hintOf({ reason: { response: { status: 503, headers } } }), 2000)
    assert.strictEqual(hintOf(new Response("busy", { status: 503, headers: { "retry-after": "2" } })), 2000)
    // The hint of a transient code on a wrapped error, read from the wrapper's response.
    assert.strictEqual(hintOf({ response: { headers }, cause: { code: "ECONNRESET" } }), 2000)
    assert.isUndefined(hintOf({ status: 400, headers }))
  })

  it("Failure.retryAfterOf reads the same places without classifying", () => {
    assert.strictEqual(Duration.toMillis(Failure.retryAfterOf({ response: { headers: { "retry-after": "1" } } })!), 1000)
    assert.isUndefined(Failure.retryAfterOf({ headers: { "retry-after": "-1" } }))
  })
})

describe("a hostile value cannot make the classifier throw", () => {
  const throwing = () => {
    throw new Error("boom")
  }
  const hostile: ReadonlyArray<readonly [string, unknown]> = [
    ["throwing getters", Object.defineProperties({}, { code: { get: throwing }, message: { get: throwing }, status: { get: throwing } })],
    ["a Proxy whose every trap throws", new Proxy({}, { get: throwing, has: throwing, ownKeys: throwing, getPrototypeOf: throwing })],
    ["a revoked Proxy", (() => {
      const { proxy, revoke } = Proxy.revocable({}, {})
      revoke()
      return proxy
    })()],
    ["throwing headers", { status: 503, headers: { get: throwing } }],
    ["headers with throwing keys", { status: 503, headers: new Proxy({}, { ownKeys: throwing }) }],
    ["a Symbol", Symbol("x")],
    ["a function", () => 1],
    ["a BigInt", 10n]
  ]
  for (const [label, value] of hostile) {
    it(`${label}: a verdict, a description and a preview`, () => {
      const v = Failure.defaultClassifier(value)
      assert.include(["Transient", "Permanent"], v._tag)
      assert.isString(v.message)
      assert.isString(describeValue(value))
      assert.isString(preview(value))
    })
  }

  it("a throwing Retry-After header value is no hint, the status still counts", () => {
    const headers = Object.defineProperty({}, "retry-after", { get: throwing, enumerable: true })
    assert.strictEqual(verdictOf({ status: 503, headers }), "Transient/Server")
    assert.isUndefined(hintOf({ status: 503, headers }))
  })

  it("cycles and very deep cause chains end", () => {
    const a: Record<string, unknown> = { message: "a" }
    const b: Record<string, unknown> = { message: "b", cause: a }
    a.cause = b
    assert.strictEqual(verdictOf(a), "Permanent/Unknown")
    assert.match(preview(a), /Circular/)
    let deep: unknown = { code: "ECONNRESET" }
    for (let i = 0; i < 10_000; i++) deep = { cause: deep }
    assert.strictEqual(verdictOf(deep), "Permanent/Unknown") // beyond the depth bound: not looked at
    let shallow: unknown = { code: "ECONNRESET" }
    for (let i = 0; i < 4; i++) shallow = { cause: shallow }
    assert.strictEqual(verdictOf(shallow), "Transient/Network")
    const wide = { errors: Array.from({ length: 100_000 }, () => ({ message: "x" })) }
    assert.strictEqual(verdictOf(wide), "Permanent/Unknown")
  })

  it("huge messages are cut before patterns run", () => {
    const message = `${"a".repeat(1_000_000)} connection reset`
    assert.strictEqual(verdictOf(new Error(message)), "Permanent/Unknown")
    assert.isAtMost(describeValue(new Error(message)).length, 4096)
  })

  it("a throwing clock does not make the classifier throw", () => {
    const classify = Failure.makeClassifier({ now: throwing })
    assert.strictEqual(classify({ status: 503, headers: { "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" } })._tag, "Permanent")
  })
})

describe("describe: the retry log's error field", () => {
  it("shows a failed Response's status, not {}", () => {
    assert.strictEqual(describeValue(new Response("busy", { status: 503, statusText: "Service Unavailable" })), "HTTP 503 Service Unavailable")
    assert.strictEqual(describeValue({ status: 503 }), "{\"status\":503}")
    assert.strictEqual(describeValue(new Error("", { cause: 1 })), "Error")
  })

  it.effect("the retry log's Warn and Error lines carry it", () => {
    const lines: Array<string> = []
    const capture = Logger.make((o) => {
      const ann = o.fiber.getRef(References.CurrentLogAnnotations)
      lines.push(`${o.logLevel}|${JSON.stringify(ann.error)}`)
    })
    return Effect.gen(function*() {
      const response = new Response("busy", { status: 503, statusText: "Service Unavailable" })
      const fiber = yield* Effect.forkChild(Effect.flip(Effect.fail(response).pipe(Retry.retry({ maxRetries: 1, initialDelay: 10, jitter: "none" }))))
      yield* TestClock.adjust("10 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.deepStrictEqual(lines, ["Warn|\"HTTP 503 Service Unavailable\"", "Error|\"HTTP 503 Service Unavailable\""])
    }).pipe(Effect.provide(Logger.layer([capture])))
  })
})

describe("bounded hints: maxRetryAfter and the total time limit", () => {
  const hinted = (retryAfter: Duration.Input) => Failure.transient("busy", { kind: "RateLimit", retryAfter })

  it.effect("a hint above maxRetryAfter (default 5 minutes) stops at once with reason retryAfter", () =>
    Effect.gen(function*() {
      let calls = 0
      const call = Effect.suspend(() => {
        calls++
        return Effect.fail(hinted("1 hour"))
      })
      const error = yield* Effect.flip(call.pipe(Retry.retry({ maxRetries: 5, initialDelay: 10, maxDelay: "1 second", log: false })))
      assert.strictEqual(error._tag, "RetriesExhausted")
      assert.strictEqual(error.reason, "retryAfter")
      assert.strictEqual(error.attempts, 1)
      assert.strictEqual(Duration.toMillis(error.retryAfter!), 3_600_000)
      assert.strictEqual(Duration.toMillis(error.elapsed), 0) // no sleep at all
      assert.match(error.message, /retryAfter: the server asked to wait 1h/)
      assert.strictEqual(calls, 1)
    }))

  it.effect("a hint at or under the cap is waited for, exactly", () =>
    Effect.gen(function*() {
      let calls = 0
      const call = Effect.suspend(() => ++calls < 2 ? Effect.fail(hinted("5 minutes")) : Effect.succeed("ok"))
      const fiber = yield* Effect.forkChild(call.pipe(Retry.retry({ maxRetries: 2, initialDelay: 10, jitter: "none", log: false })))
      yield* TestClock.adjust("299999 millis")
      assert.strictEqual(calls, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }))

  it.effect("maxRetryAfter applies to schedule retries as well", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.fail(hinted("2 seconds")).pipe(
        Retry.retry({ schedule: Backoff.fixed(10).pipe(Backoff.recurs(3)), maxRetryAfter: "1 second", log: false })
      ))
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "retryAfter")
    }))

  it.effect("a hint that would end past the retry's timeout stops at once", () =>
    Effect.gen(function*() {
      let calls = 0
      const call = Effect.suspend(() => {
        calls++
        return Effect.fail(calls === 1 ? hinted("1 second") : hinted("9 seconds"))
      })
      const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(
        Retry.retry({ maxRetries: 5, initialDelay: 10, jitter: "none", timeout: "5 seconds", log: false })
      )))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag === "RetriesExhausted" && error.reason, "retryAfter")
      assert.strictEqual(calls, 2)
      assert.strictEqual(error._tag === "RetriesExhausted" && Duration.toMillis(error.elapsed), 1000)
    }))

  it.effect("honorRetryAfter: false ignores hints, so it does not stop on them", () =>
    Effect.gen(function*() {
      let calls = 0
      const call = Effect.suspend(() => ++calls < 2 ? Effect.fail(hinted("1 hour")) : Effect.succeed("ok"))
      const fiber = yield* Effect.forkChild(call.pipe(Retry.retry({ maxRetries: 2, initialDelay: 10, jitter: "none", honorRetryAfter: false, log: false })))
      yield* TestClock.adjust("10 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }))

  it("a bad maxRetryAfter is a PolicyError naming the field", () => {
    const exit = Effect.runSyncExit(Effect.fail(hinted(1)).pipe(Retry.retry({ maxRetries: 1, maxRetryAfter: -5, log: false })))
    assert.isTrue(exit._tag === "Failure")
    assert.match(String(exit._tag === "Failure" && JSON.stringify(exit.cause)), /maxRetryAfter/)
  })
})

describe("Backoff.honorRetryAfter is bounded on its own too", () => {
  it.effect("a schedule driven by Effect.retry ends on a hint above the cap instead of sleeping it", () =>
    Effect.gen(function*() {
      const hinted = (retryAfter: Duration.Input) => Failure.transient("busy", { retryAfter })
      const big = yield* Backoff.delays(Backoff.fixed(10).pipe(Backoff.honorRetryAfter), 3, hinted("6 minutes"))
      assert.deepStrictEqual(big, [])
      const fits = yield* Backoff.delays(Backoff.fixed(10).pipe(Backoff.honorRetryAfter), 2, hinted("5 minutes"))
      assert.deepStrictEqual(fits.map(Duration.toMillis), [300_000, 300_000])
      const custom = yield* Backoff.delays(Backoff.fixed(10).pipe(Backoff.honorRetryAfterUpTo("1 second")), 2, hinted("2 seconds"))
      assert.deepStrictEqual(custom, [])
    }))

  it.effect("a policy's maxRetryAfter above the default is honoured by the whole loop", () =>
    Effect.gen(function*() {
      let calls = 0
      const call = Effect.suspend(() => ++calls < 2 ? Effect.fail(Failure.transient("busy", { retryAfter: "7 minutes" })) : Effect.succeed("ok"))
      const fiber = yield* Effect.forkChild(call.pipe(Retry.retry({ maxRetries: 2, initialDelay: 10, jitter: "none", maxRetryAfter: "10 minutes", log: false })))
      yield* TestClock.adjust("7 minutes")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }))
})

describe("the public helpers take anything", () => {
  it("parseRetryAfter, retryAfterFromHeaders and httpStatus on values their types rule out", () => {
    const now = Date.now()
    for (const value of [null, undefined, {}, [], Symbol("x"), () => 1] as ReadonlyArray<unknown>) {
      assert.isTrue(Option.isNone(Failure.parseRetryAfter(value as string, now)))
      assert.isUndefined(Failure.retryAfterFromHeaders(value, now))
      assert.strictEqual(Failure.httpStatus(503, value, now)._tag, "Transient")
    }
  })
})

describe("maxRetryAfter with other bad fields", () => {
  it("one PolicyError names every bad field, maxRetryAfter included", () => {
    const exit = Effect.runSyncExit(Effect.fail(1).pipe(Retry.retry({ maxRetries: -1, maxRetryAfter: "soon" as Duration.Input, log: false })))
    const text = exit._tag === "Failure" ? JSON.stringify(exit.cause) : ""
    assert.match(text, /"maxRetries"/)
    assert.match(text, /"maxRetryAfter"/)
  })
})
