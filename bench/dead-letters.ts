/**
 * Letters/s of the dead-letter file (`DeadLetter.layerFile`), with and without fsync, for one
 * publisher at a time and for 64 concurrent publishers (group commit: one write + one sync for
 * all letters waiting). Letters of about 1 KiB, in a fresh file under the OS temp directory.
 *
 *   node bench/dead-letters.ts            (2 s per case)
 *   node bench/dead-letters.ts --quick    (0.3 s per case)
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DeadLetter } from "../src/index.ts"

const seconds = process.argv.includes("--quick") ? 0.3 : 2
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dead-letters-bench-"))

const letter = (seq: number): DeadLetter.Letter => ({
  operation: "s3.upload",
  error: { _tag: "RetriesExhausted", message: "Gave up after 4 attempts: connection reset", kind: "Network", name: "Error" },
  attempts: 4,
  firstAttemptAt: 1_700_000_000_000 + seq,
  lastAttemptAt: 1_700_000_008_500 + seq,
  tags: { bucket: "reviews", request: String(seq), body: "x".repeat(800) }
})

const run = (fsync: boolean, concurrency: number) =>
  Effect.gen(function*() {
    const file = path.join(dir, `fsync-${fsync}-c${concurrency}.jsonl`)
    const deadLetters = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerFile({ path: file, fsync })))
    const until = performance.now() + seconds * 1000
    let published = 0
    yield* Effect.forEach(Array.from({ length: concurrency }), () =>
      Effect.whileLoop({
        while: () => performance.now() < until,
        body: () => deadLetters.publish(letter(published)),
        step: () => {
          published++
        }
      }), { concurrency, discard: true })
    const elapsed = seconds + (performance.now() - until) / 1000
    const { letters, skipped } = yield* DeadLetter.readFile(file)
    if (letters.length !== published || skipped !== 0) throw new Error(`read ${letters.length} of ${published}, skipped ${skipped}`)
    return { fsync, concurrency, perSecond: Math.round(published / elapsed) }
  })

const cases: Array<[boolean, number]> = [[true, 1], [true, 64], [false, 1], [false, 64]]
const results = []
for (const [fsync, concurrency] of cases) results.push(await Effect.runPromise(run(fsync, concurrency)))
console.log("| fsync | concurrent publishers | letters/s |\n|---|---|---|")
for (const r of results) console.log(`| ${r.fsync} | ${r.concurrency} | ${r.perSecond.toLocaleString("en")} |`)
console.log(`\n${process.version}, ${os.tmpdir()}, ~1 KiB letters, ${seconds} s per case`)
fs.rmSync(dir, { recursive: true })
