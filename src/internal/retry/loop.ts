/**
 * The retry loop: what happens after a call's first failure. Entered only once something fails, so
 * a call that succeeds at once never touches the schedule, the clock or the logs.
 */
import { type Cause, Clock, Context, Duration, Effect, Fiber, Pull, Schedule } from "effect"
import type { Classified, Permanent, Transient } from "../verdicts.ts"
import type { Budget } from "../../RetryBudget.ts"
import { denyNowOf } from "../budgetPeek.ts"
import { CurrentDeadline } from "../deadline.ts"
import { hintOf } from "../hints.ts"
import { describe } from "../inspect.ts"
import type { Kind } from "../kind.ts"
import { failExit, TracelessError } from "../traceless.ts"

/** Why a retry loop gave up on a transient failure (see `Retry.ExhaustedReason`). */
export type ExhaustedReason = "schedule" | "predicate" | "kind" | "budget" | "retryAfter" | "deadline"

/** A transient failure that was not retried any more (public as `Retry.RetriesExhausted`). */
export class RetriesExhausted<out E> extends TracelessError("RetriesExhausted")<{
  readonly attempts: number
  readonly elapsed: Duration.Duration
  readonly last: Transient<E>
  readonly reason: ExhaustedReason
  /** With reason `"retryAfter"`: the wait the server asked for, which the policy did not allow. */
  readonly retryAfter?: Duration.Duration | undefined
}> {
  override get message(): string {
    const why = this.reason === "retryAfter" && this.retryAfter !== undefined
      ? `retryAfter: the server asked to wait ${Duration.format(this.retryAfter)}, longer than allowed`
      : this.reason === "deadline"
      ? "deadline: the next attempt could not start before the call's deadline"
      : this.reason
    return `Gave up after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"} (${why}): ${this.last.message}`
  }
}

/** The attempt number inside a retried effect (public as `Retry.CurrentAttempt`). */
export const CurrentAttempt: Context.Reference<number> = Context.Reference<number>(
  "effect-resilience/Retry/CurrentAttempt",
  { defaultValue: () => 1 }
)

/** What `onRetry` sees before each retry (public as `Retry.RetryEvent`). */
export interface RetryEvent<E> {
  readonly operation: string
  /** The attempt that just failed (1 = the first call). */
  readonly attempt: number
  readonly maxAttempts: number | undefined
  readonly delay: Duration.Duration
  readonly error: Transient<E>
}

/** A decoded retry configuration, ready to drive the loop. */
export interface Plan<E, R> {
  readonly schedule: Schedule.Schedule<unknown, Transient<E>, never, R>
  readonly classify: (error: E) => Classified<E>
  readonly allowKind: ((kind: Kind) => boolean) | undefined
  readonly while: ((error: Transient<E>, attempt: number) => boolean | Effect.Effect<boolean, never, R>) | undefined
  readonly onRetry: ((event: RetryEvent<E>) => Effect.Effect<void, never, R>) | undefined
  /** Runs when a call succeeds after retrying (`retries` of them); a pipeline counts these. */
  readonly onRecovered: ((retries: number) => Effect.Effect<void>) | undefined
  readonly operation: string
  readonly maxAttempts: number | undefined
  readonly honorRetryAfter: boolean
  /** Hints are waited for (by the loop or by the schedule), so they are checked against the limits. */
  readonly checkHints: boolean
  readonly maxRetryAfterMillis: number
  /** The retry's own total time limit (a policy's `timeout`), when it has one. */
  readonly totalLimitMillis: number | undefined
  readonly log: boolean
  readonly budget: Budget | undefined
  /** The schedule surely allows a first retry (a policy's, with `maxRetries` >= 1). */
  readonly firstRetryAllowed?: boolean | undefined
}

const annotations = (
  plan: Plan<any, any>,
  attempt: number,
  error: Transient<unknown> | undefined,
  extra: Record<string, unknown> = {}
): Record<string, unknown> => ({
  operation: plan.operation,
  attempt,
  ...(plan.maxAttempts === undefined ? {} : { maxAttempts: plan.maxAttempts }),
  ...(error === undefined ? {} : { error: describe(error.error), kind: error.kind }),
  ...extra
})

/**
 * Budget denials are logged once per spell: in an outage a spent budget denies every call, and an
 * Error line per call is a log storm that says one thing. The first denial is logged; later ones
 * are only counted (metrics count each) until the budget grants a retry again, and the next
 * spell's line says how many went unlogged (`budgetDenialsNotLogged`). Kept per budget, so
 * pipelines sharing one budget share its spell.
 */
interface DenialSpell {
  logged: boolean
  unlogged: number
}

const denialSpells = new WeakMap<object, DenialSpell>()

const denialSpellOf = (budget: object): DenialSpell => {
  let spell = denialSpells.get(budget)
  if (spell === undefined) denialSpells.set(budget, spell = { logged: false, unlogged: 0 })
  return spell
}

/** A granted retry ends the budget's spell of denials: the next denial is logged again. */
const endDenialSpell = (budget: object): void => {
  const spell = denialSpells.get(budget)
  if (spell !== undefined) spell.logged = false
}

