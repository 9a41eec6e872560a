#!/usr/bin/env node
/**
 * Entry point of the `effect-resilience` binary: runs the CLI with Node's services.
 *
 * Node's services come from `@effect/platform-node`, an optional peer dependency: the library
 * itself does not need it, so an app that only imports `effect-resilience` does not install it.
 * Without it the binary says what to install instead of failing with a resolution error.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { main } from "./main.ts"

const platformNode = "@effect/platform-node"

const loadPlatform = async (): Promise<typeof import("@effect/platform-node") | undefined> => {
  try {
    return await import("@effect/platform-node")
  } catch (error) {
    // Only a missing package is the user's to fix; anything else is a real failure and is rethrown.
    const code = (error as { readonly code?: unknown } | null)?.code
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String(error).includes(platformNode)) {
      return undefined
    }
    throw error
  }
}

const platform = await loadPlatform()
if (platform === undefined) {
  process.stderr.write(
    `effect-resilience: the command line needs ${platformNode} (Node.js >= 22.19), an optional peer dependency.\n` +
      `Install it next to effect-resilience:  npm install ${platformNode}\n`
  )
  process.exitCode = 1
} else {
  main.pipe(Effect.provide(platform.NodeServices.layer), platform.NodeRuntime.runMain)
}
