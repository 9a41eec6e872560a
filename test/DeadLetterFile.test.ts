// Adversarial tests of the dead-letter file: big letters from concurrent publishers in one process
// and in several OS processes, writers killed mid-write, torn and corrupted records, files the
// store cannot write, and error values that fight back. Every wait is on an acknowledgement, a
// process's output or its exit, never on elapsed time.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Logger, Metric, References } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { DeadLetter, Failure, Resilience, Telemetry } from "../src/index.ts"
import * as AppendLog from "../src/internal/appendLog.ts"
import { letterFor } from "../src/internal/letters.ts"
import { isIntact, makeLetter } from "./support/letters.ts"
import { NOBODY, startWriter } from "./support/processes.ts"

const MiB = 1024 * 1024
const SLOW = 120_000

const dirs: Array<string> = []
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dead-letters-file-"))
  fs.chmodSync(dir, 0o777) // writable by the unprivileged writer processes too
  dirs.push(dir)
  return dir
}

afterAll(() => {
  for (const dir of dirs) {
    fs.chmodSync(dir, 0o777)
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

const read = (file: string) => Effect.runPromise(DeadLetter.readFile(file))

/** The operations read back, checking that each letter is exactly what its writer wrote. */
const readIntact = async (file: string) => {
  const { letters, skipped } = await read(file)
  const corrupted = letters.filter((l) => !isIntact(l)).map((l) => l.operation)
  return { operations: letters.map((l) => l.operation), corrupted, skipped }
}

const publishAll = (letters: ReadonlyArray<DeadLetter.Letter>) =>
  Effect.flatMap(DeadLetter.DeadLetters, (d) => Effect.forEach(letters, d.publish, { concurrency: "unbounded", discard: true }))

const captureLogs = () => {
  const lines: Array<{ level: string; message: string; annotations: Record<string, unknown> }> = []
  const logger = Logger.make((o) => {
    lines.push({
      level: o.logLevel,
      message: Array.isArray(o.message) ? o.message.map(String).join(" ") : String(o.message),
      annotations: { ...o.fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return { lines, layer: Logger.layer([logger]) }
}

const failedCount = (operation: string) =>
  Effect.map(
    Metric.value(Metric.withAttributes(Telemetry.metrics.deadLettersFailed, { operation })),
    (state) => state.count
  )

describe("dead-letter file: concurrent writers in one process", () => {
  it.effect("20 concurrent publishers of 1 MiB+ letters, through two layers on one file: all stored intact", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      const letters = Array.from({ length: 20 }, (_, i) => makeLetter(i % 2 === 0 ? "even" : "odd", i, MiB + 1000 * i))
      yield* Effect.all([
        publishAll(letters.filter((_, i) => i % 2 === 0)).pipe(Effect.provide(DeadLetter.layerFile({ path: file }))),
        publishAll(letters.filter((_, i) => i % 2 === 1)).pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
      ], { concurrency: "unbounded" })
      const back = yield* Effect.promise(() => readIntact(file))
      assert.deepStrictEqual(back.corrupted, [])
      assert.strictEqual(back.skipped, 0)
      assert.deepStrictEqual([...back.operations].sort(), letters.map((l) => l.operation).sort())
      assert.isFalse(fs.existsSync(`${file}.lock`), "the lock is released")
    }), SLOW)

  it.effect("a torn tail appended by hand between two appends: the next letter is intact", () => {
    const file = path.join(tempDir(), "letters.jsonl")
    return Effect.gen(function*() {
      const deadLetters = yield* DeadLetter.DeadLetters
      yield* deadLetters.publish(makeLetter("w", 0, 100))
      const torn = AppendLog.frame(JSON.stringify(makeLetter("crashed", 0, 5000)))
      fs.appendFileSync(file, torn.subarray(0, 2000)) // another writer died here
      yield* deadLetters.publish(makeLetter("w", 1, 100))
      yield* deadLetters.publish(makeLetter("w", 2, 100))
      const back = yield* Effect.promise(() => readIntact(file))
      assert.deepStrictEqual(back, { operations: ["w-0", "w-1", "w-2"], corrupted: [], skipped: 1 })
    }).pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
  })
})

describe("dead-letter file: the reader", () => {
  it.effect("a record whose bytes changed is skipped, not read as a different letter", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      const good = AppendLog.frame(JSON.stringify(makeLetter("w", 0, 50)))
      const changed = Buffer.from(AppendLog.frame(JSON.stringify(makeLetter("w", 1, 50))))
      const at = changed.lastIndexOf(Buffer.from("w:1;"))
      changed[at + 2] = "7".charCodeAt(0) // still valid JSON, still a letter, but not what was written
      fs.writeFileSync(file, Buffer.concat([good, changed]))
      const { letters, skipped } = yield* DeadLetter.readFile(file)
      assert.deepStrictEqual(letters.map((l) => l.operation), ["w-0"])
      assert.strictEqual(skipped, 1)
    }))

  it.effect("interleaved records are skipped and counted; the records around them are read", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      const [a, b, c, d] = [0, 1, 2, 3].map((i) => AppendLog.frame(JSON.stringify(makeLetter("w", i, 300))))
      const half = Math.floor(b!.length / 2)
      // b was split by c: "a | b(first half) c | b(second half) | d"
      fs.writeFileSync(file, Buffer.concat([a!, b!.subarray(0, half), c!, b!.subarray(half), d!]))
      const { letters, skipped } = yield* DeadLetter.readFile(file)
      assert.deepStrictEqual(letters.map((l) => l.operation), ["w-0", "w-3"])
      assert.strictEqual(skipped, 2)
    }))

  it.effect("plain JSON lines written by earlier versions are still read", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      fs.writeFileSync(file, `${JSON.stringify(makeLetter("old", 0, 10))}\n`)
      const deadLetters = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
      yield* deadLetters.publish(makeLetter("new", 0, 10))
      assert.deepStrictEqual((yield* deadLetters.list).map((l) => l.operation), ["old-0", "new-0"])
    }))
})

