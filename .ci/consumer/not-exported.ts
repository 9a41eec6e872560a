// Type-checked, never run: the package's internals and command line are not part of its exports.
// @ts-expect-error internal modules are not exported
import type {} from "effect-resilience/internal/strict"
// @ts-expect-error the command line is not importable
import type {} from "effect-resilience/cli/main"

// @ts-expect-error subpaths are reached through their index only
import type {} from "effect-resilience/http/index"

export {}
