/**
 * Strict decoding of options against a guard's Schema (the alias table is in `aliases.ts`).
 *
 * Before a value reaches `Schema.decode`, it is walked along the schema's AST: every object key is
 * matched to a field (case, `_` and `-` ignored, so `max_retries` and `MaxRetries` are
 * `maxRetries`), to an alias of one (`initialBackoff`, `exponential_base`, …), or reported as an
 * unknown field with the nearest known name. Two spellings of one field are an error, and so is a
 * bare number for a delay written in snake_case (Python and YAML configs mean seconds there, this
 * library milliseconds). The schema then decodes the canonical value with every issue collected,
 * and issue paths are mapped back to the keys the user wrote.
 *
 * The same walk lists a schema's leaf fields, which `layerConfig` turns into variable names.
 *
 * @internal
 */
import { type Duration, Exit, Result, Schema, SchemaAST, SchemaIssue } from "effect"
import { Delay, isDurationAst } from "./fields.ts"
import { advice, type Alias, aliases } from "./aliases.ts"
import { normalizeKey, PolicyError, type PolicyIssue, prefixIssues, resultOf, showValue, suggest } from "./policyError.ts"
import { chooseObjects, type FieldIndex, indexOf, isPlainObject, literalOf, members, objectsOf } from "./schemaAst.ts"

export { advice, type Alias, aliases }

const adviceByKey = new Map(Object.entries(advice).map(([name, text]) => [normalizeKey(name), text]))

// ---------------------------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------------------------

/** Where each canonical key came from, so issues name what the user wrote. */
const writtenKeys = new WeakMap<object, Map<string, string>>()

const readKey = (value: Record<string, unknown>, key: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: value[key] }
  } catch {
    return { ok: false }
  }
}

/** The known name an unknown key most likely means: a typo of one, or one under a prefix (`inference_max_retries`). */
const nearest = (key: string, index: FieldIndex): { readonly name: string; readonly prefixed: boolean } | undefined => {
  const near = suggest(key, index.names)
  if (near !== undefined) return { name: near, prefixed: false }
  const normalized = normalizeKey(key)
  if (normalized.length < 4) return undefined
  const tail = index.names.find((name) => {
    const n = normalizeKey(name)
    return n.length >= 4 && normalized.length > n.length && normalized.endsWith(n)
  })
  if (tail !== undefined) return { name: tail, prefixed: true }
  const part = index.names.find((name) => normalizeKey(name).includes(normalized))
  return part === undefined ? undefined : { name: part, prefixed: false }
}

/** A field of a nested object the key names (`maxRetries` at the top of a pipeline is `retry.maxRetries`). */
const nested = (key: string, ast: SchemaAST.Objects): string | undefined => {
  for (const property of ast.propertySignatures) {
    for (const child of objectsOf(property.type)) {
      const index = indexOf(child)
      const entry = index.byKey.get(normalizeKey(key))
      if (entry !== undefined) return `${String(property.name)}.${entry.canonical}`
      const near = nearest(key, index)
      if (near !== undefined && near.prefixed) return `${String(property.name)}.${near.name}`
    }
  }
  return undefined
}

const unknownFieldMessage = (key: string, ast: SchemaAST.Objects, index: FieldIndex): string => {
  const advised = adviceByKey.get(normalizeKey(key))
  if (advised !== undefined) return `unknown field: ${advised}`
  const near = nearest(key, index)
  if (near !== undefined && !near.prefixed) return `unknown field — did you mean ${near.name}?`
  const inner = nested(key, ast)
  if (inner !== undefined) return `unknown field — did you mean ${inner}?`
  if (near !== undefined) return `unknown field — did you mean ${near.name} (in a policy of its own)?`
  return `unknown field (known fields: ${index.names.filter((n) => index.types.has(n)).join(", ")})`
}

