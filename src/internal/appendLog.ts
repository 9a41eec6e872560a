/**
 * The mechanics of an append-only file of framed records shared by several writers, in one
 * process and across processes (the dead-letter file).
 *
 * Record: one line `{"crc32":"<8 hex>","bytes":<n>,"letter":<payload>}\n`, where `bytes` and the
 * CRC-32 cover exactly the payload's UTF-8 bytes. JSON never contains a raw newline, so a reader
 * resynchronises at every `\n`; a torn or interleaved record fails the length or CRC check and is
 * skipped, never mis-read. Lines are still JSON, so `jq .letter` works.
 *
 * Writing: every process keeps one queue per file (group commit): the letters waiting while a
 * batch is written go out together as one buffer, one `write` loop and one `fdatasync`. Across
 * processes a lock file (`<file>.lock`, created with O_EXCL, holding pid, host and a token)
 * serialises batches; a lock whose owner died on this host is taken over at once, a lock of
 * another host (or unreadable) once it is older than `staleLockMs`, one of a live process here
 * only after ten times that (its pid was reused). Under the lock the writer checks the file's last byte and
 * starts a fresh line when a crashed writer left a torn tail, and on a failed write truncates its
 * own partial bytes away. A batch is acknowledged only after `fdatasync` (and, for a file it
 * created, an fsync of the directory) returned.
 *
 * Promise-based on purpose: the lock wait uses real timers, independent of the caller's `Clock`.
 * Small metadata calls (lock, open, stat, last byte) are synchronous; writes and syncs are not.
 *
 * @internal
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as zlib from "node:zlib"

// ---------------------------------------------------------------------------------------------
// Framing

const crcTable = (() => {
  const table = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
})()

const jsCrc32 = (bytes: Uint8Array): number => {
  let crc = -1
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}

// zlib.crc32 is native from Node 20.15 / 22.2; older Nodes the package supports use the table.
const nativeCrc32 = (zlib as { readonly crc32?: (data: Uint8Array) => number }).crc32

/** CRC-32 (IEEE, as zlib and gzip compute it). */
export const crc32 = (bytes: Uint8Array): number => nativeCrc32 === undefined ? jsCrc32(bytes) : nativeCrc32(bytes)

const HEAD = "{\"crc32\":\""
const NEWLINE = 0x0a

/** One record, newline included, for a payload that is already JSON text. */
export const frame = (payloadJson: string): Buffer => {
  const payload = Buffer.from(payloadJson, "utf8")
  const head = `${HEAD}${crc32(payload).toString(16).padStart(8, "0")}","bytes":${payload.length},"letter":`
  return Buffer.concat([Buffer.from(head, "latin1"), payload, Buffer.from("}\n", "latin1")])
}

const FRAMED = /^\{"crc32":"([0-9a-f]{8})","bytes":(\d{1,12}),"letter":/

/**
 * The payload of one line (without its `\n`): `{ payload }` for an intact framed record,
 * `{ legacy }` for a line written before records were framed (a bare JSON value), `undefined`
 * for a torn, interleaved or corrupted record.
 */
export const unframe = (line: Buffer): { readonly payload: string } | { readonly legacy: string } | undefined => {
  const start = line.subarray(0, 48).toString("latin1")
  const match = FRAMED.exec(start)
  if (match === null) return start.startsWith(HEAD) ? undefined : { legacy: line.toString("utf8") }
  const bytes = Number(match[2])
  const from = match[0].length
  if (line.length !== from + bytes + 1 || line[line.length - 1] !== 0x7d) return undefined
  const payload = line.subarray(from, from + bytes)
  if (crc32(payload) !== parseInt(match[1]!, 16)) return undefined
  return { payload: payload.toString("utf8") }
}

/** Splits a file's bytes into lines, dropping blank ones. */
export const lines = (bytes: Buffer): Array<Buffer> => {
  const found: Array<Buffer> = []
  let from = 0
  while (from < bytes.length) {
    let to = bytes.indexOf(NEWLINE, from)
    if (to === -1) to = bytes.length
    const line = bytes.subarray(from, to)
    if (line.some((b) => b !== 0x20 && b !== 0x09 && b !== 0x0d)) found.push(line)
    from = to + 1
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// Cross-process lock

/** Tuning of the lock; the defaults suit production, tests shorten them. */
export interface LockOptions {
  /** A lock older than this is stale even when its owner cannot be checked (another host). */
  readonly staleLockMs: number
  /** How long a batch waits for the lock before it fails. */
  readonly lockTimeoutMs: number
}

export const defaultLockOptions: LockOptions = { staleLockMs: 10_000, lockTimeoutMs: 30_000 }

interface LockOwner {
  readonly pid: number
  readonly host: string
  readonly token: string
}

const hostname = os.hostname()

const errnoOf = (error: unknown): string | undefined => {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined
  return typeof code === "string" ? code : undefined
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// The lock's steps are small metadata calls done synchronously: a few microseconds each, where a
// round trip through the thread pool costs far more on a busy machine and would dominate a batch.

const readOwner = (lockPath: string): LockOwner | undefined => {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(lockPath, "utf8"))
    const o = parsed as Partial<LockOwner>
    return typeof o.pid === "number" && typeof o.host === "string" && typeof o.token === "string"
      ? { pid: o.pid, host: o.host, token: o.token }
      : undefined
  } catch {
    return undefined // missing, or half-written by an owner that died between create and write
  }
}

/** Whether a process on this host is gone (a zombie counts as gone: it will never release). */
const isDead = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return errnoOf(error) === "ESRCH"
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")
  } catch {
    return false
  }
}

