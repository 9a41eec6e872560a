// The import rules of src/ (docs/architecture.md, "Import rules"):
// 1. the import graph of src/ has no circle, type-only imports included: a circle of types is
//    still a circle a reader has to hold in mind, and it is how run-time circles start;
// 2. a module in src/internal/ imports no public module except for types (`import type`, or
//    `type` on every name), so the implementation never depends on the surface built on it.
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize, relative } from "node:path"

const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

interface Edge {
  readonly from: string
  readonly to: string
  readonly typeOnly: boolean
}

/** Relative imports and re-exports of a module, and whether each brings in types only. */
export const importsOf = (file: string, source: string): Array<Edge> => {
  const edges: Array<Edge> = []
  const pattern = /^(import|export)\s+(type\s+)?([^;"]*?)\s+from\s+"(\.[^"]+)"/gms
  for (const match of source.matchAll(pattern)) {
    const typeKeyword = match[2] !== undefined
    const clause = match[3]!.trim()
    const names = /^\{([\s\S]*)\}$/.exec(clause)?.[1]
    const allTypes = names !== undefined && names.split(",").map((n) => n.trim()).filter((n) => n !== "").every((n) => n.startsWith("type "))
    edges.push({ from: file, to: normalize(join(dirname(file), match[4]!)), typeOnly: typeKeyword || allTypes })
  }
  return edges
}

const graph = () => {
  const all = files("src")
  return new Map(all.map((file) => [file, importsOf(file, readFileSync(file, "utf8"))]))
}

/** Every circle in the graph, each as the list of modules along it. */
export const circles = (edges: ReadonlyMap<string, ReadonlyArray<Edge>>): Array<Array<string>> => {
  const found: Array<Array<string>> = []
  const state = new Map<string, "visiting" | "done">()
  const stack: Array<string> = []
  const visit = (node: string) => {
    state.set(node, "visiting")
    stack.push(node)
    for (const edge of edges.get(node) ?? []) {
      if (state.get(edge.to) === "visiting") found.push([...stack.slice(stack.indexOf(edge.to)), edge.to])
      else if (state.get(edge.to) === undefined && edges.has(edge.to)) visit(edge.to)
    }
    stack.pop()
    state.set(node, "done")
  }
  for (const node of edges.keys()) if (state.get(node) === undefined) visit(node)
  return found
}

const isInternal = (file: string) => relative("src", file).startsWith("internal")

describe("architecture of src/", () => {
  it("the import graph has no circle, type-only imports included", () => {
    const edges = graph()
    assert.isAbove(edges.size, 40)
    assert.deepStrictEqual(circles(edges).map((c) => c.join(" → ")), [])
  })

  it("src/internal/ imports no public module except for types", () => {
    const offending = [...graph().values()].flat()
      .filter((e) => isInternal(e.from) && !isInternal(e.to) && !e.typeOnly)
      .map((e) => `${e.from} → ${e.to}`)
    assert.deepStrictEqual(offending, [])
  })

  it("the checks see what they are meant to see", () => {
    // A value import, a type-only import, a mixed one and a re-export.
    const edges = importsOf("src/internal/x.ts", [
      `import { a, type B } from "../A.ts"`,
      `import type { C } from "../C.ts"`,
      `import { type D, type E } from "./d.ts"`,
      `export { f } from "../F.ts"`
    ].join("\n"))
    assert.deepStrictEqual(edges.map((e) => [e.to, e.typeOnly]), [
      ["src/A.ts", false],
      ["src/C.ts", true],
      ["src/internal/d.ts", true],
      ["src/F.ts", false]
    ])
    const loop = new Map([
      ["a", [{ from: "a", to: "b", typeOnly: false }]],
      ["b", [{ from: "b", to: "c", typeOnly: false }]],
      ["c", [{ from: "c", to: "a", typeOnly: false }]]
    ])
    assert.deepStrictEqual(circles(loop), [["a", "b", "c", "a"]])
    // A circle closed by a type import is a circle too.
    const typed = new Map([...loop, ["c", [{ from: "c", to: "a", typeOnly: true }]]])
    assert.deepStrictEqual(circles(typed), [["a", "b", "c", "a"]])
    const open = new Map([...loop, ["c", []]])
    assert.deepStrictEqual(circles(open), [])
  })
})