const walkObjects = (
  ast: SchemaAST.Objects,
  value: Record<string, unknown>,
  path: ReadonlyArray<PropertyKey>,
  issues: Array<PolicyIssue>
): Record<string, unknown> => {
  const index = indexOf(ast)
  const out: Record<string, unknown> = Object.create(null)
  const written = new Map<string, string>()
  let keys: Array<string>
  try {
    keys = Object.keys(value)
  } catch {
    issues.push({ path, message: "Expected an object whose fields can be read" })
    return out
  }
  for (const key of keys) {
    const at = [...path, key]
    const entry = index.byKey.get(normalizeKey(key))
    if (entry === undefined) {
      issues.push({ path: at, message: unknownFieldMessage(key, ast, index) })
      continue
    }
    const read = readKey(value, key)
    if (!read.ok) {
      issues.push({ path: at, message: "Could not read this field (its getter throws)" })
      continue
    }
    const previous = written.get(entry.canonical)
    if (previous !== undefined) {
      // Reported at the spelling that is not the field's own name, the one to remove.
      const [reported, other] = key === entry.canonical ? [previous, key] : [key, previous]
      issues.push({ path: [...path, reported], message: `Give either ${reported} or ${other}, not both` })
      continue
    }
    written.set(entry.canonical, key)
    let field = read.value
    if (entry.alias?.convert !== undefined && field !== undefined) {
      const converted = entry.alias.convert(field)
      if ("issue" in converted) {
        issues.push({ path: at, message: converted.issue })
        continue
      }
      field = converted.value
    }
    const type = index.types.get(entry.canonical)!
    if (typeof field === "number" && key.includes("_") && isDurationAst(type)) {
      issues.push({
        path: at,
        message: `A bare number is ambiguous in a snake_case field (seconds in Python and YAML configs, milliseconds here): write "${field}s" or "${field}ms"`
      })
      continue
    }
    out[entry.canonical] = walk(type, field, at, issues)
  }
  writtenKeys.set(out, written)
  return out
}

/**
 * Objects chosen among several members of a union. Effect reports only part of a union member's
 * issues, so these are decoded again on their own when decoding fails.
 */
interface Choice {
  readonly path: ReadonlyArray<PropertyKey>
  readonly ast: SchemaAST.Objects
  readonly value: unknown
}

let choices: Array<Choice> | undefined

const walk = (ast: SchemaAST.AST, value: unknown, path: ReadonlyArray<PropertyKey>, issues: Array<PolicyIssue>): unknown => {
  if (isDurationAst(ast)) return value
  if (isPlainObject(value)) {
    const candidates = objectsOf(ast)
    const chosen = chooseObjects(candidates, value)
    if (chosen === undefined) return value
    const out = walkObjects(chosen, value, path, issues)
    // Chosen by its fields alone (`{ ratio: 0.1 }` is a ratio budget): fill in the discriminator.
    if (candidates.length > 1) {
      for (const property of chosen.propertySignatures) {
        const literal = literalOf(property.type)
        if (literal !== undefined && !(String(property.name) in out)) out[String(property.name)] = literal
      }
      choices?.push({ path, ast: chosen, value: out })
    }
    return out
  }
  if (Array.isArray(value)) {
    const arrays = members(ast).find((m): m is SchemaAST.Arrays => m._tag === "Arrays")
    const element = arrays?.rest[0]
    if (element === undefined) return value
    return value.map((item, i) => walk(element, item, [...path, i], issues))
  }
  return value
}

/** Maps a path in the canonical value back to the keys the user wrote. */
const writtenPath = (root: unknown, path: ReadonlyArray<PropertyKey>): Array<PropertyKey> => {
  const out: Array<PropertyKey> = []
  let node: unknown = root
  for (const segment of path) {
    const renamed = typeof node === "object" && node !== null ? writtenKeys.get(node)?.get(String(segment)) : undefined
    out.push(renamed ?? segment)
    node = typeof node === "object" && node !== null ? (node as Record<PropertyKey, unknown>)[segment] : undefined
  }
  return out
}

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current = input
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined
    try {
      current = (current as Record<PropertyKey, unknown>)[segment]
    } catch {
      return undefined
    }
  }
  return current
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Flattens a Schema issue into one `PolicyIssue` per bad field, each ending with the value given. */
export const toIssues = (issue: SchemaIssue.Issue, input: unknown): Array<PolicyIssue> => {
  let flat: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<unknown> | undefined }>
  try {
    flat = formatter(issue).issues
  } catch {
    return [{ path: [], message: "Invalid value" }]
  }
  return flat.map((i) => {
    const path = (i.path ?? []).map((segment) =>
      typeof segment === "object" && segment !== null ? (segment as { key: PropertyKey }).key : segment as PropertyKey
    )
    const got = i.message.includes(", got ") ? "" : `, got ${showValue(valueAt(input, path))}`
    return { path: writtenPath(input, path), message: `${i.message}${got}` }
  })
}

