// Runs test/support/deadLetterWriter.ts as real OS processes and follows what they print.
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"

const node = path.resolve("node_modules/.bin/node")
const script = path.resolve("test/support/deadLetterWriter.ts")

/** An unprivileged user, for permission tests when the tests run as root (root ignores modes). */
export const NOBODY = 65534

export interface Writer {
  readonly child: ChildProcess
  readonly lines: Array<string>
  /** Resolves once a printed line satisfies `predicate` (rejects if the process ends first). */
  readonly waitFor: (predicate: (line: string) => boolean) => Promise<string>
  /** Resolves when the process has ended and all of its output was read. */
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string }>
  readonly acked: () => Array<string>
}

export const startWriter = (job: Record<string, unknown>, options: { readonly uid?: number } = {}): Writer => {
  const child = spawn(node, [script, JSON.stringify(job)], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid })
  })
  const lines: Array<string> = []
  const waiters: Array<{ predicate: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }> = []
  let stderr = ""
  let buffered = ""
  let closed = false
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      lines.push(line)
      for (const w of waiters.filter((w) => w.predicate(line))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on("close", (code, signal) => {
      closed = true
      for (const w of waiters.splice(0)) w.reject(new Error(`writer ended (${code ?? signal}) before the awaited line; stderr: ${stderr}`))
      resolve({ code, signal, stderr })
    })
  })
  return {
    child,
    lines,
    exit,
    waitFor: (predicate) => {
      const seen = lines.find(predicate)
      if (seen !== undefined) return Promise.resolve(seen)
      if (closed) return Promise.reject(new Error("writer already ended"))
      return new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject }))
    },
    acked: () => lines.filter((l) => l.startsWith("ack ")).map((l) => l.slice(4))
  }
}
