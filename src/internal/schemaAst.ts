/**
 * Walking a schema's AST the way strict decoding reads a value: the node a field decodes from,
 * union members, object shapes, and each object's index of canonical keys and aliases.
 */
import { SchemaAST } from "effect"
import { isDurationAst } from "./fields.ts"
import { aliases, type Alias } from "./aliases.ts"
import { normalizeKey } from "./policyError.ts"

/**
 * The node to walk for a field: what it decodes from when it transforms (a default, a union of
 * spellings), one link at a time so nested fields keep their own type (a delay stays a delay).
 */
export const shapeOf = (ast: SchemaAST.AST): SchemaAST.AST => {
  let node = ast
  for (let i = 0; i < 8 && !isDurationAst(node) && node.encoding !== undefined && node.encoding.length > 0; i++) {
    node = node.encoding[node.encoding.length - 1]!.to
  }
  return node
}

export const members = (ast: SchemaAST.AST): Array<SchemaAST.AST> => {
  const shaped = shapeOf(ast)
  if (shaped._tag !== "Union") return [shaped]
  return shaped.types.flatMap(members)
}

export const objectsOf = (ast: SchemaAST.AST): Array<SchemaAST.Objects> =>
  members(ast).filter((m): m is SchemaAST.Objects => m._tag === "Objects")

export const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export const literalOf = (ast: SchemaAST.AST): unknown => (ast._tag === "Literal" ? ast.literal : undefined)

export interface FieldIndex {
  readonly byKey: Map<string, { readonly canonical: string; readonly alias: Alias | undefined }>
  readonly names: Array<string>
  readonly types: Map<string, SchemaAST.AST>
}

const indexCache = new WeakMap<SchemaAST.Objects, FieldIndex>()

export const indexOf = (ast: SchemaAST.Objects): FieldIndex => {
  const cached = indexCache.get(ast)
  if (cached !== undefined) return cached
  const byKey = new Map<string, { canonical: string; alias: Alias | undefined }>()
  const names: Array<string> = []
  const types = new Map<string, SchemaAST.AST>()
  for (const property of ast.propertySignatures) {
    const name = String(property.name)
    names.push(name)
    types.set(name, property.type)
    byKey.set(normalizeKey(name), { canonical: name, alias: undefined })
  }
  for (const name of [...names]) {
    for (const alias of aliases[name] ?? []) {
      for (const spelling of alias.names) {
        const key = normalizeKey(spelling)
        // A struct's own field wins over another field's alias of the same spelling.
        if (!byKey.has(key)) byKey.set(key, { canonical: name, alias })
        names.push(spelling)
      }
    }
  }
  const index = { byKey, names, types }
  indexCache.set(ast, index)
  return index
}

/** Picks the object member of a union a value is meant for: by a literal discriminator, else by its keys. */
export const chooseObjects = (candidates: ReadonlyArray<SchemaAST.Objects>, value: Record<string, unknown>): SchemaAST.Objects | undefined => {
  if (candidates.length <= 1) return candidates[0]
  for (const candidate of candidates) {
    for (const property of candidate.propertySignatures) {
      const literal = literalOf(property.type)
      if (literal !== undefined && value[String(property.name)] === literal) return candidate
    }
  }
  const keys = Object.keys(value).map(normalizeKey)
  const fitting = candidates.filter((candidate) => keys.every((key) => indexOf(candidate).byKey.has(key)))
  return fitting.length === 1 ? fitting[0] : undefined
}

