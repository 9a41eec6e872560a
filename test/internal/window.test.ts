// The ring-of-buckets windows (count and time), their quiet form, and the retry budget's use of them.
import { assert, describe, it } from "@effect/vitest"
import * as M from "../../src/internal/breaker/machine.ts"
import * as W from "../../src/internal/window.ts"

describe("windows", () => {
  it("count window keeps running totals of the last N outcomes", () => {
    const w = W.make({ _tag: "Count", size: 3 }, 0)
    for (const bits of [W.FAILED, 0, W.FAILED | W.SLOW, W.SLOW, 0]) W.record(w, bits, 0)
    // last three: FAILED|SLOW, SLOW, 0
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [3, 1, 2])
  })

  it("time window drops buckets lazily as time passes", () => {
    const w = W.make({ _tag: "Time", millis: 1000, buckets: 10 }, 0)
    W.record(w, W.FAILED, 0)
    W.record(w, 0, 450)
    W.record(w, W.FAILED, 950)
    assert.deepStrictEqual([w.calls, w.failures], [3, 2])
    W.advance(w, 1000) // the bucket of t = 0 leaves
    assert.deepStrictEqual([w.calls, w.failures], [2, 1])
    W.advance(w, 1500) // t = 450 leaves
    assert.deepStrictEqual([w.calls, w.failures], [1, 1])
    W.advance(w, 10_000)
    assert.deepStrictEqual([w.calls, w.failures], [0, 0])
    W.record(w, W.SLOW, 10_001)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [1, 0, 1])
  })

  it("a quiet window stands for exactly the window it would have been", () => {
    for (const spec of [{ _tag: "Count", size: 4 }, { _tag: "Time", millis: 1000, buckets: 3 }] as const) {
      const eager = W.make(spec, 1_700_000_000_100)
      const quiet: W.QuietWindow = { _tag: "Quiet", calls: 0, start: 1_700_000_000_100 }
      for (const t of [1_700_000_000_100, 1_700_000_000_200, 1_700_000_000_300]) {
        W.record(eager, 0, t)
        assert.isTrue(W.staysQuiet(spec, quiet, t))
        quiet.calls++
      }
      assert.deepStrictEqual(W.materialize(spec, quiet), eager)
      assert.strictEqual(W.quietCalls(spec, quiet, 1_700_000_000_300), eager.calls)
    }
    // a success in the next bucket of a time window no longer fits the quiet form
    const spec = { _tag: "Time", millis: 1000, buckets: 4 } as const
    assert.isFalse(W.staysQuiet(spec, { _tag: "Quiet", calls: 1, start: 0 }, 250))
    assert.strictEqual(W.quietCalls(spec, { _tag: "Quiet", calls: 5, start: 0 }, 999), 5)
    assert.strictEqual(W.quietCalls(spec, { _tag: "Quiet", calls: 5, start: 0 }, 1000), 0)
  })
})

describe("windows of a circuit", () => {
  const config: M.Config = {
    rules: [{ _tag: "FailureRate", threshold: 0.5, minimumCalls: 4, window: { _tag: "Time", millis: 60_000, buckets: 10 } }],
    openFor: () => 1000,
    maxOpenFor: 1000,
    probes: 1,
    successesToClose: 1,
    closeOnHealthy: false
  }
  const success = { _tag: "Success", ticket: 0 } as const
  const failure = { _tag: "Failure", ticket: 0, slow: false, retryAfter: undefined } as const

  it("a circuit that never failed holds no ring; its first failure counts the successes before it", () => {
    let state: M.State = M.initial(0)
    for (let t = 0; t < 3; t++) state = M.step(state, success, t, config)[0]
    assert.strictEqual(state._tag === "Closed" && state.windows?.[0]?._tag, "Quiet")
    assert.deepStrictEqual(M.rates(state, config, 3), { calls: 3, failureRate: 0, slowCallRate: 0 })
    const [next, transition] = M.step(state, failure, 4, config)
    assert.strictEqual(transition, undefined, "1 failure in 4 calls is below 0.5")
    assert.strictEqual(next._tag === "Closed" && next.windows?.[0]?._tag, "Time")
    assert.deepStrictEqual(M.rates(next, config, 4), { calls: 4, failureRate: 0.25, slowCallRate: 0 })
  })
})