const isStale = (lockPath: string, owner: LockOwner | undefined, options: LockOptions): boolean => {
  let maxAge = options.staleLockMs
  if (owner !== undefined && owner.host === hostname && owner.pid !== process.pid) {
    if (isDead(owner.pid)) return true
    // Alive here: a slow write, not a stale lock; only a reused pid holds it this long.
    maxAge *= 10
  }
  try {
    return Date.now() - fs.statSync(lockPath).mtimeMs > maxAge
  } catch {
    return false // gone already: the next attempt creates it
  }
}

/**
 * Removes a stale lock. Renaming first makes the removal atomic: of several processes that judged
 * the same lock stale, one moves it; the others find nothing to move. If what was moved is not the
 * lock judged stale (it was replaced meanwhile), it is put back.
 */
const breakLock = (lockPath: string, stale: LockOwner | undefined): void => {
  const aside = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}.stale`
  try {
    fs.renameSync(lockPath, aside)
  } catch {
    return
  }
  const moved = readOwner(aside)
  if (stale !== undefined && moved !== undefined && moved.token !== stale.token) ignoring(() => fs.linkSync(aside, lockPath))
  ignoring(() => fs.unlinkSync(aside))
}

const ignoring = (f: () => void): void => {
  try {
    f()
  } catch {
    // best effort
  }
}

/** Errors that mean "no lock file can be made here": the writer then appends without the lock. */
const lockUnavailable = new Set(["EACCES", "EPERM", "EROFS"])

/** Creates the lock file; false when another process holds it. */
const tryCreate = (lockPath: string, me: LockOwner): boolean | "unavailable" => {
  let fd: number
  try {
    fd = fs.openSync(lockPath, "wx")
  } catch (error) {
    const code = errnoOf(error)
    if (code === "EEXIST") return false
    if (code !== undefined && lockUnavailable.has(code)) return "unavailable"
    throw error
  }
  try {
    fs.writeSync(fd, JSON.stringify(me))
  } finally {
    fs.closeSync(fd)
  }
  return true
}

/**
 * Takes the lock; returns its release. When the directory does not allow a lock file (read-only
 * directory, writable file), returns a no-op release: appends then rely on O_APPEND alone.
 */
export const acquireLock = async (path: string, options: LockOptions): Promise<() => void> => {
  const lockPath = `${path}.lock`
  const me: LockOwner = { pid: process.pid, host: hostname, token: randomBytes(8).toString("hex") }
  const deadline = Date.now() + options.lockTimeoutMs
  let wait = 1
  for (;;) {
    const created = tryCreate(lockPath, me)
    if (created === "unavailable") return () => undefined
    if (created) {
      return () => {
        // Only our own lock: after a takeover (we were judged stale) the file is someone else's.
        if (readOwner(lockPath)?.token === me.token) ignoring(() => fs.unlinkSync(lockPath))
      }
    }
    const owner = readOwner(lockPath)
    if (isStale(lockPath, owner, options)) {
      breakLock(lockPath, owner)
      continue
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${options.lockTimeoutMs} ms waiting for the lock ${lockPath} (held by pid ${owner?.pid ?? "?"})`)
    }
    await sleep(wait)
    wait = Math.min(wait * 2, 25)
  }
}

// ---------------------------------------------------------------------------------------------
// Appending

