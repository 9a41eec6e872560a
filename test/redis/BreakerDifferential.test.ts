// The differential test of issue #5: the same random event sequences, with the same timestamps,
// run through the in-memory machine (`machine.ts`'s `step`, as the Ref store applies it) and
// through the Redis Lua script (with an explicit `now`); every step must give identical states,
// transitions and tickets.
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import { Redis } from "effect/persistence"
import * as M from "../../src/internal/breaker/machine.ts"
import * as W from "../../src/internal/window.ts"
import * as S from "../../src/internal/redis/breakerScript.ts"
import { countConfig } from "../support/breakerConfig.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"


const timeConfig: M.Config = {
  rules: [
    { _tag: "SlowCallRate", threshold: 0.6, slowerThan: 50, minimumCalls: 3, window: { _tag: "Time", millis: 1000, buckets: 4 } },
    { _tag: "FailureRate", threshold: 0.4, minimumCalls: 3, window: { _tag: "Time", millis: 700, buckets: 3 } },
    { _tag: "Consecutive", failures: 5 }
  ],
  openFor: (k) => 150 * k,
  maxOpenFor: 500,
  probes: 3,
  successesToClose: 2,
  closeOnHealthy: true
}

const Step = Schema.Struct({
  kind: Schema.Literals(["Admit", "Admit", "Admit", "Success", "Success", "Success", "Failure", "Failure", "Slow", "Ignored", "Tick", "Healthy", "Isolate", "Reset"]),
  dt: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 120 })),
  pick: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 11 })),
  slow: Schema.Boolean,
  hint: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 600 }))
})
const sequences = Arbitrary.array(Arbitrary.schema(Step), { minLength: 200, maxLength: 300 })

// The machine keeps a window that has seen only successes in one bucket as two numbers (quiet);
// the script keeps every window whole. Compared as the full window a quiet one stands for.
const canonical = (state: M.State, config: M.Config): unknown => {
  if (state._tag !== "Closed") return state
  return {
    ...state,
    windows: state.windows === undefined ? undefined : Array.from(state.windows, (q, i) => {
      const rule = config.rules[i]
      const w = q !== undefined && q._tag === "Quiet" && rule !== undefined && rule._tag !== "Consecutive" ? W.materialize(rule.window, q) : q
      return w === undefined || w._tag === "Quiet" ? null : w._tag === "Count" ? { ...w, outcomes: Array.from(w.outcomes) } : { ...w, counts: Array.from(w.counts) }
    })
  }
}

const eventFor = (step: typeof Step.Type, tickets: ReadonlyArray<number>, state: M.State): M.Event => {
  // Outcomes carry a ticket from an earlier admission, or the current generation (a stale or fresh probe).
  const ticket = step.pick < 6 && step.pick < tickets.length ? tickets[tickets.length - 1 - step.pick]! : state.generation
  switch (step.kind) {
    case "Admit":
      return { _tag: "Admit" }
    case "Success":
      return { _tag: "Success", ticket }
    case "Slow":
      return { _tag: "Slow", ticket }
    case "Failure":
      return { _tag: "Failure", ticket, slow: step.slow, retryAfter: step.hint % 3 === 0 ? step.hint : undefined }
    case "Ignored":
      return { _tag: "Ignored", ticket }
    default:
      return { _tag: step.kind }
  }
}

const runBoth = (config: M.Config, steps: ReadonlyArray<typeof Step.Type>) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const run = redis.eval(S.script)
    const key = uniquePrefix("diff") + "circuit"
    const encoded = S.encodeConfig(config)
    let now = 1_700_000_000_000
    // The Redis state starts at the first event's time, as the memory one does here, and its
    // generations at that time scaled to microseconds (see the script's `initial`).
    let memory: M.State = { ...M.initial(now), generation: now * 1000 }
    const tickets: Array<number> = []
    const seen = new Set<string>()
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!
      now += step.dt
      const event = eventFor(step, tickets, memory)
      const expected = M.step(memory, event, now, config)
      memory = expected[0]
      seen.add(memory._tag)
      if (expected[1] !== undefined) seen.add(expected[1].reason)
      const [code, ticket, slow, retryAfter] = S.encodeEvent(event)
      const reply = yield* run(key, code, ticket, slow, retryAfter, now, encoded, 1e12, 3_600_000)
      const actual = S.decodeReply(reply, config).step
      if (expected[2] >= 0 && event._tag === "Admit") tickets.push(expected[2])
      assert.deepStrictEqual(
        { state: canonical(actual[0], config), transition: actual[1], ticket: actual[2] },
        { state: canonical(expected[0], config), transition: expected[1], ticket: expected[2] },
        `step ${i}: ${JSON.stringify(event)} at ${now}`
      )
    }
    yield* redis.send("DEL", key)
    return seen
  })

