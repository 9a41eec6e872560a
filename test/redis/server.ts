// Real redis-server processes for the Redis tests: finds the binary (installing the Debian package
// `redis-server` when it is missing, as root on CI), picks a free loopback port and starts a server
// that the caller stops. Used by the vitest global setup (one shared server) and by the fault test
// (its own server, killed and restarted). Loopback only; no system service is started.
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as net from "node:net"

const candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"]

const onPath = (): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir !== "" && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`
  }
  return candidates.find((p) => existsSync(p))
}

/** The redis-server binary, installed with apt-get if missing (bounded to 5 minutes). */
export const findOrInstallRedis = (): string => {
  const found = onPath()
  if (found !== undefined) return found
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  // RUNLEVEL=1 keeps Debian's maintainer scripts from starting the system service.
  const run = (args: Array<string>) =>
    execFileSync("timeout", ["300", ...args], { stdio: "inherit", env: { ...env, RUNLEVEL: "1" } })
  process.stderr.write("redis-server not found: installing the Debian package redis-server\n")
  run(["apt-get", "update", "-qq"])
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"])
  const installed = onPath()
  if (installed === undefined) throw new Error("redis-server is still missing after apt-get install redis-server")
  return installed
}

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Resolves once something accepts connections on the port (or rejects after `ms`). */
export const waitForPort = async (port: number, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not listen on ${port} within ${ms} ms`)
}

export interface ServerOptions {
  readonly bin: string
  readonly port: number
  /** Durable mode: append-only file fsynced on every write, kept in `dir`. */
  readonly durableDir?: string | undefined
}

/** A running redis-server. `stop` kills it (SIGKILL: no final save) and waits for the exit. */
export interface Server {
  readonly port: number
  readonly process: ChildProcess
  readonly stop: () => Promise<void>
}

const running = new Set<ChildProcess>()
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL")
})

export const startServer = async (options: ServerOptions): Promise<Server> => {
  const args = ["--port", String(options.port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no", "--loglevel", "warning"]
  if (options.durableDir !== undefined) {
    args.push("--appendonly", "yes", "--appendfsync", "always", "--dir", options.durableDir)
  } else {
    args.push("--appendonly", "no")
  }
  const child = spawn(options.bin, args, { stdio: ["ignore", "ignore", "inherit"] })
  running.add(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.once("exit", () => running.delete(child))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    await exited
  }
  try {
    await waitForPort(options.port)
  } catch (error) {
    await stop()
    throw error
  }
  return { port: options.port, process: child, stop }
}

/** Checks that the binary runs (used once by the global setup). */
export const redisVersion = (bin: string): string => execFileSync(bin, ["--version"], { encoding: "utf8" }).trim()
