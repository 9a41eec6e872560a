// Keeps the public surface documented: every export of a public module (src/*.ts) has a JSDoc
// block with @since (src/redis/*.ts too), and every exported value (const, class, function) also has an @example.
// Exports marked @internal are skipped: they are shared between modules, not public API.
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const publicModules = [
  ...readdirSync("src").filter((f) => f.endsWith(".ts") && f !== "index.ts"),
  ...readdirSync(join("src", "redis")).filter((f) => f.endsWith(".ts") && f !== "index.ts").map((f) => join("redis", f))
]

const exportsOf = (source: string) => {
  const found: Array<{ name: string; kind: string; doc: string }> = []
  const pattern = /^export (const|class|type|interface|function|declare const) (\w+)/gm
  for (const match of source.matchAll(pattern)) {
    const before = source.slice(0, match.index)
    const docEnd = before.trimEnd()
    const doc = docEnd.endsWith("*/") ? docEnd.slice(docEnd.lastIndexOf("/**")) : ""
    found.push({ name: match[2]!, kind: match[1]!, doc })
  }
  return found
}

describe("public API documentation", () => {
  for (const file of publicModules) {
    it(`${file}: every export has JSDoc with @since, values also an @example`, () => {
      const source = readFileSync(join("src", file), "utf8")
      assert.match(source, /^\/\*\*[\s\S]*?\*\//, "module header comment")
      const missing: Array<string> = []
      for (const e of exportsOf(source)) {
        // Exports marked @internal are shared between modules but are not part of the public API.
        if (e.doc.includes("@internal")) continue
        if (!e.doc.includes("@since")) missing.push(`${e.name}: no @since`)
        const isValue = e.kind === "const" || e.kind === "class" || e.kind === "function"
        if (isValue && !e.doc.includes("@example")) missing.push(`${e.name}: no @example`)
      }
      assert.deepStrictEqual(missing, [])
    })
  }
})
