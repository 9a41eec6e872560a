/**
 * Documents of named pipeline policies: presets resolved field by field, names kept as names
 * (`__proto__` included), every bad field of every policy reported at once. Made for a schema,
 * its decoder and its presets, so that it needs no public module.
 */
import { Result, type SchemaAST } from "effect"
import { normalizeKey, PolicyError, type PolicyIssue, prefixIssues, showValue } from "./policyError.ts"
import { mergeInto } from "./strict.ts"

export interface DocumentDecoder<P> {
  /**
   * Starts a pipeline policy from a preset when it names one (`{ preset: "http", retry: { maxRetries: 5 } }`):
   * the preset's fields, overridden field by field (nested objects merge, and an alias overrides
   * the field it stands for: `maxAttempts` replaces the preset's `maxRetries`).
   */
  readonly resolvePreset: (input: unknown) => { readonly value: unknown; readonly issues: Array<PolicyIssue> }
  /** One policy that may start from a preset. */
  readonly decodeWithPreset: (input: unknown) => Result.Result<P, PolicyError>
  /** Named policies given as entries (so that any name, `__proto__` included, stays a name). */
  readonly decodeEntries: (entries: ReadonlyArray<readonly [name: string, input: unknown]>) => Result.Result<ReadonlyArray<readonly [string, P]>, PolicyError>
  /** An object of named policies. */
  readonly decodeDocument: (input: unknown) => Result.Result<ReadonlyArray<readonly [string, P]>, PolicyError>
}

/** The dotted paths of the leaves a document sets (bounded: it only names them). */
const changedPaths = (value: Record<string, unknown>, prefix = "", depth = 0): Array<string> =>
  Object.keys(value).flatMap((key) => {
    const child = value[key]
    const path = prefix === "" ? key : `${prefix}.${key}`
    return depth < 4 && typeof child === "object" && child !== null && !Array.isArray(child)
      ? changedPaths(child as Record<string, unknown>, path, depth + 1)
      : [path]
  })

export const documentDecoder = <P>(
  ast: SchemaAST.AST,
  decodeOne: (input: unknown) => Result.Result<P, PolicyError>,
  presets: Readonly<Record<string, unknown>>
): DocumentDecoder<P> => {
  const resolvePreset = (input: unknown): { readonly value: unknown; readonly issues: Array<PolicyIssue> } => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return { value: input, issues: [] }
    const key = Object.keys(input).find((k) => normalizeKey(k) === "preset")
    if (key === undefined) return { value: input, issues: [] }
    const { [key]: name, ...rest } = input as Record<string, unknown>
    if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(presets, name)) {
      return {
        value: rest,
        issues: [{ path: [key], message: `Expected one of ${Object.keys(presets).join(", ")}, got ${showValue(name)}` }]
      }
    }
    const merged = mergeInto(ast, presets[name], rest)
    // The preset's description states its numbers; once a document changes them it would mislead.
    const changed = changedPaths(rest).filter((path) => normalizeKey(path) !== "description")
    if (changed.length === 0 || typeof merged !== "object" || merged === null || "description" in rest) {
      return { value: merged, issues: [] }
    }
    const description = `From the ${name} preset, changed: ${changed.slice(0, 8).join(", ")}${changed.length > 8 ? ", …" : ""}`
    return { value: { ...merged, description }, issues: [] }
  }
  const decodeWithPreset = (input: unknown): Result.Result<P, PolicyError> => {
    const resolved = resolvePreset(input)
    return resolved.issues.length > 0 ? Result.fail(new PolicyError({ issues: resolved.issues })) : decodeOne(resolved.value)
  }
  const decodeEntries = (
    entries: ReadonlyArray<readonly [name: string, input: unknown]>
  ): Result.Result<ReadonlyArray<readonly [string, P]>, PolicyError> => {
    const issues: Array<PolicyIssue> = []
    const out: Array<readonly [string, P]> = []
    const seen = new Set<string>()
    for (const [name, input] of entries) {
      if (name.trim() === "") {
        issues.push({ path: [name], message: "Expected a policy name that is not empty" })
        continue
      }
      if (seen.has(name)) {
        issues.push({ path: [name], message: "Expected each policy name once" })
        continue
      }
      seen.add(name)
      const resolved = resolvePreset(input)
      issues.push(...prefixIssues([name], resolved.issues))
      const decoded = decodeOne(resolved.value)
      if (Result.isFailure(decoded)) issues.push(...prefixIssues([name], decoded.failure.issues))
      else out.push([name, decoded.success])
    }
    return issues.length > 0 ? Result.fail(new PolicyError({ issues })) : Result.succeed(out)
  }
  const decodeDocument = (input: unknown): Result.Result<ReadonlyArray<readonly [string, P]>, PolicyError> => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return Result.fail(new PolicyError({ issues: [{ path: [], message: `Expected an object of named policies, got ${showValue(input)}` }] }))
    }
    return decodeEntries(Object.keys(input).map((name) => [name, (input as Record<string, unknown>)[name]] as const))
  }
  return { resolvePreset, decodeWithPreset, decodeEntries, decodeDocument }
}
