/**
 * What a pipeline does with each call's final exit: count it (attempts, failures by kind,
 * rejections, budget denials) and, for a final failure the policy wants kept, store a dead letter
 * before the failure returns.
 */
import { Cause, Effect, Exit } from "effect"
import type { Recorder } from "../../Telemetry.ts"
import { kindOf } from "../errorInfo.ts"
import type { Kind } from "../kind.ts"
import { type LetterStore, letterFor, publishOrLog } from "../letters.ts"
import { NOTHING } from "../onExit.ts"
import { RetriesExhausted } from "../retry/loop.ts"
import type { Permanent } from "../verdicts.ts"

/** Why a call was rejected without running (open circuit, full bulkhead), or undefined. */
export const rejectionReason = (error: unknown): string | undefined => {
  const tag = typeof error === "object" && error !== null ? (error as { _tag?: unknown })._tag : undefined
  if (tag === "BulkheadFull") return "bulkhead_full"
  if (tag === "BreakerOpen") return "circuit_open"
  if (tag === "Permanent" && (error as Permanent<unknown>).kind === "CircuitOpen") return "circuit_open"
  return undefined
}

// A rejection's kind, as the default classifier gives it (BreakerOpen → CircuitOpen, BulkheadFull →
// RateLimit): said here, not classified again for every rejection of an outage.
const rejectionKind: Readonly<Record<string, Kind>> = { circuit_open: "CircuitOpen", bulkhead_full: "RateLimit" }

/** `Cause.findErrorOption` without the `Option` (a rejection's hot path allocates nothing here). */
const firstFailure = (cause: Cause.Cause<unknown>): Cause.Fail<unknown> | undefined => {
  for (const reason of cause.reasons) if (reason._tag === "Fail") return reason
  return undefined
}

// The tag first: `instanceof` walks the whole prototype chain of every other failure.
const isBudgetDenial = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { readonly _tag?: unknown })._tag === "RetriesExhausted" &&
  error instanceof RetriesExhausted && error.reason === "budget"

export interface ObserveOptions {
  readonly name: string
  readonly now: () => number
  /** Where letters go; undefined when the policy keeps none. */
  readonly deadLetters: LetterStore | undefined
  /** Whether calls rejected without running become letters too. */
  readonly letterRejected: boolean
  /** The pipeline's own tags (from code), under every call's tags. */
  readonly tags: Readonly<Record<string, string>>
}

/**
 * The observer of one kind of call (its recorder and tags). Returns undefined when there is
 * nothing to run, so the exit handler adds no step to a successful call.
 */
export const observer = (
  options: ObserveOptions,
  recorder: Recorder,
  callTags: Readonly<Record<string, string>> | undefined
) => {
  const tags = callTags === undefined ? options.tags : { ...options.tags, ...callTags }
  return (exit: Exit.Exit<unknown, unknown>, startedAt: number | undefined): Effect.Effect<void> => {
    const durationMs = startedAt === undefined ? undefined : options.now() - startedAt
    if (Exit.isSuccess(exit)) {
      recorder.recordCall(true, durationMs, undefined)
      return NOTHING
    }
    const error = firstFailure(exit.cause)
    if (error === undefined) {
      if (!Cause.hasInterruptsOnly(exit.cause)) recorder.recordCall(false, durationMs, "Unknown")
      return NOTHING
    }
    const failure = error.error
    const reason = rejectionReason(failure)
    if (reason !== undefined) recorder.recordRejection(reason)
    recorder.recordCall(false, durationMs, reason === undefined ? kindOf(failure) : rejectionKind[reason]!, reason !== undefined)
    const denied = isBudgetDenial(failure)
    if (options.deadLetters === undefined && !denied) return NOTHING
    const effects: Array<Effect.Effect<void>> = []
    if (denied) effects.push(recorder.recordBudgetDenied)
    if (options.deadLetters !== undefined && (reason === undefined || options.letterRejected)) {
      // Counted as a dead letter only once stored; a letter the store refused is counted as failed.
      const counted = reason === undefined ? recorder.recordDeadLetter : recorder.recordRejectedLetter
      effects.push(Effect.flatMap(
        publishOrLog(options.deadLetters, letterFor(failure, options.name, tags, options.now())),
        (stored) => stored ? counted : Effect.void
      ))
    }
    return effects.length === 0 ? NOTHING : effects.length === 1 ? effects[0]! : Effect.all(effects, { discard: true })
  }
}
