/**
 * Sliding windows of counts: a count window (the last N call outcomes, a ring buffer with running
 * totals) and a time window (a ring of buckets advanced lazily by `now`). The breaker's rate rules
 * keep calls, failures and slow calls in them; the retry budget keeps requests and retries in a
 * time window's first two counters. Recording and reading are O(1) (the time window touches at
 * most its bucket count when it advances). No Effect, no clock: time is passed in.
 *
 * A window is a linear value: the machine owns it and updates it in place, so a decision does not
 * allocate. Callers that need a snapshot read the totals.
 *
 * @internal
 */

/** Where a rate rule looks: the last `size` calls, or the calls of the last `millis`. */
export type WindowSpec =
  | { readonly _tag: "Count"; readonly size: number }
  | { readonly _tag: "Time"; readonly millis: number; readonly buckets: number }

/** Outcome bits stored per call. */
export const FAILED = 1
/** Outcome bit: the call was slow. */
export const SLOW = 2

/** The running totals every window exposes. */
export interface Totals {
  calls: number
  failures: number
  slow: number
}

/** The last N outcomes. */
export interface CountWindow extends Totals {
  readonly _tag: "Count"
  readonly outcomes: Uint8Array
  /** The next slot to write. */
  next: number
}

/**
 * Buckets of `bucketMillis`, the newest at `head`, which starts at `headStart`. The counts live
 * in one typed array (calls, failures, slow per bucket) to keep an idle circuit small.
 */
export interface TimeWindow extends Totals {
  readonly _tag: "Time"
  readonly bucketMillis: number
  readonly size: number
  /** `[calls, failures, slow]` of bucket i at 3i, 3i+1, 3i+2. */
  readonly counts: Uint32Array
  head: number
  headStart: number
}

/** Either window. */
export type Window = CountWindow | TimeWindow

/**
 * A window that has seen only successes, all of them in its first bucket (any number of them, for
 * a count window): two numbers instead of a ring. It stands for exactly the window `materialize`
 * builds, so a circuit that never failed holds no ring, and one that fails gets the very window it
 * would have had.
 */
export interface QuietWindow {
  readonly _tag: "Quiet"
  calls: number
  /** When its first call was recorded (ms): where the full window would have started. */
  readonly start: number
}

/** The full window a quiet one stands for. */
export const materialize = (spec: WindowSpec, quiet: QuietWindow): Window => {
  const window = make(spec, quiet.start)
  if (window._tag === "Count") {
    window.calls = Math.min(quiet.calls, window.outcomes.length)
    window.next = quiet.calls % window.outcomes.length
  } else {
    window.counts[0] = quiet.calls
    window.calls = quiet.calls
  }
  return window
}

/** Whether a success at `now` stays in a quiet window's first bucket (always, for a count window). */
export const staysQuiet = (spec: WindowSpec, quiet: QuietWindow, now: number): boolean => {
  if (spec._tag === "Count") return true
  const bucketMillis = Math.max(1, spec.millis / spec.buckets)
  return now - Math.floor(quiet.start / bucketMillis) * bucketMillis < bucketMillis
}

/** The calls a quiet window still holds at `now` (its bucket leaves a time window after `buckets` steps). */
export const quietCalls = (spec: WindowSpec, quiet: QuietWindow, now: number): number => {
  if (spec._tag === "Count") return Math.min(quiet.calls, spec.size)
  const bucketMillis = Math.max(1, spec.millis / spec.buckets)
  const steps = Math.floor((now - Math.floor(quiet.start / bucketMillis) * bucketMillis) / bucketMillis)
  return steps >= spec.buckets ? 0 : quiet.calls
}

/** An empty window for a spec. Time windows start at `now`. */
export const make = (spec: WindowSpec, now: number): Window => {
  if (spec._tag === "Count") {
    return { _tag: "Count", outcomes: new Uint8Array(spec.size), next: 0, calls: 0, failures: 0, slow: 0 }
  }
  const bucketMillis = Math.max(1, spec.millis / spec.buckets)
  return {
    _tag: "Time",
    bucketMillis,
    size: spec.buckets,
    counts: new Uint32Array(spec.buckets * 3),
    head: 0,
    headStart: Math.floor(now / bucketMillis) * bucketMillis,
    calls: 0,
    failures: 0,
    slow: 0
  }
}

/** Drops the buckets that have left a time window by `now`. No-op for count windows. */
export const advance = (window: Window, now: number): void => {
  if (window._tag === "Count") return
  const elapsed = now - window.headStart
  if (elapsed < window.bucketMillis) return
  const size = window.size
  const counts = window.counts
  const steps = Math.floor(elapsed / window.bucketMillis)
  if (steps >= size) {
    counts.fill(0)
    window.calls = 0
    window.failures = 0
    window.slow = 0
    window.head = 0
  } else {
    for (let i = 0; i < steps; i++) {
      const h = (window.head + 1) % size
      const at = h * 3
      window.calls -= counts[at]!
      window.failures -= counts[at + 1]!
      window.slow -= counts[at + 2]!
      counts[at] = 0
      counts[at + 1] = 0
      counts[at + 2] = 0
      window.head = h
    }
  }
  window.headStart += steps * window.bucketMillis
}

/** Adds to a time window's current bucket (any counter may be 0), after advancing it to `now`. */
export const add = (window: TimeWindow, calls: number, failures: number, slow: number, now: number): void => {
  advance(window, now)
  const at = window.head * 3
  const counts = window.counts
  counts[at] = counts[at]! + calls
  counts[at + 1] = counts[at + 1]! + failures
  counts[at + 2] = counts[at + 2]! + slow
  window.calls += calls
  window.failures += failures
  window.slow += slow
}

/** Records one call: `bits` is a combination of `FAILED` and `SLOW`. */
export const record = (window: Window, bits: number, now: number): void => {
  const failed = bits & FAILED ? 1 : 0
  const slow = bits & SLOW ? 1 : 0
  if (window._tag === "Count") {
    const size = window.outcomes.length
    if (window.calls === size) {
      const old = window.outcomes[window.next]!
      window.failures -= old & FAILED
      window.slow -= (old & SLOW) >> 1
    } else {
      window.calls++
    }
    window.outcomes[window.next] = bits
    window.next = (window.next + 1) % size
    window.failures += failed
    window.slow += slow
    return
  }
  add(window, 1, failed, slow, now)
}
