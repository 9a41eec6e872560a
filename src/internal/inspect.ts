/**
 * Safe reading of foreign error values. Errors reach the library from code it does not control:
 * client libraries, user code, and sometimes values built to break things (throwing getters,
 * Proxies, revoked Proxies, cycles, enormous strings). Everything here returns `undefined` or a
 * placeholder instead of throwing, and every walk is bounded in depth and size, so the
 * classifier, the retry log line and dead letters can look at any value.
 *
 * @internal
 */

/** Objects and functions: the values that can carry properties. */
export const isObjectLike = (u: unknown): u is object =>
  (typeof u === "object" && u !== null) || typeof u === "function"

/** `u[key]`, or `undefined` when `u` is not an object or reading throws (getter, Proxy trap, revoked Proxy). */
export const get = (u: unknown, key: PropertyKey): unknown => {
  if (!isObjectLike(u)) return undefined
  try {
    return (u as Record<PropertyKey, unknown>)[key]
  } catch {
    return undefined
  }
}

/** The longest string the classifier and the log line look at: patterns stay cheap on huge messages. */
export const MAX_TEXT = 4096

/** A non-empty string at `key`, cut to `MAX_TEXT` characters. */
export const stringAt = (u: unknown, key: PropertyKey): string | undefined => {
  const value = get(u, key)
  return typeof value === "string" && value !== "" ? value.slice(0, MAX_TEXT) : undefined
}

/** `u instanceof C`, `false` when a Proxy's `getPrototypeOf` trap throws. */
export const isInstance = (u: unknown, C: abstract new(...args: never) => unknown): boolean => {
  if (!isObjectLike(u)) return false
  try {
    return u instanceof C
  } catch {
    return false
  }
}

/** `u`'s prototype, or `undefined` when `u` is not an object or the `getPrototypeOf` trap throws. */
export const prototypeOf = (u: unknown): object | null | undefined => {
  if (!isObjectLike(u)) return undefined
  try {
    return Object.getPrototypeOf(u)
  } catch {
    return undefined
  }
}

/** Own enumerable keys, at most `limit`; none when the `ownKeys` trap throws. */
export const keysOf = (u: unknown, limit: number): ReadonlyArray<string> => {
  if (!isObjectLike(u)) return []
  try {
    const keys = Object.keys(u)
    return keys.length > limit ? keys.slice(0, limit) : keys
  } catch {
    return []
  }
}

/** Calls `f` with `self` as `this`, `undefined` when it throws. */
export const callSafe = (f: unknown, self: unknown, ...args: ReadonlyArray<unknown>): unknown => {
  if (typeof f !== "function") return undefined
  try {
    return Reflect.apply(f, self, args)
  } catch {
    return undefined
  }
}

/** Where wrappers keep the failure they wrap: standard `cause`, `originalError`, Effect's `reason`, `AggregateError#errors`. */
const NESTED_KEYS = ["cause", "originalError", "reason"] as const

/** The most `errors` entries looked at. */
const MAX_AGGREGATED = 8

/** The values an error wraps, in the order they are worth looking at. */
export const nested = (u: unknown): ReadonlyArray<unknown> => {
  const out: Array<unknown> = []
  for (const key of NESTED_KEYS) {
    const value = get(u, key)
    if (isObjectLike(value) || (typeof value === "string" && key === "cause")) out.push(value)
  }
  const errors = get(u, "errors")
  if (Array.isArray(errors)) {
    for (let i = 0; i < Math.min(errors.length, MAX_AGGREGATED); i++) out.push(get(errors, i))
  }
  return out
}

const MAX_PREVIEW_DEPTH = 2
const MAX_PREVIEW_KEYS = 8
const MAX_PREVIEW_STRING = 80

const previewValue = (u: unknown, depth: number, seen: Set<unknown>): string => {
  switch (typeof u) {
    case "string":
      return JSON.stringify(u.length > MAX_PREVIEW_STRING ? `${u.slice(0, MAX_PREVIEW_STRING)}…` : u)
    case "number":
    case "boolean":
    case "undefined":
      return String(u)
    case "bigint":
      return `${u}n`
    case "symbol":
      return "[symbol]"
    case "function":
      return "[function]"
  }
  if (u === null) return "null"
  if (seen.has(u)) return "[Circular]"
  if (depth >= MAX_PREVIEW_DEPTH) return Array.isArray(u) ? "[…]" : "{…}"
  seen.add(u)
  try {
    if (Array.isArray(u)) {
      const items: Array<string> = []
      const length = Math.min(Number(get(u, "length")) || 0, MAX_PREVIEW_KEYS)
      for (let i = 0; i < length; i++) items.push(previewValue(get(u, i), depth + 1, seen))
      return `[${items.join(",")}${(Number(get(u, "length")) || 0) > MAX_PREVIEW_KEYS ? ",…" : ""}]`
    }
    const keys = keysOf(u, MAX_PREVIEW_KEYS + 1)
    const fields = keys.slice(0, MAX_PREVIEW_KEYS).map((key) => `${JSON.stringify(key)}:${previewValue(get(u, key), depth + 1, seen)}`)
    return `{${fields.join(",")}${keys.length > MAX_PREVIEW_KEYS ? ",…" : ""}}`
  } finally {
    seen.delete(u)
  }
}

/**
 * A JSON-like rendering of any value, bounded in depth, keys and string length, with cycles shown
 * as `[Circular]`. Never calls `toJSON` or `toString`, so a hostile value cannot run code here
 * beyond its own getters, whose exceptions are swallowed.
 */
export const preview = (u: unknown, maxLength = 200): string => {
  let text: string
  try {
    text = previewValue(u, 0, new Set())
  } catch {
    text = "[unreadable]"
  }
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text
}

/**
 * The status line of a response-like value (fetch `Response`, Effect's `HttpClientResponse`,
 * Node's `IncomingMessage`): its properties are getters or not enumerable, so a plain rendering
 * shows `{}`. A plain record `{ status: 503 }` is left to `preview`.
 */
const httpStatusText = (u: unknown): string | undefined => {
  if (typeof get(u, "ok") !== "boolean" && !isObjectLike(get(u, "headers"))) return undefined
  const status = get(u, "status") ?? get(u, "statusCode")
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) return undefined
  const text = stringAt(u, "statusText")
  return `HTTP ${status}${text === undefined ? "" : ` ${text.slice(0, MAX_PREVIEW_STRING)}`}`
}

/**
 * A short, human-readable description of any value, for messages and logs: an error's message
 * (or name), a record's `message` or `_tag`, a response's `HTTP <status> <statusText>`, else a
 * bounded preview. Never throws.
 */
export const describe = (error: unknown): string => {
  if (!isObjectLike(error)) {
    return typeof error === "string" ? error.slice(0, MAX_TEXT) : typeof error === "symbol" ? "[symbol]" : String(error)
  }
  const message = stringAt(error, "message")
  if (message !== undefined) return message
  if (isInstance(error, Error)) {
    const name = stringAt(error, "name")
    if (name !== undefined) return name
  }
  const tag = stringAt(error, "_tag")
  if (tag !== undefined) return tag
  return httpStatusText(error) ?? preview(error)
}
