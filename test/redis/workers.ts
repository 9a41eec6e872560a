// Spawns the fixture worker (fixtures/worker.ts) as separate OS processes on loopback Redis and
// collects their JSON results. Every child is bounded (its own deadline, plus a kill here) and
// killed by `killAll`, which the tests call in afterEach/afterAll so none outlives a failure.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const children = new Set<ChildProcess>()

export interface WorkerArgs {
  readonly mode: "probes" | "budget" | "fault" | "watch" | "lease"
  readonly port: number
  readonly prefix: string
  readonly name: string
  readonly startAt?: number
  readonly attempts?: number
}

/** A running worker: its barrier events, a way to signal it, and its final JSON result. */
export interface Worker {
  /** Resolves once the worker has printed `{"event": event}`. */
  readonly event: (event: string) => Promise<void>
  /** Sends one line to the worker's stdin. */
  readonly send: (line: string) => void
  /** The worker's last output line, parsed; rejects on a non-zero exit or after `limit` ms. */
  readonly result: Promise<unknown>
  /** Kills the worker with SIGKILL (no finalizer runs) and resolves once it has exited. */
  readonly kill: () => Promise<void>
}

/** Starts one worker (see `Worker`); it is killed after `limit` ms at the latest. */
export const startWorker = (args: WorkerArgs, limit = 20_000): Worker => {
  const full = { startAt: 0, attempts: 0, ...args, deadline: limit }
  const child = spawn(process.execPath, ["--no-warnings", script, JSON.stringify(full)], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  children.add(child)
  const events = new Set<string>()
  const waiting: Array<{ readonly event: string; readonly resolve: () => void }> = []
  let out = ""
  let err = ""
  let scanned = 0
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    for (let end = out.indexOf("\n", scanned); end >= 0; end = out.indexOf("\n", scanned)) {
      const line = out.slice(scanned, end)
      scanned = end + 1
      const event = line.startsWith("{\"event\":") ? (JSON.parse(line) as { event: string }).event : undefined
      if (event !== undefined) {
        events.add(event)
        for (const w of waiting) if (w.event === event) w.resolve()
      }
    }
  })
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  // A worker that has already exited cannot take a signal; its exit is reported through `result`.
  child.stdin!.on("error", () => {})
  const timer = setTimeout(() => child.kill("SIGKILL"), limit + 2_000)
  const result = new Promise<unknown>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      if (code === 0) {
        try {
          resolve(JSON.parse(out.trim().split("\n").at(-1) ?? ""))
        } catch (e) {
          reject(new Error(`worker ${args.name}: bad output ${out}\n${err}`))
        }
      } else {
        reject(new Error(`worker ${args.name} exited with ${code ?? signal}\n${err}`))
      }
    })
  })
  return {
    // A worker that dies first rejects the wait instead of leaving it pending until the test times out.
    event: (event) =>
      Promise.race([
        new Promise<void>((resolve) => events.has(event) ? resolve() : waiting.push({ event, resolve })),
        result.then(
          () => events.has(event) ? undefined : Promise.reject(new Error(`worker ${args.name} ended before "${event}"`)),
          (error: unknown) => events.has(event) ? undefined : Promise.reject(error)
        )
      ]),
    send: (line) => void child.stdin!.write(`${line}\n`),
    result,
    kill: () => {
      const exited = result.then(() => undefined, () => undefined)
      child.kill("SIGKILL")
      return exited
    }
  }
}

/** Runs one worker; resolves with its parsed JSON line, rejects on a non-zero exit or after `limit` ms. */
export const runWorker = (args: WorkerArgs, limit = 20_000): Promise<unknown> => startWorker(args, limit).result

/** Kills every worker still running. */
export const killAll = (): void => {
  for (const child of children) child.kill("SIGKILL")
  children.clear()
}