const exhausted = <E>(
  plan: Plan<E, any>,
  attempts: number,
  firstFailureAt: number,
  now: number,
  last: Transient<E>,
  reason: ExhaustedReason,
  retryAfter?: Duration.Duration
): Effect.Effect<never, RetriesExhausted<E>> => {
  const error = exhaustedError(attempts, now - firstFailureAt, last, reason, retryAfter)
  if (!plan.log) return Effect.fail(error)
  let unlogged: { readonly budgetDenialsNotLogged?: number } = {}
  if (reason === "budget" && plan.budget !== undefined) {
    const spell = denialSpellOf(plan.budget)
    if (spell.logged) {
      spell.unlogged++
      return Effect.fail(error)
    }
    spell.logged = true
    if (spell.unlogged > 0) unlogged = { budgetDenialsNotLogged: spell.unlogged }
    spell.unlogged = 0
  }
  const hint = retryAfter === undefined ? {} : { retryAfterMs: Duration.toMillis(retryAfter) }
  return Effect.logError(`All retry attempts exhausted for ${plan.operation}`).pipe(
    Effect.annotateLogs(annotations(plan, attempts, last, { attempts, reason, ...hint, ...unlogged })),
    Effect.andThen(Effect.fail(error))
  )
}

const ZERO = Duration.millis(0)

/**
 * `new RetriesExhausted(...)` without its constructor's argument object and `Object.assign` (a
 * spent budget builds one per call of an outage): a plain constructor on the class's prototype,
 * whose instances V8 lays out with their fields in place (an `Object.create` object would grow
 * them one by one). Same prototype, same own fields in the same order, so `instanceof`, the tag
 * and equality are the class's.
 */
const Exhausted = function(
  this: Record<string, unknown>,
  attempts: number,
  elapsed: Duration.Duration,
  last: Transient<unknown>,
  reason: ExhaustedReason
) {
  this._tag = "RetriesExhausted"
  this.attempts = attempts
  this.elapsed = elapsed
  this.last = last
  this.reason = reason
} as unknown as new<E>(
  attempts: number,
  elapsed: Duration.Duration,
  last: Transient<E>,
  reason: ExhaustedReason
) => { -readonly [K in keyof RetriesExhausted<E>]: RetriesExhausted<E>[K] }
Exhausted.prototype = RetriesExhausted.prototype

const exhaustedError = <E>(
  attempts: number,
  elapsedMillis: number,
  last: Transient<E>,
  reason: ExhaustedReason,
  retryAfter: Duration.Duration | undefined
): RetriesExhausted<E> => {
  const error = new Exhausted(attempts, elapsedMillis === 0 ? ZERO : Duration.millis(elapsedMillis), last, reason)
  if (retryAfter !== undefined) error.retryAfter = retryAfter
  return error as RetriesExhausted<E>
}

/** A hint above the cap, or one whose wait would end past the total time limit, is not waited for. */
const hintRefused = (plan: Plan<any, any>, hintMillis: number, elapsedMillis: number): boolean =>
  !(hintMillis <= plan.maxRetryAfterMillis) ||
  (plan.totalLimitMillis !== undefined && elapsedMillis + hintMillis > plan.totalLimitMillis)

/** The slow path: entered on the first transient failure, it builds the schedule's state and drives it. */
const retryLoop = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2>,
  first: Transient<E>
): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const step = yield* Schedule.toStep(plan.schedule)
    const firstFailureAt = clock.currentTimeMillisUnsafe()
    // Read once a retry is being decided: a call that never fails never looks at it.
    const deadline = yield* CurrentDeadline
    let last = first
    let attempt = 1
    while (true) {
      if (plan.allowKind !== undefined && !plan.allowKind(last.kind)) {
        return yield* exhausted(plan, attempt, firstFailureAt, clock.currentTimeMillisUnsafe(), last, "kind")
      }
      if (plan.while !== undefined) {
        const verdict = plan.while(last, attempt)
        const go = typeof verdict === "boolean" ? verdict : yield* verdict
        if (!go) return yield* exhausted(plan, attempt, firstFailureAt, clock.currentTimeMillisUnsafe(), last, "predicate")
      }
      const now = clock.currentTimeMillisUnsafe()
      const hint = plan.checkHints ? hintOf(last) : undefined
      if (hint !== undefined && hintRefused(plan, Duration.toMillis(hint), now - firstFailureAt)) {
        // Checked before the schedule, so a hint never becomes a sleep the policy did not allow.
        return yield* exhausted(plan, attempt, firstFailureAt, now, last, "retryAfter", hint)
      }
      const next = yield* Pull.catchDone(step(now, last), () => Effect.succeed(undefined))
      if (next === undefined) return yield* exhausted(plan, attempt, firstFailureAt, now, last, "schedule")
      let delay = next[1]
      if (plan.honorRetryAfter && hint !== undefined) delay = Duration.max(delay, hint)
      if (deadline !== undefined && now + Duration.toMillis(delay) >= deadline) {
        // The next attempt would start when nobody waits for it any more.
        return yield* exhausted(plan, attempt, firstFailureAt, now, last, "deadline")
      }
      if (plan.budget !== undefined) {
        if (!(yield* plan.budget.tryAcquire(last))) return yield* exhausted(plan, attempt, firstFailureAt, now, last, "budget")
        endDenialSpell(plan.budget)
      }
      if (plan.log) {
        yield* Effect.logWarning(`Retrying ${plan.operation} after error`).pipe(
          Effect.annotateLogs(annotations(plan, attempt, last, { delayMs: Duration.toMillis(delay) }))
        )
      }
      if (plan.onRetry !== undefined) {
        yield* plan.onRetry({ operation: plan.operation, attempt, maxAttempts: plan.maxAttempts, delay, error: last })
      }
      yield* Effect.sleep(delay)
      attempt++
      const result = yield* Effect.result(Effect.provideService(self, CurrentAttempt, attempt))
      if (result._tag === "Success") {
        plan.budget?.onSuccess(true, last)
        if (plan.log) {
          yield* Effect.logInfo(`Retry succeeded for ${plan.operation}`).pipe(
            Effect.annotateLogs(annotations(plan, attempt, undefined, { retries: attempt - 1 }))
          )
        }
        if (plan.onRecovered !== undefined) yield* plan.onRecovered(attempt - 1)
        return result.success
      }
      const verdict = plan.classify(result.failure)
      if (verdict._tag === "Permanent") return yield* Effect.fail(verdict)
      last = verdict
    }
  })

