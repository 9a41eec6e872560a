// The machine configuration shared by the model-based test and the Redis differential test:
// consecutive(3) or a 50 % failure rate over the last 6 calls (at least 4), open periods 100,
// 200, 400 ms capped at 300, two probes, two successes to close.
import type * as M from "../../src/internal/breaker/machine.ts"

export const countConfig: M.Config = {
  rules: [
    { _tag: "Consecutive", failures: 3 },
    { _tag: "FailureRate", threshold: 0.5, minimumCalls: 4, window: { _tag: "Count", size: 6 } }
  ],
  openFor: (k) => [100, 200, 400][Math.min(k, 3) - 1]!,
  maxOpenFor: 300,
  probes: 2,
  successesToClose: 2,
  closeOnHealthy: false
}