describe("dead-letter file: the lock between processes", () => {
  const lockOf = (file: string, owner: { pid: number; host: string; token: string }, ageMs: number) => {
    fs.writeFileSync(`${file}.lock`, JSON.stringify(owner))
    const at = (Date.now() - ageMs) / 1000
    fs.utimesSync(`${file}.lock`, at, at)
  }
  const options = { staleLockMs: 10_000, lockTimeoutMs: 200, fsync: true, maxBatchBytes: MiB }
  const record = AppendLog.frame(JSON.stringify(makeLetter("w", 0, 10)))

  it("a fresh lock of a process on another host is respected: the batch waits, then fails, the file is untouched", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    lockOf(file, { pid: 1, host: "elsewhere", token: "t" }, 0)
    const error = await AppendLog.appendBatch(file, record, options).then(() => undefined, (e: Error) => e)
    assert.include(error?.message, "timed out")
    assert.isFalse(fs.existsSync(file))
    assert.strictEqual(JSON.parse(fs.readFileSync(`${file}.lock`, "utf8")).token, "t", "another's lock is left alone")
  })

  it("a lock older than staleLockMs is taken over; a lock of a dead process on this host at once", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    lockOf(file, { pid: 1, host: "elsewhere", token: "t" }, 60_000)
    await AppendLog.appendBatch(file, record, options)
    const dead = startWriter({ path: file, writer: "gone", count: 0, bytes: 10, concurrency: 1 })
    await dead.exit
    lockOf(file, { pid: dead.child.pid!, host: os.hostname(), token: "t" }, 0)
    await AppendLog.appendBatch(file, record, options)
    assert.strictEqual((await read(file)).letters.length, 2)
    assert.isFalse(fs.existsSync(`${file}.lock`))
  })
})