/**
 * Continues after a call's first failure: a `Permanent` fails at once, a `Transient` enters the
 * retry loop, which runs `self` for the next attempts. The budget's per-call hooks (`onRequest`,
 * first-try `onSuccess`) are the caller's business here; the loop still asks it for each retry.
 */
export const resume = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2>,
  error: E
): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => {
  const verdict = plan.classify(error)
  // A shared verdict (an open circuit's, an expired deadline's) comes with its exit.
  if (verdict._tag === "Permanent") return failExit(verdict)
  // Run from a fiber's handler (the usual case), the fiber is at hand without a step of its own.
  const current = Fiber.getCurrent()
  if (current !== undefined) return answeredAtOnce(plan, verdict, current) ?? retryLoop(self, plan, verdict)
  if (plan.budget === undefined) return retryLoop(self, plan, verdict)
  return Effect.withFiber((fiber) => answeredAtOnce(plan, verdict, fiber) ?? retryLoop(self, plan, verdict))
}

/**
 * The loop's answer without the loop, where its first round surely reaches the check that ends
 * it (the kind is retried, no `while`, no hint, a first retry the schedule allows): a deadline
 * already past ends it with reason `"deadline"` (any delay starts the next attempt past it), else
 * a spent budget that denies the retry now with reason `"budget"`. Checked in the loop's order:
 * under a deadline not yet past, only the loop knows the delay, so the budget is asked there.
 */
const answeredAtOnce = <E>(
  plan: Plan<E, any>,
  first: Transient<E>,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<never, RetriesExhausted<E>> | undefined => {
  if (plan.firstRetryAllowed !== true || plan.while !== undefined) return undefined
  const deadline = fiber.getRef(CurrentDeadline)
  if (deadline === undefined && plan.budget === undefined) return undefined
  if (plan.allowKind !== undefined && !plan.allowKind(first.kind)) return undefined
  if (plan.checkHints && hintOf(first) !== undefined) return undefined
  if (deadline !== undefined) {
    const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
    return now >= deadline ? exhausted(plan, 1, now, now, first, "deadline") : undefined
  }
  const denyNow = denyNowOf(plan.budget!)
  return denyNow !== undefined && denyNow(first) ? exhausted(plan, 1, 0, 0, first, "budget") : undefined
}

/** Applies a plan to one effect: a first success costs one `Effect.catch` (with a budget, its hooks in one `matchEffect`). */
export const apply = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  plan: Plan<E, R2>
): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => {
  const loop = (error: E): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => resume(self, plan, error)
  // `Effect.catch(self, loop)`, with its commonest cause (one typed failure) read directly; any
  // other cause gets `Effect.catch`'s own answer (defects elected, interruptions kept).
  const recover = (cause: Cause.Cause<E>): Effect.Effect<A, Permanent<E> | RetriesExhausted<E>, R | R2> => {
    const reasons = cause.reasons
    if (reasons.length === 1 && reasons[0]!._tag === "Fail") return resume(self, plan, reasons[0]!.error)
    return Effect.catch(Effect.failCause(cause), loop)
  }
  const budget = plan.budget
  if (budget === undefined) return Effect.catchCause(self, recover)
  // One frame for both outcomes (a success counted, a failure into the loop), as `catch` + `map` would be two.
  const handlers = {
    onFailure: recover,
    onSuccess: (a: A): Effect.Effect<A> => {
      budget.onSuccess(false)
      return Effect.succeed(a)
    }
  }
  const matched = Effect.matchCauseEffect(self, handlers)
  return Effect.suspend(() => {
    budget.onRequest()
    return matched
  })
}
