/**
 * Cost of retry wrappers: one successful call, no failure; and the failure path of a call that is
 * not retried (no sleep). Effect cases are compared with bare `Effect.runPromise(Effect.succeed)`;
 * promise libraries with a bare async call.
 */
import { handleAll, retry as cockatielRetry, ExponentialBackoff } from "cockatiel"
import { Effect, Schedule } from "effect"
import pRetry from "p-retry"
import { Backoff, Retry } from "../src/index.ts"
import type { Group } from "./harness.ts"

const succeed = Effect.succeed(1)
// A call that does work when run (Effect.succeed is a constant that some combinators short-circuit).
const sync = Effect.sync(() => 1)
const policy = { maxRetries: 3, initialDelay: "1 second", maxDelay: "30 seconds", multiplier: 2, jitter: 0.1, log: false } as const
const withRetry = Retry.retry(policy)
const prebuilt = succeed.pipe(withRetry)
const bySchedule = succeed.pipe(Retry.retry({ schedule: Backoff.exponential({ initial: "1 second" }).pipe(Backoff.recurs(3)), log: false }))
const effectRetry = succeed.pipe(Effect.retry(Schedule.exponential("1 second").pipe(Schedule.upTo({ times: 3 }))))
const syncRetry = sync.pipe(withRetry)

// The failure path without a sleep: a call whose failure is not retried (classified Permanent, or
// stopped by Effect.retry's predicate), so what is measured is classification, the verdict and the exit.
const permanentFailure = Effect.exit(Effect.fail({ status: 400 }).pipe(withRetry))
const effectStopped = Effect.exit(Effect.fail({ status: 400 }).pipe(Effect.retry({ schedule: Schedule.exponential("1 second"), while: () => false })))
const plainFailure = Effect.exit(Effect.fail({ status: 400 }))

const cockatiel = cockatielRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() })
const bareAsync = async () => 1

export const retryGroups: ReadonlyArray<Group> = [
  {
    name: "retry (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(succeed) },
      { name: "Retry.retry(policy), prebuilt", run: () => Effect.runPromise(prebuilt) },
      { name: "Retry.retry(policy), piped per call", run: () => Effect.runPromise(succeed.pipe(withRetry)) },
      { name: "Retry.retry({ schedule }), prebuilt", run: () => Effect.runPromise(bySchedule) },
      { name: "Effect.retry(Schedule.exponential), prebuilt", run: () => Effect.runPromise(effectRetry) },
      { name: "bare Effect.runPromise(Effect.sync)", run: () => Effect.runPromise(sync) },
      {
        name: "Retry.retry(policy) over Effect.sync, prebuilt",
        baseline: "bare Effect.runPromise(Effect.sync)",
        run: () => Effect.runPromise(syncRetry)
      }
    ]
  },
  {
    name: "retry failure path (Effect)",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(succeed) },
      { name: "Effect.fail(object) (exit)", run: () => Effect.runPromise(plainFailure) },
      { name: "Retry.retry on a 400: classified Permanent, not retried (exit)", run: () => Effect.runPromise(permanentFailure) },
      { name: "Effect.retry stopped by its predicate (exit)", run: () => Effect.runPromise(effectStopped) }
    ]
  },
  {
    name: "retry (promise libraries)",
    cases: [
      { name: "bare async call", run: () => bareAsync() },
      { name: "cockatiel retry.execute", run: () => cockatiel.execute(bareAsync) },
      { name: "p-retry", run: () => pRetry(bareAsync, { retries: 3 }) }
    ]
  }
]
