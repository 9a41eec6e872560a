/**
 * Pure delay formulas (milliseconds in, milliseconds out). No Effect, no clock, no randomness
 * source: a uniform draw in [0, 1) is passed in, so every formula can be tested exhaustively and
 * reused by schedules, the CLI's `explain`, and docs.
 *
 * `k` is the retry number, 1-based.
 *
 * @internal
 */

/** `initial · factor^(k-1)` */
export const exponential = (initial: number, factor: number, k: number): number =>
  initial * Math.pow(factor, k - 1)

/** `initial + (k-1) · step` */
export const linear = (initial: number, step: number, k: number): number => initial + (k - 1) * step

/** fib(k) with fib(1) = fib(2) = 1. */
export const fib = (k: number): number => {
  let a = 0
  let b = 1
  for (let i = 1; i < k; i++) {
    const next = a + b
    a = b
    b = next
  }
  return b
}

/** `initial · fib(k)`: 1, 1, 2, 3, 5, … times initial. */
export const fibonacci = (initial: number, k: number): number => initial * fib(k)

/** `min(max, uniform(initial, previous · 3))` (Brooker, AWS 2015). */
export const decorrelated = (initial: number, max: number, previous: number, r: number): number => {
  const upper = Math.max(initial, previous * 3)
  return Math.min(max, initial + r * (upper - initial))
}

/**
 * How a delay is randomised: `"none"`; `"full"` `uniform(0, d)`; `"equal"` `d/2 + uniform(0, d/2)`;
 * `"multiplicative"` `d · (0.5 + uniform(0, 1))`; `{ ratio }` `d · uniform(1-r, 1+r)`;
 * `{ oneSided }` `d + uniform(0, r·d)`.
 */
export type JitterMode =
  | "none"
  | "full"
  | "equal"
  | "multiplicative"
  | { readonly ratio: number }
  | { readonly oneSided: number }

/** The jittered delay for a uniform draw `r` in [0, 1). */
export const jitter = (delay: number, mode: JitterMode, r: number): number => {
  if (mode === "none") return delay
  if (mode === "full") return delay * r
  if (mode === "equal") return delay / 2 + (delay / 2) * r
  if (mode === "multiplicative") return delay * (0.5 + r)
  if ("oneSided" in mode) return delay + mode.oneSided * delay * r
  return delay * (1 - mode.ratio + 2 * mode.ratio * r)
}

/** The range a jittered delay falls in: `[low, high]` (high is exclusive of the draw r = 1). */
export const jitterRange = (delay: number, mode: JitterMode): readonly [number, number] =>
  [jitter(delay, mode, 0), jitter(delay, mode, 1)]

/** The longest server retry hint waited for unless a policy says otherwise (Envoy's cap, too): 5 minutes. */
export const defaultMaxRetryAfterMillis = 5 * 60_000
