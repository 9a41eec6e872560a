/**
 * The one way options are rejected: `PolicyIssue`s (a path and a message) collected into one
 * `PolicyError`, plus the helpers every decoder uses to build them — path rendering, a bounded
 * printer for bad values (foreign input may be deep, huge, cyclic or booby-trapped with throwing
 * getters) and "did you mean" suggestions.
 *
 * `Policy` re-exports `PolicyError` and `PolicyIssue`; everything here is free of public modules so
 * the guards can use it without depending on the schema module.
 *
 * @internal
 */
import { Data, Result } from "effect"

/** One bad field: where it is and what was expected. */
export interface PolicyIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

/**
 * A policy or options value was rejected. `issues` lists every bad field; `message` has one line
 * per issue in the form `at retry.maxRetries: Expected an integer, got -1`.
 */
export class PolicyError extends Data.TaggedError("PolicyError")<{
  readonly issues: ReadonlyArray<PolicyIssue>
}> {
  override get message(): string {
    return this.issues.map((issue) => `at ${formatPath(issue.path)}: ${issue.message}`).join("\n")
  }
}

/** Renders a path as `a.b[0]` (`<root>` for the empty path). */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  if (path.length === 0) return "<root>"
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else out += out === "" ? safeString(segment) : `.${safeString(segment)}`
  }
  return out
}

const safeString = (u: PropertyKey): string => (typeof u === "symbol" ? u.toString() : String(u))

/** Prefixes every issue's path (e.g. with a policy's name). */
export const prefixIssues = (prefix: ReadonlyArray<PropertyKey>, issues: ReadonlyArray<PolicyIssue>): Array<PolicyIssue> =>
  issues.map((issue) => ({ path: [...prefix, ...issue.path], message: issue.message }))

/** Builds an error from issues, or succeeds with `value` when there are none. */
export const resultOf = <A>(value: A, issues: ReadonlyArray<PolicyIssue>): Result.Result<A, PolicyError> =>
  issues.length === 0 ? Result.succeed(value) : Result.fail(new PolicyError({ issues: dedupe(issues) }))

// A union reports the same expectation once per member that failed the same way.
const dedupe = (issues: ReadonlyArray<PolicyIssue>): Array<PolicyIssue> => {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    const key = `${formatPath(issue.path)}\u0000${issue.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const MAX_SHOWN = 60
const MAX_DEPTH = 3
const MAX_ENTRIES = 5

/**
 * A short, JSON-like rendering of any value for an error message. Never throws and never
 * recurses deeper than a few levels or wider than a few entries, whatever the input: getters
 * that throw, proxies, cycles and 10 000-deep nesting all print as something.
 */
export const showValue = (value: unknown): string => {
  try {
    const text = show(value, 0)
    return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text
  } catch {
    return "<unprintable value>"
  }
}

const show = (value: unknown, depth: number): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > MAX_SHOWN ? value.slice(0, MAX_SHOWN) : value)
    case "number":
    case "boolean":
    case "bigint":
      return String(value)
    case "undefined":
      return "undefined"
    case "symbol":
      return value.toString()
    case "function":
      return "<function>"
  }
  if (value === null) return "null"
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? "[...]" : "{...}"
  if (Array.isArray(value)) {
    const shown = value.slice(0, MAX_ENTRIES).map((item) => show(item, depth + 1))
    if (value.length > MAX_ENTRIES) shown.push("...")
    return `[${shown.join(",")}]`
  }
  const keys = Object.keys(value as object)
  const shown = keys.slice(0, MAX_ENTRIES).map((key) => {
    let entry: string
    try {
      entry = show((value as Record<string, unknown>)[key], depth + 1)
    } catch {
      entry = "<unreadable>"
    }
    return `${JSON.stringify(key)}:${entry}`
  })
  if (keys.length > MAX_ENTRIES) shown.push("...")
  return `{${shown.join(",")}}`
}

/** Levenshtein distance, cut off once it exceeds `limit`. */
export const editDistance = (a: string, b: string, limit = Infinity): number => {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      current.push(value)
      if (value < best) best = value
    }
    if (best > limit) return limit + 1
    previous = current
  }
  return previous[b.length]!
}

/**
 * The known name closest to `name` (case and `_`/`-` ignored), if it is close enough to be a
 * plausible typo: at most a third of the name's length, and at most 3 edits.
 */
export const suggest = (name: string, candidates: Iterable<string>): string | undefined => {
  const key = normalizeKey(name)
  const limit = Math.min(3, Math.max(1, Math.round(key.length / 3)))
  let best: string | undefined
  let bestDistance = limit + 1
  let bestScore = -Infinity
  for (const candidate of candidates) {
    const normalized = normalizeKey(candidate)
    const distance = editDistance(key, normalized, limit)
    if (distance > limit) continue
    // On a tie, the longest shared start, then the closest length: `maxRetry` means `maxRetries`,
    // not `maxDelay` or `retry`.
    let shared = 0
    while (shared < key.length && key[shared] === normalized[shared]) shared++
    const score = shared * 100 - Math.abs(normalized.length - key.length)
    if (distance < bestDistance || (distance === bestDistance && score > bestScore)) {
      best = candidate
      bestDistance = distance
      bestScore = score
    }
  }
  return best
}

/** A field name with case, `_` and `-` removed: `max_retries`, `MaxRetries` and `maxRetries` agree. */
export const normalizeKey = (name: string): string => name.replace(/[_-]/g, "").toLowerCase()
