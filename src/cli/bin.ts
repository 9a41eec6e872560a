#!/usr/bin/env node
/**
 * Entry point of the `effect-resilience` binary: runs the CLI with Node's services.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { main } from "./main.ts"

main.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
