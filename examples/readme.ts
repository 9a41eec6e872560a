// The README's example, type-checked by `npm run typecheck`.
import { Effect } from "effect"
import { Policy, Retry } from "effect-resilience"

const fetchCompletion = (prompt: string) =>
  Effect.tryPromise({
    try: (signal) => fetch("https://llm.example/v1/complete", { method: "POST", body: prompt, signal }),
    catch: (error) => error // network errors: classified by their undici code
  }).pipe(
    Effect.flatMap((res) => res.ok ? Effect.promise(() => res.json()) : Effect.fail(res)), // statuses + Retry-After
    Retry.retry({ ...Policy.presets.llm.retry, name: "llm-complete" })
  )

export const program = fetchCompletion("hello").pipe(
  Effect.catchTag("Permanent", (e) => Effect.logError(`not retried (${e.kind})`, e.message)),
  Effect.catchTag("RetriesExhausted", (e) => Effect.logError(`gave up after ${e.attempts} attempts`))
)
