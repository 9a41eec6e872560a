// Keeps the public surface documented: every export of a public module (src/*.ts) has a JSDoc
// block with @since and @category (src/redis/*.ts and src/http/*.ts too), and every exported value (const, class, function) also has an @example.
// Exports marked @internal are skipped: they are shared between modules, not public API.
//
// Keeps the guides' code true: every ```ts block of README.md and docs/*.md that is a complete
// example (it starts with an import) is type-checked against src/ with the project's compiler
// settings; `effect-resilience` resolves to src/ through tsconfig's paths, so no build is needed.
// Blocks that do not start with an import are shapes and signatures for reading, not programs.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"

const publicModules = [
  ...readdirSync("src").filter((f) => f.endsWith(".ts") && f !== "index.ts"),
  ...readdirSync(join("src", "redis")).filter((f) => f.endsWith(".ts") && f !== "index.ts").map((f) => join("redis", f)),
  ...readdirSync(join("src", "http")).filter((f) => f.endsWith(".ts") && f !== "index.ts").map((f) => join("http", f))
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
    it(`${file}: every export has JSDoc with @since and @category, values also an @example`, () => {
      const source = readFileSync(join("src", file), "utf8")
      assert.match(source, /^\/\*\*[\s\S]*?\*\//, "module header comment")
      const missing: Array<string> = []
      for (const e of exportsOf(source)) {
        // Exports marked @internal are shared between modules but are not part of the public API.
        if (e.doc.includes("@internal")) continue
        if (!e.doc.includes("@since")) missing.push(`${e.name}: no @since`)
        if (!e.doc.includes("@category")) missing.push(`${e.name}: no @category`)
        const isValue = e.kind === "const" || e.kind === "class" || e.kind === "function"
        if (isValue && !e.doc.includes("@example")) missing.push(`${e.name}: no @example`)
      }
      assert.deepStrictEqual(missing, [])
    })
  }
})

interface Example {
  readonly where: string
  readonly file: string
  readonly code: string
}

const examplesOf = (doc: string): Array<Example> => {
  const lines = readFileSync(doc, "utf8").split("\n")
  const found: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue
    const start = i + 1
    let end = start
    while (end < lines.length && lines[end]!.trim() !== "```") end++
    const code = lines.slice(start, end).join("\n")
    if (code.trimStart().startsWith("import ")) {
      found.push({ where: `${doc}:${start + 1}`, file: `${doc.replace(/[/.]/g, "_")}_${start + 1}.ts`, code })
    }
    i = end
  }
  return found
}

const docs = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => join("docs", f))]
const examples = docs.flatMap(examplesOf)

describe("code examples in README.md and docs/", () => {
  // One compiler run for all examples, in a directory inside the project so that `effect` and
  // the paths mapping resolve as they do for the project's own files.
  let dir = ""
  let output = ""
  beforeAll(() => {
    dir = mkdtempSync(resolve(".docs-examples-"))
    for (const e of examples) writeFileSync(join(dir, e.file), `${e.code}\nexport {}\n`)
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../tsconfig.json",
        // Examples declare values to show them, not to use them.
        compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
        include: ["*.ts"]
      })
    )
    const tsc = spawnSync(process.execPath, [resolve("node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
      encoding: "utf8",
      timeout: 120_000
    })
    output = `${tsc.stdout}${tsc.stderr}${tsc.error ? String(tsc.error) : ""}`
  }, 130_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("finds the README example and the guides' examples", () => {
    assert.isTrue(examples.some((e) => e.where.startsWith("README.md")))
    assert.isAbove(examples.length, 10)
  })

  for (const e of examples) {
    it(`${e.where} type-checks`, () => {
      const errors = output.split("\n").filter((line) => line.includes(e.file))
      assert.deepStrictEqual(errors, [])
      // A compiler that did not run (or failed for another reason) must not pass for clean.
      assert.notInclude(output, "error TS5")
    })
  }
})
