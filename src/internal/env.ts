/**
 * Pipeline policies from environment variables (`Resilience.layerConfig`): every field of the
 * schema is a variable `<PREFIX>_<NAME>_<FIELD_PATH>`, derived from the schema's leaves.
 */
import { type ConfigProvider, Effect, type SchemaAST } from "effect"
import { PolicyError, type PolicyIssue, suggest } from "./policyError.ts"
import { coerce, type Leaf, leaves } from "./strict.ts"

const toEnvSegment = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/-/g, "_").toUpperCase()

/** Spellings of a path segment in a variable name; `retry` may be left out, `circuitBreaker` may be `BREAKER`. */
const segmentSpellings = (segment: string): ReadonlyArray<string> =>
  segment === "retry" ? ["RETRY", ""] : segment === "circuitBreaker" ? ["CIRCUIT_BREAKER", "BREAKER"] : [toEnvSegment(segment)]

export interface EnvField {
  readonly path: ReadonlyArray<string>
  readonly accepts: Leaf["accepts"]
}

/**
 * Every variable suffix (`RETRY_MAX_RETRIES`, `MAX_ATTEMPTS`, `BREAKER_HALF_OPEN_PROBES`, …) and
 * the field it sets, written with the spelling the variable used. Full paths win over the short
 * forms they collide with.
 */
export const envFieldsOf = (ast: SchemaAST.AST): ReadonlyMap<string, EnvField> => {
  const full = new Map<string, EnvField>()
  const short = new Map<string, EnvField>()
  for (const leaf of leaves(ast)) {
    const parents = leaf.path.slice(0, -1)
    for (const name of leaf.names) {
      let variants: Array<{ readonly text: Array<string>; readonly isFull: boolean }> = [{ text: [], isFull: true }]
      for (const segment of parents) {
        const spellings = segmentSpellings(segment)
        variants = variants.flatMap((v) => spellings.map((s, i) => ({ text: s === "" ? v.text : [...v.text, s], isFull: v.isFull && i === 0 })))
      }
      for (const variant of variants) {
        const key = [...variant.text, toEnvSegment(name)].join("_")
        const field = { path: [...parents, name], accepts: leaf.accepts }
        if (variant.isFull) full.set(key, field)
        else if (!short.has(key)) short.set(key, field)
      }
    }
  }
  for (const [key, field] of short) if (!full.has(key)) full.set(key, field)
  return full
}

const setPath = (target: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): boolean => {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next !== "object" || next === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  const last = path[path.length - 1]!
  if (Object.prototype.hasOwnProperty.call(node, last)) return false
  Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true })
  return true
}

const sourceError = (error: unknown) =>
  new PolicyError({ issues: [{ path: [], message: `Cannot read configuration: ${String((error as Error)?.message ?? error)}` }] })

/** Every variable under `segments` (any depth), with its value. */
const variablesUnder = (
  provider: ConfigProvider.ConfigProvider,
  segments: ReadonlyArray<string>,
  depth = 0
): Effect.Effect<Array<readonly [ReadonlyArray<string>, string]>, PolicyError> =>
  Effect.gen(function*() {
    const node = yield* provider.load(segments).pipe(Effect.mapError(sourceError))
    if (node === undefined) return []
    const out: Array<readonly [ReadonlyArray<string>, string]> = []
    if (node.value !== undefined && depth > 0) out.push([segments, node.value])
    if (node._tag === "Record" && depth < 12) {
      for (const key of [...node.keys].sort()) out.push(...(yield* variablesUnder(provider, [...segments, key], depth + 1)))
    }
    return out
  })

/**
 * Reads the variables of each name into a policy document entry (a name that is a preset starts
 * from it), with the variable behind each field, and every unknown or doubly set variable.
 */
export const readEnv = (
  provider: ConfigProvider.ConfigProvider,
  names: ReadonlyArray<string>,
  prefix: string,
  envFields: ReadonlyMap<string, EnvField>,
  isPresetName: (name: string) => boolean
): Effect.Effect<{
  readonly entries: Array<readonly [string, unknown]>
  readonly issues: Array<PolicyIssue>
  readonly sources: ReadonlyMap<string, string>
}, PolicyError> =>
  Effect.gen(function*() {
    const sources = new Map<string, string>()
    const issues: Array<PolicyIssue> = []
    const entries: Array<readonly [string, unknown]> = []
    const heads = names.map((name) => [...(prefix === "" ? [] : [prefix]), ...toEnvSegment(name).split("_")])
    for (const [i, name] of names.entries()) {
      const head = heads[i]!
      // Another name that extends this one (`http` and `http_api`) owns its own variables.
      const longer = heads.filter((h) => h.length > head.length && head.every((s, j) => h[j] === s))
      const input: Record<string, unknown> = {}
      for (const [segments, value] of yield* variablesUnder(provider, head)) {
        if (longer.some((h) => h.every((s, j) => segments[j] === s))) continue
        const variable = segments.join("_")
        const suffix = segments.slice(head.length).join("_")
        if (suffix === "PRESET") {
          input.preset = value.trim()
          sources.set(`${name}.preset`, variable)
          continue
        }
        const field = envFields.get(suffix)
        if (field === undefined) {
          const near = suggest(suffix, envFields.keys())
          issues.push({
            path: [name],
            message: `Unknown variable ${variable}${near === undefined ? "" : ` — did you mean ${[...head, near].join("_")}?`}`
          })
          continue
        }
        if (!setPath(input, field.path, coerce(value, field.accepts))) {
          issues.push({ path: [name, ...field.path], message: `Set twice: ${variable} and ${sources.get(`${name}.${field.path.join(".")}`)}` })
          continue
        }
        sources.set(`${name}.${field.path.join(".")}`, variable)
      }
      if (!("preset" in input) && isPresetName(name)) input.preset = name
      entries.push([name, input])
    }
    return { entries, issues, sources }
  })

// The variable behind an issue: the one that set its path or the nearest enclosing one.
export const sourceOf = (sources: ReadonlyMap<string, string>, path: ReadonlyArray<PropertyKey>): string | undefined => {
  for (let n = path.length; n >= 2; n--) {
    const found = sources.get(path.slice(0, n).map(String).join("."))
    if (found !== undefined) return found
  }
  return undefined
}