describe("dead-letter file: letters the store cannot take", () => {
  it.effect("a directory at the file's path: the caller keeps its error, the letter is logged, counted failed, not stored", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      fs.mkdirSync(file)
      const logs = captureLogs()
      const permanent = Failure.permanent(new Error("card declined"), { kind: "Client" })
      const before = yield* failedCount("payments.charge")
      const { error, failed } = yield* Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.fail(permanent).pipe(
          DeadLetter.onExhausted({ operation: "payments.charge", tags: { tenant: "t1" } })
        ))
        const failed = yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.failed)
        return { error, failed }
      }).pipe(Effect.provide([DeadLetter.layerFile({ path: file }), logs.layer]))
      assert.strictEqual(error, permanent)
      assert.strictEqual(failed, 1)
      assert.strictEqual((yield* failedCount("payments.charge")) - before, 1)
      assert.strictEqual(logs.lines.length, 1)
      const [line] = logs.lines
      assert.strictEqual(line!.level, "Error")
      assert.include(line!.message, "EISDIR")
      const summary = line!.annotations.letter as { operation: string; error: { message: string }; tags: Record<string, string> }
      assert.strictEqual(summary.operation, "payments.charge")
      assert.include(summary.error.message, "card declined")
      assert.deepStrictEqual(summary.tags, { tenant: "t1" })
      assert.deepStrictEqual(fs.readdirSync(file), [], "nothing was written into the directory")
    }))

  it.effect("a full disk (/dev/full behind the path): publish fails with ENOSPC and is counted as failed", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      fs.symlinkSync("/dev/full", file)
      const deadLetters = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
      const error = yield* Effect.flip(deadLetters.publish(makeLetter("w", 0, 10)))
      assert.strictEqual(error._tag, "DeadLetterError")
      assert.strictEqual((error.cause as { code?: string }).code, "ENOSPC")
      assert.strictEqual(yield* deadLetters.failed, 1)
    }))

  it.effect("a letter over maxLetterBytes fails and is counted; a bad bound fails the layer", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      const deadLetters = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerFile({ path: file, maxLetterBytes: 2000 })))
      const error = yield* Effect.flip(deadLetters.publish(makeLetter("w", 0, 5000)))
      assert.include(error.message, "maxLetterBytes")
      yield* deadLetters.publish(makeLetter("w", 1, 100))
      assert.strictEqual(yield* deadLetters.failed, 1)
      assert.deepStrictEqual((yield* deadLetters.list).map((l) => l.operation), ["w-1"])
      const bad = yield* Effect.flip(Effect.provide(DeadLetter.DeadLetters, DeadLetter.layerFile({ path: file, maxLetterBytes: 0 })))
      assert.strictEqual(bad._tag, "PolicyError")
    }))

  it.effect("a pipeline counts a refused letter as failed, never as a dead letter stored", () =>
    Effect.gen(function*() {
      const file = path.join(tempDir(), "letters.jsonl")
      fs.mkdirSync(file)
      const logs = captureLogs()
      const before = yield* failedCount("uploads")
      const stats = yield* Effect.gen(function*() {
        const pipeline = yield* Resilience.make({ name: "uploads", retry: false, deadLetters: true }, { log: false })
        yield* Effect.flip(pipeline.execute(Effect.fail(Failure.permanent("bad request", { kind: "Client" }))))
        return yield* pipeline.stats
      }).pipe(Effect.provide([DeadLetter.layerFile({ path: file }), logs.layer]))
      assert.strictEqual(stats.deadLetters, 0)
      assert.strictEqual((yield* failedCount("uploads")) - before, 1)
      assert.strictEqual(logs.lines.filter((l) => l.message.includes("Could not store a dead letter")).length, 1)
    }))
})