/** Options of one file's writer. */
export interface WriterOptions extends LockOptions {
  /** `fdatasync` before acknowledging (true in production). */
  readonly fsync: boolean
  /** A batch takes waiting records up to this many bytes (at least one record). */
  readonly maxBatchBytes: number
}

/**
 * Appends one batch: lock, open, repair a torn tail, write it all, sync, unlock. Exported for the
 * tests that play a writer dying at each step.
 */
export const appendBatch = async (path: string, batch: Buffer, options: WriterOptions): Promise<void> => {
  const release = await acquireLock(path, options)
  try {
    let created = true
    let fd: number
    try {
      fd = fs.openSync(path, "ax+") // read too: the torn-tail check reads the last byte
    } catch (error) {
      if (errnoOf(error) !== "EEXIST") throw error
      created = false
      fd = fs.openSync(path, "a+")
    }
    try {
      const { size } = fs.fstatSync(fd)
      let bytes = batch
      if (size > 0) {
        const last = Buffer.alloc(1)
        fs.readSync(fd, last, 0, 1, size - 1)
        // A writer died (or the disk filled) mid-record: end its torn line before ours.
        if (last[0] !== NEWLINE) bytes = Buffer.concat([Buffer.from("\n"), batch])
      }
      try {
        // Writes and syncs can take long (big batches, slow disks): off the event loop.
        let written = 0
        while (written < bytes.length) written += await writeAsync(fd, bytes, written)
        if (options.fsync) await datasyncAsync(fd)
      } catch (error) {
        // Take our partial record back, so the file ends where it did (best effort: if this fails
        // too, the next writer starts a fresh line after the torn tail).
        ignoring(() => fs.ftruncateSync(fd, size))
        throw error
      }
    } finally {
      fs.closeSync(fd)
    }
    if (created && options.fsync) syncDirectory(nodePath.dirname(path))
  } finally {
    release()
  }
}

const writeAsync = (fd: number, bytes: Buffer, from: number) =>
  new Promise<number>((resolve, reject) =>
    fs.write(fd, bytes, from, bytes.length - from, null, (error, written) => error ? reject(error) : resolve(written))
  )

const datasyncAsync = (fd: number) =>
  new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => error ? reject(error) : resolve()))

/** Makes a new file's directory entry durable (once per new file); skipped where a directory cannot be synced. */
const syncDirectory = (dir: string): void => {
  let fd: number
  try {
    fd = fs.openSync(dir, "r")
  } catch {
    return
  }
  try {
    fs.fsyncSync(fd)
  } catch (error) {
    const code = errnoOf(error)
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM") throw error
  } finally {
    fs.closeSync(fd)
  }
}

interface Pending {
  readonly record: Buffer
  readonly options: WriterOptions
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Writer {
  readonly queue: Array<Pending>
  busy: boolean
}

// One queue per file per process, whatever the number of layers using the file, so writers of one
// process never race each other.
const writers = new Map<string, Writer>()

const drain = async (path: string, writer: Writer): Promise<void> => {
  while (writer.queue.length > 0) {
    // Layers sharing the file may differ in options: the first letter's lock settings apply, and
    // the batch is synced when any of its letters asks for it.
    const options = writer.queue[0]!.options
    let bytes = 0
    let count = 0
    while (count < writer.queue.length && (count === 0 || bytes + writer.queue[count]!.record.length <= options.maxBatchBytes)) {
      bytes += writer.queue[count]!.record.length
      count++
    }
    const batch = writer.queue.splice(0, count)
    const fsync = batch.some((p) => p.options.fsync)
    try {
      await appendBatch(path, batch.length === 1 ? batch[0]!.record : Buffer.concat(batch.map((p) => p.record), bytes), { ...options, fsync })
      for (const p of batch) p.resolve()
    } catch (error) {
      for (const p of batch) p.reject(error)
    }
  }
  writer.busy = false
  writers.delete(path)
}

/** Appends one framed record; resolves once it is durably in the file (with the batch it joined). */
export const append = (path: string, record: Buffer, options: WriterOptions): Promise<void> => {
  const key = nodePath.resolve(path)
  let writer = writers.get(key)
  if (writer === undefined) {
    writer = { queue: [], busy: false }
    writers.set(key, writer)
  }
  const done = new Promise<void>((resolve, reject) => writer.queue.push({ record, options, resolve, reject }))
  if (!writer.busy) {
    writer.busy = true
    void drain(key, writer)
  }
  return done
}
