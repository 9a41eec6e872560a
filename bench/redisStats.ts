/**
 * What the Redis benchmarks read from the server: every command it counted since the last
 * `CONFIG RESETSTAT` (`INFO commandstats`, the commands scripts run included), and of those the
 * script calls; the counting commands themselves are left out.
 */
import { Effect } from "effect"
import { Redis } from "effect/persistence"

export const commands = Effect.gen(function*() {
  const info = yield* (yield* Redis.Redis).send<string>("INFO", "commandstats")
  let total = 0
  let evalsha = 0
  for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    if (m[1] === "info" || m[1] === "config|resetstat" || m[1] === "config") continue
    total += Number(m[2])
    if (m[1] === "evalsha" || m[1] === "eval") evalsha += Number(m[2])
  }
  return { total, evalsha }
})

export const resetStats = Effect.flatMap(Effect.service(Redis.Redis), (r) => r.send("CONFIG", "RESETSTAT"))
