/**
 * Happy-path cost of the timeouts: `Timeout.attempt` (reads the call's deadline), `Timeout.total`
 * (sets it), and an attempt timeout inside a deadline that is sooner (cut to the time left).
 */
import { Effect } from "effect"
import { Deadline, Timeout } from "../src/index.ts"
import type { Group } from "./harness.ts"

const one = Effect.succeed(1)
const attempt = one.pipe(Timeout.attempt("5 seconds"))
const total = one.pipe(Timeout.total("5 seconds"))
const cut = one.pipe(Timeout.attempt("5 seconds"), Deadline.within("1 second"))

export const timeoutGroups: ReadonlyArray<Group> = [
  {
    name: "timeouts",
    cases: [
      { name: "bare Effect.runPromise(Effect.succeed)", run: () => Effect.runPromise(one) },
      { name: "Timeout.attempt (no deadline)", run: () => Effect.runPromise(attempt) },
      { name: "Timeout.total (sets the deadline)", run: () => Effect.runPromise(total) },
      { name: "Timeout.attempt cut by Deadline.within", run: () => Effect.runPromise(cut) }
    ]
  }
]
