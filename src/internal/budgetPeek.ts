/**
 * A retry budget's synchronous answer for the common outage case: "this retry would be denied
 * now". The retry loop asks it before building its schedule state, so a call whose first retry
 * the budget denies (every call, once the budget is spent) ends without the loop. Only budgets
 * that decide in this process (`tokenBucket`, `ratio`) offer it; the loop asks the others through
 * `tryAcquire` as before.
 */
import type { Transient } from "./verdicts.ts"

/** Counts the denial and returns true when a retry for `failure` would be denied now; otherwise changes nothing. */
export type DenyNow = (failure: Transient<unknown>) => boolean

const denyNowKey = Symbol.for("effect-resilience/RetryBudget/denyNow")

/** Attaches the synchronous denial check to a budget (`RetryBudget.tokenBucket`, `ratio`). */
export const withDenyNow = <B extends object>(budget: B, denyNow: DenyNow): B =>
  Object.defineProperty(budget, denyNowKey, { value: denyNow, enumerable: false })

/** A budget's synchronous denial check, or undefined. */
export const denyNowOf = (budget: object): DenyNow | undefined =>
  (budget as { readonly [denyNowKey]?: DenyNow | undefined })[denyNowKey]