const exits = new WeakMap<Schema.Top, (u: unknown, options: SchemaAST.ParseOptions) => Exit.Exit<unknown, Schema.SchemaError>>()

/**
 * Decodes `input` strictly through `schema`: every unknown field, conflicting alias and invalid
 * value in one `PolicyError`. Never throws.
 */
export const decodeStrict = <S extends Schema.Top>(
  schema: S,
  input: unknown,
  options?: {
    /**
     * Cross-field rules to report even when other fields fail (a struct's own check only runs
     * once every field decodes): given the canonical value, the issues it has.
     */
    readonly cross?: ((value: unknown) => ReadonlyArray<PolicyIssue>) | undefined
  }
): Result.Result<S["Type"], PolicyError> => {
  try {
    const issues: Array<PolicyIssue> = []
    const found: Array<Choice> = []
    choices = found
    let value: unknown
    try {
      value = walk(schema.ast, input, [], issues)
    } finally {
      choices = undefined
    }
    let decode = exits.get(schema)
    if (decode === undefined) {
      decode = Schema.decodeUnknownExit(schema as any) as any
      exits.set(schema, decode!)
    }
    const exit = decode!(value, { errors: "all", onExcessProperty: "error" })
    if (Exit.isSuccess(exit)) return resultOf(exit.value as S["Type"], issues)
    const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (reason !== undefined && reason._tag === "Fail") issues.push(...toIssues(reason.error.issue, value))
    else issues.push({ path: [], message: "Could not decode this value" })
    for (const choice of found) {
      const sub = Schema.decodeUnknownExit(Schema.make(choice.ast) as unknown as Schema.Codec<unknown, unknown>)(choice.value, { errors: "all", onExcessProperty: "error" })
      if (Exit.isFailure(sub)) {
        const subReason = sub.cause.reasons.find((r) => r._tag === "Fail")
        if (subReason !== undefined && subReason._tag === "Fail") {
          for (const issue of toIssues(subReason.error.issue, choice.value)) {
            issues.push({ path: [...writtenPath(value, choice.path), ...issue.path], message: issue.message })
          }
        }
      }
    }
    if (options?.cross !== undefined) {
      for (const issue of options.cross(value)) issues.push({ path: writtenPath(value, issue.path), message: issue.message })
    }
    return resultOf(undefined as S["Type"], issues.length > 0 ? issues : [{ path: [], message: "Invalid value" }])
  } catch (error) {
    return Result.fail(new PolicyError({ issues: [{ path: [], message: `Could not decode this value (${showValue(error)})` }] }))
  }
}

// ---------------------------------------------------------------------------------------------
// Leaf fields, for sources that are flat (environment variables)
// ---------------------------------------------------------------------------------------------

/** How a flat text value is read for a field. */
export interface Leaf {
  readonly path: ReadonlyArray<string>
  /** The spellings of the last segment: the field's name first, then its aliases. */
  readonly names: ReadonlyArray<string>
  readonly accepts: { readonly number: boolean; readonly boolean: boolean; readonly list: boolean }
}

/**
 * Every field a schema reaches, nested objects included; a field that is an object or a scalar
 * (`circuitBreaker: true | {…}`) is listed both as a leaf and through its children.
 */
export const leaves = (ast: SchemaAST.AST, path: ReadonlyArray<string> = []): Array<Leaf> => {
  const out: Array<Leaf> = []
  const seen = new Set<string>()
  for (const objects of objectsOf(ast)) {
    const index = indexOf(objects)
    for (const property of objects.propertySignatures) {
      const name = String(property.name)
      if (seen.has(name)) continue
      seen.add(name)
      const at = [...path, name]
      const all = isDurationAst(property.type) ? [property.type] : members(property.type)
      // The decoded side too: a field that checks an unknown input (a window) still takes numbers.
      const decoded = property.type._tag === "Union" ? property.type.types : [property.type]
      const scalars = [...all, ...decoded].filter((m) => m._tag !== "Objects")
      if (scalars.length > 0) {
        const names = [name, ...index.names.filter((n) => index.byKey.get(normalizeKey(n))?.canonical === name && n !== name)]
        out.push({
          path: at,
          names,
          accepts: {
            number: scalars.some((m) => m._tag === "Number" || isDurationAst(m) || typeof literalOf(m) === "number"),
            boolean: scalars.some((m) => m._tag === "Boolean" || typeof literalOf(m) === "boolean"),
            list: scalars.some((m) => m._tag === "Arrays")
          }
        })
      }
      if (all.some((m) => m._tag === "Objects")) out.push(...leaves(property.type, at))
    }
  }
  return out
}