describe("Redis breaker store vs the in-memory machine", () => {
  it.effect("count windows, consecutive rule, backoff schedule: identical states", () =>
    Effect.gen(function*() {
      const samples = yield* Arbitrary.sampleEffect(sequences, { count: 6, seed: 7 })
      // the Redis state is created on its first event, at that event's time: align the memory machine
      const seen = new Set<string>()
      for (const steps of samples) {
        for (const s of yield* runBoth(countConfig, [{ ...steps[0]!, dt: 0 }, ...steps.slice(1)])) seen.add(s)
      }
      // the sequences exercise every state and the main reasons
      for (const must of ["Closed", "Open", "HalfOpen", "Isolated", "ProbeFailed", "ProbesSucceeded", "OpenElapsed", "Reset"]) {
        assert.isTrue(seen.has(must), `${must} in ${[...seen].join(",")}`)
      }
    }).pipe(Effect.provide(redisLayer())), 30_000)

  it.effect("time windows with fractional buckets, slow-call rule, closeOnHealthy: identical states", () =>
    Effect.gen(function*() {
      const samples = yield* Arbitrary.sampleEffect(sequences, { count: 6, seed: 11 })
      const seen = new Set<string>()
      for (const steps of samples) {
        for (const s of yield* runBoth(timeConfig, [{ ...steps[0]!, dt: 0 }, ...steps.slice(1)])) seen.add(s)
      }
      for (const must of ["Open", "HalfOpen", "SlowCallRate", "FailureRate", "HealthCheck"]) assert.isTrue(seen.has(must), must)
    }).pipe(Effect.provide(redisLayer())), 30_000)

  it.effect("a near-cache flush (runs of closed outcomes) merges as the machine applies them one by one", () =>
    Effect.gen(function*() {
      const redis = yield* Redis.Redis
      const run = redis.eval(S.script)
      const Flush = Schema.Array(Schema.Struct({
        bits: Schema.Literals([0, 0, 0, 1, 1, 2, 3]),
        count: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 9 }))
      })).check(Schema.isMinLength(1), Schema.isMaxLength(6))
      const samples = yield* Arbitrary.sampleEffect(Arbitrary.array(Arbitrary.schema(Flush), { minLength: 4, maxLength: 12 }), { count: 12, seed: 3 })
      let trips = 0
      for (const [c, config] of [countConfig, timeConfig].entries()) {
        const encoded = S.encodeConfig(config)
        for (const flushes of samples) {
          const key = uniquePrefix("merge") + "circuit"
          let now = 1_700_000_000_000
          let memory: M.State = { ...M.initial(now), generation: now * 1000 }
          for (const runs of flushes) {
            const gen = memory.generation
            // The machine: each outcome in order, while the circuit stays closed in the flush's generation.
            let reason: string | undefined
            for (const { bits, count } of runs) {
              for (let n = 0; n < count && memory._tag === "Closed" && memory.generation === gen; n++) {
                const event: M.Event = bits === 0
                  ? { _tag: "Success", ticket: gen }
                  : bits === 2
                  ? { _tag: "Slow", ticket: gen }
                  : { _tag: "Failure", ticket: gen, slow: bits === 3, retryAfter: undefined }
                const step = M.step(memory, event, now, config)
                memory = step[0]
                if (step[1] !== undefined) reason = step[1].reason
              }
            }
            const wire = runs.map((r) => `${r.bits} ${r.count}`).join(" ")
            const reply = yield* run(key, "M", gen, false, undefined, now, encoded, 1e12, 3_600_000, "", "", wire)
            const actual = S.decodeReply(reply, config).step
            assert.deepStrictEqual(canonical(actual[0], config), canonical(memory, config), `config ${c}, flush ${wire} at ${now}`)
            assert.strictEqual(actual[1]?.reason, reason)
            if (reason !== undefined) trips++
            // Open: the next flush (of the old generation) must change nothing; reset to go on.
            if (memory._tag !== "Closed") {
              const stale = yield* run(key, "M", gen, false, undefined, now, encoded, 1e12, 3_600_000, "", "", "1 5")
              assert.deepStrictEqual(S.decodeReply(stale, config).step[0], S.decodeReply(reply, config).step[0])
              memory = M.step(memory, { _tag: "Reset" }, now, config)[0]
              yield* run(key, "R", 0, false, undefined, now, encoded, 1e12, 3_600_000)
            }
            now += 37
          }
          yield* redis.send("DEL", key)
        }
      }
      assert.isAtLeast(trips, 5, "the flushes trip the circuit")
    }).pipe(Effect.provide(redisLayer())), 30_000)

  it("window helpers agree on a fractional bucket start", () => {
    const w = W.make({ _tag: "Time", millis: 700, buckets: 3 }, 1_700_000_000_001)
    assert.isTrue(w._tag === "Time" && !Number.isInteger(w.headStart))
  })
})
