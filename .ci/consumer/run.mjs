// The consumer test: installs the packed package into a new app the way a user would, next to the
// newest effect 4.x the registry serves, and checks what a user gets there: one copy of Effect,
// no engine warnings, nothing for Redis, a program that type-checks against the published types
// and runs, internals that cannot be imported, and a working `effect-resilience` binary.
//
// Plain JavaScript on purpose: it runs on the machine's own Node (a user's Node), not on the
// project's Node 24. Prints one line per check and "consumer: N passed, M failed"; writes the
// counts to the file named by its first argument (for .ci/totals.mjs); exits non-zero on a failure.
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, "../..")
const reportPath = process.argv[2]
const started = Date.now()
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))

// Under `npm run`, `node` is the project's Node 24 (node_modules/.bin comes first on PATH); the
// Node that runs npm itself is the machine's. A user's app sees neither node_modules/.bin.
const userNode = process.env.npm_node_execpath || process.execPath
const projectBin = join(root, "node_modules", ".bin")
const registryNode = join(root, "node_modules", "node", "bin", "node")
const cleanPath = (process.env.PATH ?? "").split(delimiter).filter((p) => !p.startsWith(join(root, "node_modules")))
const envFor = (node) => {
  const env = { ...process.env, PATH: [dirname(node), ...cleanPath].join(delimiter) }
  for (const key of Object.keys(env)) if (key.startsWith("npm_")) delete env[key]
  return env
}
const npmCli = process.env.npm_execpath && process.env.npm_execpath.endsWith(".js") ? process.env.npm_execpath : undefined

/** Runs a command; returns its status and combined output (never throws). */
const run = (node, command, args, cwd, { timeout = 60_000 } = {}) => {
  const [file, argv] = command === "npm" && npmCli ? [node, [npmCli, ...args]] : [command, args]
  const result = spawnSync(file, argv, { cwd, env: envFor(node), encoding: "utf8", timeout })
  return { status: result.status, stdout: result.stdout ?? "", out: `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}` }
}

