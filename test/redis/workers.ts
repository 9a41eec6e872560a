// Spawns the fixture worker (fixtures/worker.ts) as separate OS processes on loopback Redis and
// collects their JSON results. Every child is bounded (its own deadline, plus a kill here) and
// killed by `killAll`, which the tests call in afterEach/afterAll so none outlives a failure.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const script = fileURLToPath(new URL("./fixtures/worker.ts", import.meta.url))
const children = new Set<ChildProcess>()

export interface WorkerArgs {
  readonly mode: "probes" | "budget" | "fault"
  readonly port: number
  readonly prefix: string
  readonly name: string
  readonly startAt?: number
  readonly attempts?: number
  readonly runFor?: number
}

/** Runs one worker; resolves with its parsed JSON line, rejects on a non-zero exit or after `limit` ms. */
export const runWorker = (args: WorkerArgs, limit = 20_000): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const full = { startAt: 0, attempts: 0, runFor: 0, ...args, deadline: limit }
    const child = spawn(process.execPath, ["--no-warnings", script, JSON.stringify(full)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let out = ""
    let err = ""
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), limit + 2_000)
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

/** Kills every worker still running. */
export const killAll = (): void => {
  for (const child of children) child.kill("SIGKILL")
  children.clear()
}
