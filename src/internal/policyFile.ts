/**
 * Reading a policy file: JSON or YAML (by extension; anything else is tried as JSON, then YAML).
 * Every failure — missing file, unreadable file, bad syntax, nesting too deep for the parser — is
 * one `PolicyError` with a one-line message naming the file. Shared by `Resilience.layerFile` and
 * the CLI so both report the same errors.
 *
 * @internal
 */
import { Effect } from "effect"
import { parse as parseYaml } from "yaml"
import { PolicyError } from "./policyError.ts"

const fail = (message: string) => new PolicyError({ issues: [{ path: [], message }] })

const firstLine = (error: unknown): string => {
  try {
    const text = error instanceof Error ? error.message : String(error)
    return text.split("\n")[0]!.slice(0, 200)
  } catch {
    return "unknown error"
  }
}

const parseJson = (path: string, text: string): unknown | PolicyError => {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    return fail(`${path} is not valid JSON: ${firstLine(error)}`)
  }
}

const parseYamlText = (path: string, text: string): unknown | PolicyError => {
  try {
    // One document; merge keys and custom tags are not needed for policies.
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: true }) as unknown
  } catch (error) {
    return fail(`${path} is not valid YAML: ${firstLine(error)}`)
  }
}

/** Parses the text of a policy file named `path`. */
export const parsePolicyText = (path: string, text: string): unknown | PolicyError => {
  if (/\.ya?ml$/i.test(path)) return parseYamlText(path, text)
  if (/\.json$/i.test(path)) return parseJson(path, text)
  const json = parseJson(path, text)
  if (!(json instanceof PolicyError)) return json
  const yaml = parseYamlText(path, text)
  return yaml instanceof PolicyError ? fail(`${path} is neither valid JSON nor valid YAML`) : yaml
}

/** Reads and parses a policy file. */
export const readPolicyFile = (path: string): Effect.Effect<unknown, PolicyError> =>
  Effect.tryPromise({
    try: () => import("node:fs/promises").then((fs) => fs.readFile(path, "utf8")),
    catch: (error) => {
      const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined
      return fail(code === "ENOENT" ? `Cannot read ${path}: no such file` : `Cannot read ${path}: ${firstLine(error)}`)
    }
  }).pipe(Effect.flatMap((text) => {
    const parsed = parsePolicyText(path, text)
    return parsed instanceof PolicyError ? Effect.fail(parsed) : Effect.succeed(parsed)
  }))
