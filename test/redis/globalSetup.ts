// Vitest global setup: one real redis-server on a free loopback port for every Redis test,
// installed first when missing (see server.ts). The port and the binary's path are provided to the
// tests (`inject("redisPort")`, `inject("redisBin")`); the server is killed at teardown.
import type { TestProject } from "vitest/node"
import { findOrInstallRedis, freePort, startServer } from "./server.ts"

declare module "vitest" {
  export interface ProvidedContext {
    redisPort: number
    redisBin: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = findOrInstallRedis()
  const server = await startServer({ bin, port: await freePort() })
  project.provide("redisPort", server.port)
  project.provide("redisBin", bin)
  return () => server.stop()
}