let passed = 0
let failed = 0
const check = (name, ok, detail = "") => {
  if (ok) passed++
  else failed++
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${!ok && detail ? `\n${detail.trim().split("\n").map((l) => `       ${l}`).join("\n")}` : ""}`)
  return ok
}

/** The version a `>=a.b` engines range starts at, compared with a Node version. */
const satisfiesFloor = (version, range) => {
  const floor = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim())
  if (!floor) return false
  const have = version.replace(/^v/, "").split(".").map(Number)
  const want = floor.slice(1).map((n) => Number(n ?? 0))
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i]
  return true
}

const finish = () => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`consumer: ${passed} passed, ${failed} failed (${seconds} s)`)
  if (reportPath) writeFileSync(reportPath, JSON.stringify({ passed, failed, seconds: Number(seconds) }))
  process.exit(failed === 0 ? 0 : 1)
}

const app = mkdtempSync(join(tmpdir(), "effect-resilience-consumer-"))
process.on("exit", () => rmSync(app, { recursive: true, force: true }))
try {
  const nodeVersion = execFileSync(userNode, ["--version"], { encoding: "utf8" }).trim()
  // The machine's Node when the package supports it, otherwise the registry's `node` package.
  const node = satisfiesFloor(nodeVersion, pkg.engines.node) ? userNode : registryNode
  console.log(`consumer app in ${app}, on Node ${execFileSync(node, ["--version"], { encoding: "utf8" }).trim()}`)

  const view = run(node, "npm", ["view", "effect@^4", "version", "--json"], root)
  const versions = [view.stdout.trim()].flatMap((text) => {
    try {
      return [JSON.parse(text)].flat()
    } catch {
      return []
    }
  })
  const effectVersion = versions.at(-1)
  if (!check(`the registry serves effect 4.x (newest: ${effectVersion})`, typeof effectVersion === "string", view.out)) finish()

  const pack = run(node, "npm", ["pack", "--json", "--pack-destination", app], root, { timeout: 120_000 })
  const packed = pack.status === 0 ? JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[")))[0] : undefined
  if (!check("npm pack builds and packs the package", packed !== undefined, pack.out)) finish()
  const files = packed.files.map((f) => f.path)
  check(
    "the tarball holds dist/ (JS and declarations), README, CHANGELOG and LICENSE, and no tests",
    ["dist/index.js", "dist/index.d.ts", "dist/redis/index.d.ts", "dist/http/index.d.ts", "dist/cli/bin.js", "README.md", "CHANGELOG.md", "LICENSE"].every((f) => files.includes(f)) &&
      !files.some((f) => f.startsWith("test/") || f.startsWith(".ci/")),
    files.join("\n")
  )

  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer-app", private: true, type: "module" }, null, 2))
  for (const file of ["app.ts", "not-exported.ts", "tsconfig.json"]) copyFileSync(join(here, file), join(app, file))
  // The README's first example, as a user would paste it.
  const readme = readFileSync(join(root, "README.md"), "utf8")
  writeFileSync(join(app, "readme.ts"), `${/```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? ""}\nexport {}\n`)

  const install = run(node, "npm", ["install", "--no-audit", "--no-fund", join(app, packed.filename), `effect@${effectVersion}`], app)
  check(`npm install <tarball> effect@${effectVersion} succeeds`, install.status === 0, install.out)
  check("the install prints no engine warnings", !/EBADENGINE/.test(install.out), install.out)
  const installed = readdirSync(join(app, "node_modules")).flatMap((d) =>
    d.startsWith("@") ? readdirSync(join(app, "node_modules", d)).map((n) => `${d}/${n}`) : [d]
  ).filter((d) => !d.startsWith("."))
  check(
    "the app gets effect, effect-resilience and its one dependency (yaml) only: no Redis client, no @effect/platform-node",
    installed.sort().join(" ") === "effect effect-resilience yaml",
    installed.join("\n")
  )

  const ls = run(node, "npm", ["ls", "effect", "--all", "--parseable"], app)
  const copies = new Set(ls.out.split("\n").filter((l) => l.endsWith(`${join("node_modules", "effect")}`)))
  const installedVersion = existsSync(join(app, "node_modules/effect/package.json"))
    ? JSON.parse(readFileSync(join(app, "node_modules/effect/package.json"), "utf8")).version
    : undefined
  check(`npm ls effect shows one copy, ${effectVersion}`, ls.status === 0 && copies.size === 1 && installedVersion === effectVersion, ls.out)

  const tsc = run(node, join(projectBin, "tsc"), ["-p", "tsconfig.json"], app)
  check("app.ts and the README example type-check against the published types (and emit)", tsc.status === 0, tsc.out)

  const program = run(node, node, ["out/app.js"], app)
  const expected = { retried: "ok", calls: 3, delays: [1, 2, 4], guarded: "local circuit", bad: "PolicyError", kind: "Transient", piped: "piped", timeLeftHeader: "x-time-left-ms" }
  const lastLine = program.stdout.trim().split("\n").at(-1) ?? ""
  check("the program runs: retry, backoff, a Redis-backed breaker failing open, a policy layer, the http subpath", lastLine === JSON.stringify(expected), program.out)

  for (const specifier of ["effect-resilience/internal/strict", "effect-resilience/internal/strict.js", "effect-resilience/cli/bin", "effect-resilience/index"]) {
    const probe = run(node, node, ["--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`], app)
    check(`${specifier} cannot be imported`, probe.status !== 0 && probe.out.includes("ERR_PACKAGE_PATH_NOT_EXPORTED"), probe.out)
  }

  const bin = join(app, "node_modules", ".bin", "effect-resilience")
  const bare = run(node, bin, ["explain", "http"], app)
  check(
    "without @effect/platform-node the binary says what to install",
    bare.status === 1 && bare.out.includes("npm install @effect/platform-node"),
    bare.out
  )

  // @effect/platform-node declares Node >= 22.19: the binary runs on the registry's Node then.
  const platformNodeRange = JSON.parse(readFileSync(join(root, "node_modules/@effect/platform-node/package.json"), "utf8")).engines?.node ?? ">=0"
  const cliNode = satisfiesFloor(nodeVersion, platformNodeRange) ? node : registryNode
  const addPlatform = run(cliNode, "npm", ["install", "--no-audit", "--no-fund", "@effect/platform-node@^4"], app)
  check("npm install @effect/platform-node succeeds without engine warnings", addPlatform.status === 0 && !/EBADENGINE/.test(addPlatform.out), addPlatform.out)
  const explain = run(cliNode, bin, ["explain", "http"], app)
  check(
    "the installed binary explains a preset",
    explain.status === 0 && explain.out.includes("Policy: http") && explain.out.includes("Worst-case total time"),
    explain.out
  )
  // The Redis connection whose close cannot hang needs @effect/platform-node (and a redis client
  // to connect, which only building the layer does): importing it must work once platform-node is in.
  const connection = run(cliNode, cliNode, ["--input-type=module", "-e", "const m = await import('effect-resilience/redis/NodeConnection'); console.log(typeof m.layer)"], app)
  check("effect-resilience/redis/NodeConnection loads with @effect/platform-node", connection.status === 0 && connection.stdout.trim() === "function", connection.out)
  const ls2 = run(cliNode, "npm", ["ls", "effect", "--all", "--parseable"], app)
  check("still one copy of effect with @effect/platform-node", new Set(ls2.out.split("\n").filter((l) => l.endsWith(join("node_modules", "effect")))).size === 1, ls2.out)
} catch (error) {
  check("the consumer test ran to the end", false, error instanceof Error ? error.stack ?? error.message : String(error))
}
finish()