describe("dead-letter file: hostile error values", () => {
  const throwing = () => {
    throw new Error("getter says no")
  }
  const hostile: Record<string, unknown> = {
    "throwing getters": Object.defineProperties({}, {
      _tag: { get: () => "Permanent" },
      message: { get: throwing },
      kind: { get: throwing },
      error: { get: throwing }
    }),
    "a Proxy that throws on every trap": new Proxy({}, {
      get: throwing,
      has: throwing,
      getPrototypeOf: throwing,
      ownKeys: throwing,
      getOwnPropertyDescriptor: throwing
    }),
    "a cycle": (() => {
      const o: Record<string, unknown> = { code: "E_CYCLE" }
      o.self = o
      return o
    })(),
    "a 10 MB message": { _tag: "Permanent", message: "x".repeat(10 * MiB), kind: "Server", error: "big" },
    "a throwing toString": { toString: throwing, [Symbol.toPrimitive]: throwing }
  }

  for (const [name, value] of Object.entries(hostile)) {
    it.effect(`${name}: the letter is built, stored and read back`, () =>
      Effect.gen(function*() {
        const file = path.join(tempDir(), "letters.jsonl")
        const letter = letterFor(value, "op", {}, 1_000)
        assert.isAtMost(letter.error.message.length, 16 * 1024)
        const deadLetters = yield* DeadLetter.DeadLetters.pipe(Effect.provide(DeadLetter.layerFile({ path: file })))
        yield* deadLetters.publish(letter)
        const { letters, skipped } = yield* DeadLetter.readFile(file)
        assert.deepStrictEqual({ letters, skipped }, { letters: [letter], skipped: 0 })
      }))
  }

  it.effect("onExhausted keeps a hostile Permanent as the caller's error and stores its letter", () =>
    Effect.gen(function*() {
      const value = hostile["throwing getters"]
      const error = yield* Effect.flip(Effect.fail(value).pipe(DeadLetter.onExhausted({ operation: "op" })))
      assert.strictEqual(error, value)
      const proxy = hostile["a Proxy that throws on every trap"]
      assert.strictEqual(yield* Effect.flip(Effect.fail(proxy).pipe(DeadLetter.onExhausted({ operation: "op" }))), proxy)
      const letters = yield* Effect.flatMap(DeadLetter.DeadLetters, (d) => d.list)
      assert.deepStrictEqual(letters.map((l) => [l.operation, l.error._tag]), [["op", "Permanent"]])
    }).pipe(Effect.provide(DeadLetter.layerMemory())))
})

