// A user's program, compiled and run against the installed tarball: it imports the package's
// entry point, a module subpath and the Redis subpath only through the published `exports`.
import { Console, Duration, Effect, Layer } from "effect"
import { Redis } from "effect/persistence"
import { CircuitBreaker, Failure, Policy, Resilience, Retry } from "effect-resilience"
import * as Backoff from "effect-resilience/Backoff"
import { Propagation } from "effect-resilience/http"
import { CircuitBreakerStore } from "effect-resilience/redis"

// A Redis that is down: every command fails, so the shared circuit falls back to this process's.
const unreachable = Effect.fail(new Redis.RedisError({ cause: new Error("ECONNREFUSED") }))
const RedisDown = Layer.succeed(Redis.Redis, Redis.Redis.of({
  send: () => unreachable,
  subscribe: () => Effect.die("not used"),
  eval: () => () => unreachable,
  reserve: unreachable
}))

let calls = 0
const flaky = Effect.suspend(() => ++calls < 3 ? Effect.fail({ status: 503 }) : Effect.succeed("ok"))

const program = Effect.gen(function*() {
  const policy = yield* Policy.decode({ maxAttempts: 4, initialDelay: "1 millis", jitter: "none" })
  const retried = yield* flaky.pipe(Retry.retry({ ...policy, name: "consumer" }))
  const delays = (yield* Backoff.delays(Backoff.fromPolicy(policy), 3)).map(Duration.toMillis)
  const breaker = yield* CircuitBreaker.make({ name: "consumer", log: false }).pipe(
    Effect.provide(CircuitBreakerStore.layer({ onStoreError: "allow", storeTimeout: "1 second" }))
  )
  const guarded = yield* breaker.execute(Effect.succeed("local circuit"))
  const bad = yield* Effect.flip(Policy.decode({ maxAttempts: -1 }))
  const kind = (yield* Effect.flip(Effect.fail({ status: 429 }).pipe(Failure.classify())))._tag
  const piped = yield* Effect.succeed("piped").pipe(Resilience.protect("http"))
  const timeLeftHeader = Propagation.defaultHeaders.timeLeft
  yield* Console.log(JSON.stringify({ retried, calls, delays, guarded, bad: bad._tag, kind, piped, timeLeftHeader }))
}).pipe(
  Effect.scoped,
  Effect.provide(RedisDown),
  Effect.provide(Resilience.layer({ http: Policy.presets.http }, { options: { http: { log: false } } }))
)

Effect.runPromise(program)
