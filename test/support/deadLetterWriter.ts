// A dead-letter writer run as its own OS process by test/DeadLetterFile.test.ts. Its one argument
// is a JSON `Job`; it prints one line per event on stdout:
//   "ack <operation>"   after publish of that letter succeeded (the letter is acknowledged)
//   "fail <operation> <code>" after publish failed
//   "huge"              just before publishing the huge letter (mode "huge")
//   "torn"              after leaving a torn record while holding the lock (mode "tear"), then it SIGKILLs itself
//   "done <failed>"     at the end, with the store's `failed` count
// With `stopFile`, it publishes one letter after another until that file exists (`count` ignored).
import { Effect } from "effect"
import * as fs from "node:fs"
import { DeadLetter } from "../../src/index.ts"
import * as AppendLog from "../../src/internal/appendLog.ts"
import { makeLetter } from "./letters.ts"

interface Job {
  readonly path: string
  readonly writer: string
  readonly count: number
  readonly bytes: number
  readonly concurrency: number
  readonly mode?: "burst" | "huge" | "tear"
  readonly hugeBytes?: number
  readonly stopFile?: string
}

const job = JSON.parse(process.argv[2]!) as Job
const say = (line: string) => fs.writeSync(1, `${line}\n`)

if (job.mode === "tear") {
  // Dies the worst way a writer can: holding the lock, with half a record on the file.
  await AppendLog.acquireLock(job.path, AppendLog.defaultLockOptions)
  const record = AppendLog.frame(JSON.stringify(makeLetter(job.writer, 0, job.bytes)))
  fs.appendFileSync(job.path, record.subarray(0, Math.floor(record.length / 2)))
  say("torn")
  process.kill(process.pid, "SIGKILL")
}

const program = Effect.gen(function*() {
  const deadLetters = yield* DeadLetter.DeadLetters
  const publish = (seq: number) => {
    const letter = makeLetter(job.writer, seq, job.bytes)
    return deadLetters.publish(letter).pipe(
      Effect.matchEffect({
        onSuccess: () => Effect.sync(() => say(`ack ${letter.operation}`)),
        onFailure: (error) =>
          Effect.sync(() => say(`fail ${letter.operation} ${(error.cause as { code?: string }).code ?? String(error.cause)}`))
      })
    )
  }
  const stopFile = job.stopFile
  if (stopFile !== undefined) {
    for (let seq = 0; !fs.existsSync(stopFile); seq++) yield* publish(seq)
  } else {
    yield* Effect.forEach(Array.from({ length: job.count }, (_, i) => i), publish, { concurrency: job.concurrency, discard: true })
  }
  if (job.mode === "huge") {
    say("huge")
    yield* Effect.ignore(deadLetters.publish(makeLetter(job.writer, job.count, job.hugeBytes ?? 32 * 1024 * 1024)))
  }
  say(`done ${yield* deadLetters.failed}`)
}).pipe(Effect.provide(DeadLetter.layerFile({ path: job.path, maxLetterBytes: 256 * 1024 * 1024 })))

await Effect.runPromise(program)
