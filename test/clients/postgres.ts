// A real PostgreSQL for the pg tests: finds the server binaries (installing the Debian package
// `postgresql` when they are missing, as root on CI, bounded to 5 minutes), initialises a
// throwaway cluster in a temporary directory and starts it on a free loopback port. As root the
// server runs as the `postgres` user (PostgreSQL refuses to run as root). No system service is started.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"
import { freePort, waitForPort } from "../redis/server.ts"

const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "postgres"))).sort((a, b) => Number(b) - Number(a))
  return versions.length === 0 ? undefined : join(root, versions[0]!, "bin")
}

const findOrInstall = (): string => {
  const found = binDir()
  if (found !== undefined) return found
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive", RUNLEVEL: "1" }
  const run = (args: Array<string>) => execFileSync("timeout", ["300", ...args], { stdio: "inherit", env })
  process.stderr.write("PostgreSQL not found: installing the Debian package postgresql\n")
  run(["apt-get", "update", "-qq"])
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"])
  const installed = binDir()
  if (installed === undefined) throw new Error("PostgreSQL is still missing after apt-get install postgresql")
  return installed
}

/** The uid/gid to run as: the `postgres` user when we are root, else ourselves. */
const owner = (): { readonly uid: number; readonly gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim())
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim())
  return { uid, gid }
}

export interface Postgres {
  readonly port: number
  readonly stop: () => Promise<void>
}

const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

/** Resolves once the server answers a query (it listens before recovery has finished). */
const ready = async (port: number, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  let last: unknown
  while (Date.now() < deadline) {
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" })
    try {
      await client.connect()
      await client.query("SELECT 1")
      return
    } catch (error) {
      last = error
      await new Promise((r) => setTimeout(r, 50))
    } finally {
      await client.end().catch(() => undefined)
    }
  }
  throw new Error(`PostgreSQL did not answer within ${ms} ms: ${String(last)}`)
}

/** Starts a fresh cluster (trust authentication, user `postgres`, fsync off). */
export const startPostgres = async (): Promise<Postgres> => {
  const bin = findOrInstall()
  const as = owner()
  const dir = mkdtempSync(join(tmpdir(), "effect-resilience-pg-"))
  if (as !== undefined) chownSync(dir, as.uid, as.gid)
  const data = join(dir, "data")
  execFileSync(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], {
    stdio: ["ignore", "ignore", "inherit"],
    ...as
  })
  const port = await freePort()
  const child = spawn(join(bin, "postgres"), [
    "-D", data,
    "-p", String(port),
    "-k", dir,
    "-c", "listen_addresses=127.0.0.1",
    "-c", "fsync=off",
    "-c", "max_connections=20"
  ], { stdio: ["ignore", "ignore", "inherit"], ...as })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.once("exit", () => running.delete(child))
  const stop = async () => {
    // SIGQUIT: immediate shutdown, the backends go with the postmaster.
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGQUIT")
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitForPort(port, 30_000)
    await ready(port, 30_000)
  } catch (error) {
    await stop()
    throw error
  }
  return { port, stop }
}
