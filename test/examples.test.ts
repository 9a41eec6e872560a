// Every ```ts example in the JSDoc of src/ is type-checked against the library's sources: an
// example that no longer compiles fails here, with its file and line. (README.md and docs/*.md are
// checked block by block in test/docs.test.ts.)
import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { spawnSync } from "node:child_process"

interface Example {
  readonly origin: string
  readonly code: string
}

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

/** ```ts blocks of JSDoc comments (each line starts with ` * `). */
const jsdocExamples = (file: string): Array<Example> => {
  const lines = readFileSync(file, "utf8").split("\n")
  const out: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\* ```ts\s*$/.test(lines[i]!)) continue
    const start = i + 1
    const body: Array<string> = []
    for (i = start; i < lines.length && !/^\s*\* ```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.replace(/^\s*\* ?/, ""))
    out.push({ origin: `${file}:${start}`, code: body.join("\n") })
  }
  return out
}

/** Type-checks the examples as modules of one project; the compiler errors that name them. */
const check = (examples: ReadonlyArray<Example>, label: string): Array<string> => {
  // Inside node_modules so that "effect" and the other packages resolve as they do for users.
  const dir = resolve("node_modules", ".examples", label)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const files = examples.map((example, i) => {
    const file = join(dir, `example${i}.mts`)
    writeFileSync(file, `${example.code}\nexport {}\n`)
    return file
  })
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      lib: ["ES2022", "DOM", "ESNext.Disposable"],
      types: ["node"],
      strict: true,
      exactOptionalPropertyTypes: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      noEmit: true,
      paths: {
        "effect-resilience": [resolve("src/index.ts")],
        "effect-resilience/redis": [resolve("src/redis/index.ts")],
        "effect-resilience/http": [resolve("src/http/index.ts")],
        "effect-resilience/*": [resolve("src/*.ts")]
      }
    },
    files: files.map((f) => f.slice(dir.length + 1))
  }))
  const run = spawnSync(resolve("node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.json"), "--pretty", "false"], { encoding: "utf8" })
  const problems: Array<string> = []
  for (const line of `${run.stdout}${run.stderr}`.split("\n")) {
    const match = /example(\d+)\.mts\((\d+),\d+\): (.*)$/.exec(line)
    if (match === null) {
      // Errors outside the examples (in the library itself) fail the test too.
      if (/error TS/.test(line)) problems.push(line)
      continue
    }
    problems.push(`${examples[Number(match[1])]!.origin} (+${Number(match[2]) - 1}): ${match[3]}`)
  }
  rmSync(dir, { recursive: true, force: true })
  return problems
}

describe("examples type-check", () => {
  it("every ```ts example in the JSDoc of src/", () => {
    const examples = sourceFiles("src").flatMap(jsdocExamples)
    assert.isAbove(examples.length, 100)
    assert.deepStrictEqual(check(examples, "jsdoc"), [])
  }, 120_000)

})
