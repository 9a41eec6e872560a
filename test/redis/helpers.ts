// Shared pieces of the Redis tests: the Redis layer for the shared test server (provided by the
// global setup) and a unique key prefix per test, so tests never see each other's keys.
import { NodeRedis } from "@effect/platform-node"
import { inject } from "vitest"

/** The `Redis` layer over the shared test server; commands fail at once while disconnected. */
export const redisLayer = (port: number = inject("redisPort")) =>
  NodeRedis.layer({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: true })

let counter = 0
/** A key prefix no other test uses. */
export const uniquePrefix = (what: string): string => `test:${what}:${process.pid}:${Date.now()}:${counter++}:`
