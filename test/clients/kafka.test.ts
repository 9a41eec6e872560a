// kafkajs (its own retries at 0) against loopback sockets that behave like a down broker:
// nothing listening, a socket dropped on connect, a socket that never answers.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Kafka, logLevel } from "kafkajs"
import { Policy } from "../../src/index.ts"
import { attempt, closedPort, retriedOnTestClock, tcpLoopback, verdict } from "./loopback.ts"

const connect = (port: number) => {
  const kafka = new Kafka({
    clientId: "effect-resilience-test",
    brokers: [`127.0.0.1:${port}`],
    retry: { retries: 0 },
    connectionTimeout: 3_000,
    requestTimeout: 300,
    logLevel: logLevel.NOTHING
  })
  const producer = kafka.producer()
  return attempt(() => producer.connect()).pipe(Effect.ensuring(Effect.promise(() => producer.disconnect().catch(() => undefined))))
}

describe("kafkajs", () => {
  it.effect("a down broker is transient, through KafkaJSNumberOfRetriesExceeded (retriable: false)", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.flip(connect(yield* closedPort))
      assert.strictEqual((refused as Error).name, "KafkaJSNumberOfRetriesExceeded")
      assert.strictEqual((refused as { retriable?: boolean }).retriable, false)
      assert.deepStrictEqual(verdict(refused), { verdict: "Transient/Network", hintMs: undefined })

      const dropping = yield* tcpLoopback((socket) => socket.destroy())
      const dropped = yield* Effect.flip(connect(dropping.port))
      assert.strictEqual((dropped as Error).name, "KafkaJSNumberOfRetriesExceeded")
      assert.deepStrictEqual(verdict(dropped), { verdict: "Transient/Network", hintMs: undefined })

      const silent = yield* tcpLoopback(() => {})
      const timedOut = yield* Effect.flip(connect(silent.port))
      assert.strictEqual((timedOut as { cause?: Error }).cause?.name, "KafkaJSRequestTimeoutError")
      assert.deepStrictEqual(verdict(timedOut), { verdict: "Transient/Timeout", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: the kafka preset retries a broker outage (one connection per attempt)", () =>
    Effect.gen(function*() {
      const broker = yield* tcpLoopback((socket) => socket.destroy())
      const { delays, exit } = yield* retriedOnTestClock(connect(broker.port), { ...Policy.presets.kafka.retry })
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag === "Fail" && (error.error as { _tag?: string })._tag, "RetriesExhausted")
      assert.strictEqual(error?._tag === "Fail" && (error.error as { reason?: string }).reason, "schedule")
      // The preset allows 3 attempts: two retries, each after a 1 s or 2 s (±50 %) backoff.
      assert.strictEqual(delays.length, 2)
      assert.isTrue(delays[0]! >= 500 && delays[0]! <= 1500, String(delays[0]))
      assert.isTrue(delays[1]! >= 1000 && delays[1]! <= 3000, String(delays[1]))
      assert.strictEqual(broker.connections(), 3)
    }).pipe(Effect.scoped))
})