describe("dead-letter file: writers in several OS processes", () => {
  it("two processes, 16 letters of 1 MiB+ each, 8 at a time: none lost, none corrupted", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    const writers = ["p1", "p2"].map((writer) => startWriter({ path: file, writer, count: 16, bytes: MiB + 17, concurrency: 8 }))
    const exits = await Promise.all(writers.map((w) => w.exit))
    assert.deepStrictEqual(exits.map((e) => [e.code, e.stderr]), [[0, ""], [0, ""]])
    const acked = writers.flatMap((w) => w.acked())
    assert.strictEqual(acked.length, 32)
    const back = await readIntact(file)
    assert.deepStrictEqual(back.corrupted, [])
    assert.strictEqual(back.skipped, 0)
    assert.deepStrictEqual([...back.operations].sort(), [...acked].sort())
  }, SLOW)

  it("a writer killed while holding the lock with half a record written: the other process takes over and appends intact letters", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    const first = startWriter({ path: file, writer: "first", count: 3, bytes: 1000, concurrency: 1 })
    assert.strictEqual((await first.exit).code, 0)
    const dying = startWriter({ path: file, writer: "dying", count: 0, bytes: 100_000, concurrency: 1, mode: "tear" })
    await dying.waitFor((l) => l === "torn")
    assert.strictEqual((await dying.exit).signal, "SIGKILL")
    assert.isTrue(fs.existsSync(`${file}.lock`), "the dead writer left its lock behind")
    assert.notStrictEqual(fs.readFileSync(file).at(-1), 0x0a, "and a torn last record")

    const survivor = startWriter({ path: file, writer: "survivor", count: 10, bytes: 200_000, concurrency: 4 })
    assert.strictEqual((await survivor.exit).code, 0)
    const back = await readIntact(file)
    assert.deepStrictEqual(back.corrupted, [])
    assert.strictEqual(back.skipped, 1)
    assert.deepStrictEqual([...back.operations].sort(), [...first.acked(), ...survivor.acked()].sort())
    assert.strictEqual(survivor.acked().length, 10)
    assert.isFalse(fs.existsSync(`${file}.lock`))
  }, SLOW)

  it("a writer SIGKILLed while writing a 24 MiB letter: everything acknowledged is readable and the other process keeps appending", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    const stopFile = path.join(path.dirname(file), "stop")
    const steady = startWriter({ path: file, writer: "steady", count: 0, bytes: 16 * 1024, concurrency: 1, stopFile })
    await steady.waitFor((l) => l.startsWith("ack "))
    const victim = startWriter({ path: file, writer: "victim", count: 5, bytes: 64 * 1024, concurrency: 2, mode: "huge", hugeBytes: 24 * MiB })
    await victim.waitFor((l) => l === "huge")
    // Kill it once its huge record has started reaching the file (the steady writer's 16 KiB
    // letters cannot add 4 MiB), or as soon as it is done if it was quicker than this loop.
    const from = fs.statSync(file).size
    while (victim.child.exitCode === null && victim.child.signalCode === null && fs.statSync(file).size - from < 4 * MiB) {
      await new Promise((resolve) => setImmediate(resolve))
    }
    victim.child.kill("SIGKILL")
    await victim.exit
    // The steady writer must go on after the kill: wait for 20 more of its acknowledgements.
    const ackedAtKill = steady.acked().length
    await steady.waitFor(() => steady.acked().length >= ackedAtKill + 20)
    fs.writeFileSync(stopFile, "")
    assert.strictEqual((await steady.exit).code, 0)
    const back = await readIntact(file)
    assert.deepStrictEqual(back.corrupted, [])
    assert.isAtMost(back.skipped, 1) // the huge record, if the kill tore it
    const read = new Set(back.operations)
    assert.deepStrictEqual([...victim.acked(), ...steady.acked()].filter((op) => !read.has(op)), [])
    assert.strictEqual(victim.acked().length, 5)
    assert.isAtLeast(steady.acked().length, ackedAtKill + 20)
  }, SLOW)

  const asUser = process.getuid?.() === 0 ? { uid: NOBODY } : {}

  it("a read-only directory: every letter fails and is counted, no file appears", async () => {
    const dir = tempDir()
    fs.chmodSync(dir, 0o555)
    const file = path.join(dir, "letters.jsonl")
    const writer = startWriter({ path: file, writer: "ro", count: 3, bytes: 100, concurrency: 3 }, asUser)
    const exit = await writer.exit
    assert.strictEqual(exit.code, 0, exit.stderr)
    assert.deepStrictEqual(writer.acked(), [])
    assert.deepStrictEqual(writer.lines.filter((l) => l.startsWith("fail ")).map((l) => l.split(" ")[2]), ["EACCES", "EACCES", "EACCES"])
    assert.include(writer.lines, "done 3")
    assert.deepStrictEqual(fs.readdirSync(dir), [])
  }, SLOW)

  it("a read-only file: every letter fails and is counted, the file is unchanged", async () => {
    const file = path.join(tempDir(), "letters.jsonl")
    fs.writeFileSync(file, AppendLog.frame(JSON.stringify(makeLetter("kept", 0, 10))))
    fs.chmodSync(file, 0o444)
    const before = fs.readFileSync(file)
    const writer = startWriter({ path: file, writer: "ro", count: 3, bytes: 100, concurrency: 3 }, asUser)
    const exit = await writer.exit
    assert.strictEqual(exit.code, 0, exit.stderr)
    assert.deepStrictEqual(writer.acked(), [])
    assert.include(writer.lines, "done 3")
    assert.deepStrictEqual(fs.readFileSync(file), before)
    assert.isFalse(fs.existsSync(`${file}.lock`))
  }, SLOW)
})
