// A shared circuit's key expires after `idleTimeToLive` without script calls, and the next call
// creates it afresh. Its generations (the fencing tokens of admissions and flushes) must not start
// over: a probe admitted before the key expired, or a replica's flush of an old closed period,
// that reaches the recreated key must not be taken for one of the new key's. The script runs with
// explicit times (deterministic); the expiry is a DEL.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Redis } from "effect/persistence"
import type * as M from "../../src/internal/breaker/machine.ts"
import * as S from "../../src/internal/redis/breakerScript.ts"
import { countConfig } from "../support/breakerConfig.ts"
import { redisLayer, uniquePrefix } from "./helpers.ts"

describe("Redis breaker: generations across a recreated key", () => {
  it.effect("a probe admitted before the key expired does not count as a probe of the recreated key's half-open period", () =>
    Effect.gen(function*() {
      const redis = yield* Redis.Redis
      const run = redis.eval(S.script)
      const key = uniquePrefix("epoch") + "circuit"
      const encoded = S.encodeConfig(countConfig)
      const call = (event: M.Event, now: number) => {
        const [code, ticket, slow, retryAfter] = S.encodeEvent(event)
        return Effect.map(run(key, code, ticket, slow, retryAfter, now, encoded, 60_000, 3_600_000), (r) => S.decodeReply(r, countConfig).step)
      }
      /** Trips the closed circuit (consecutive(3)) and admits one probe once it is half-open; its ticket. */
      const tripAndProbe = (at: number) =>
        Effect.gen(function*() {
          const ticket = (yield* call({ _tag: "Admit" }, at))[2]
          for (let i = 0; i < 3; i++) yield* call({ _tag: "Failure", ticket, slow: false, retryAfter: undefined }, at)
          const probe = yield* call({ _tag: "Admit" }, at + 100)
          assert.strictEqual(probe[0]._tag, "HalfOpen")
          return { closed: ticket, probe: probe[2] }
        })
      const t0 = 1_700_000_000_000
      const old = yield* tripAndProbe(t0)
      yield* redis.send("DEL", key) // the idle expiry; the old probe is still out
      const fresh = yield* tripAndProbe(t0 + 10_000)
      assert.isAbove(fresh.closed, old.probe, "the recreated key's generations start above the old key's")
      // The old probe fails now: it must change nothing in the new half-open period.
      const late = yield* call({ _tag: "Failure", ticket: old.probe, slow: false, retryAfter: undefined }, t0 + 10_150)
      assert.strictEqual(late[0]._tag, "HalfOpen", "a stale probe's failure reopened the new circuit")
      assert.isUndefined(late[1])
      // The new probe is still counted.
      const own = yield* call({ _tag: "Success", ticket: fresh.probe }, t0 + 10_160)
      assert.strictEqual(own[0]._tag, "HalfOpen")
      yield* redis.send("DEL", key)
    }).pipe(Effect.provide(redisLayer())))
})