/** Reads a flat text value the way a field accepts it: a list, a boolean, a number, or text. */
export const coerce = (text: string, accepts: Leaf["accepts"]): unknown => {
  const trimmed = text.trim()
  if (accepts.list) return trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (accepts.boolean && (trimmed === "true" || trimmed === "false")) return trimmed === "true"
  if (accepts.number && trimmed !== "" && Number.isFinite(Number(trimmed))) return Number(trimmed)
  return trimmed
}

/**
 * Decodes a code constructor's options through its schema: the fields named in `codeOnly`
 * (functions, services, labels) are left out, `undefined` means "use the default", and anything
 * else — an unknown key included — is checked exactly as in a policy file.
 */
export const decodeOptions = <S extends Schema.Top>(
  schema: S,
  options: object | undefined,
  codeOnly: ReadonlyArray<string> = [],
  decodeOptions_?: Parameters<typeof decodeStrict>[2]
): Result.Result<S["Type"], PolicyError> => {
  const data: Record<string, unknown> = {}
  const issues: Array<PolicyIssue> = []
  if (options !== undefined && options !== null) {
    try {
      for (const key of Object.keys(options)) {
        if (codeOnly.includes(key)) continue
        try {
          const value = (options as Record<string, unknown>)[key]
          if (value !== undefined) data[key] = value
        } catch {
          issues.push({ path: [key], message: "Could not read this field (its getter throws)" })
        }
      }
    } catch {
      issues.push({ path: [], message: "Expected an object whose fields can be read" })
    }
  }
  const decoded = decodeStrict(schema, data, decodeOptions_)
  if (issues.length === 0) return decoded
  return Result.fail(new PolicyError({ issues: [...issues, ...(Result.isFailure(decoded) ? decoded.failure.issues : [])] }))
}

/**
 * Overrides `base` with `override` field by field, along the schema: nested objects merge, and
 * a key replaces every key of `base` that spells the same field (`maxAttempts` replaces
 * `maxRetries`). Unknown keys are kept, for decoding to report.
 */
export const mergeInto = (ast: SchemaAST.AST, base: unknown, override: Record<string, unknown>): unknown => {
  if (!isPlainObject(base)) return override
  const objects = chooseObjects(objectsOf(ast), base) ?? objectsOf(ast)[0]
  if (objects === undefined) return override
  const index = indexOf(objects)
  const canonicalOf = (key: string) => index.byKey.get(normalizeKey(key))?.canonical
  const out: Record<string, unknown> = { ...base }
  for (const key of Object.keys(override)) {
    const value = override[key]
    const canonical = canonicalOf(key)
    if (canonical === undefined) {
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
      continue
    }
    let previous: unknown
    for (const existing of Object.keys(out)) {
      if (canonicalOf(existing) === canonical) {
        previous = out[existing]
        delete out[existing]
      }
    }
    out[key] = isPlainObject(previous) && isPlainObject(value) ? mergeInto(index.types.get(canonical)!, previous, value) : value
  }
  return out
}

/**
 * How many of `keys` name a field of the schema's object (or nearly do: a typo of one). Used to
 * tell what kind of document a file holds.
 */
export const fieldScore = (ast: SchemaAST.AST, keys: ReadonlyArray<string>): number => {
  const objects = objectsOf(ast)[0]
  if (objects === undefined) return 0
  const index = indexOf(objects)
  return keys.filter((key) => index.byKey.has(normalizeKey(key)) || nearest(key, index) !== undefined).length
}

/**
 * A combinator's duration argument (`Timeout.attempt("2 seconds")`, `Deadline.within(…)`), read
 * like a policy's delays, or the `PolicyError` naming it at path `duration`.
 */
export const durationArgument = (input: Duration.Input): Duration.Duration | PolicyError => {
  const decoded = decodeStrict(Delay, input)
  return Result.isSuccess(decoded) ? decoded.success : new PolicyError({ issues: prefixIssues(["duration"], decoded.failure.issues) })
}
