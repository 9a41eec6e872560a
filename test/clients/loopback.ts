// Loopback servers that fail the way real services do (statuses, headers, bodies, dropped or
// silent sockets), and a runner that drives a retry on the TestClock while the calls themselves
// go over real sockets. Loopback only.
import { Duration, Effect, Exit, Fiber, Queue } from "effect"
import { TestClock } from "effect/testing"
import { createServer, type IncomingMessage } from "node:http"
import * as net from "node:net"
import { Failure, Retry } from "../../src/index.ts"

/** One scripted answer: a response, a socket destroyed before any byte, or no answer at all. */
export type Step =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string | object }
  | "drop"
  | "hang"

export interface HttpLoopback {
  readonly url: string
  /** Requests seen so far. */
  readonly requests: Array<{ readonly method: string; readonly path: string }>
  /** Replaces the script: one step per request, the last one repeating. */
  readonly script: (...steps: ReadonlyArray<Step>) => void
}

const listen = (server: net.Server): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
  })

const close = (server: net.Server, sockets: Set<net.Socket>): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resume(Effect.void))
  })

/** An HTTP server on 127.0.0.1 answering from a script; closed with the scope. */
export const httpLoopback = (...initial: ReadonlyArray<Step>): Effect.Effect<HttpLoopback, never, import("effect").Scope.Scope> =>
  Effect.gen(function*() {
    let steps: ReadonlyArray<Step> = initial
    let index = 0
    const requests: Array<{ method: string; path: string }> = []
    const sockets = new Set<net.Socket>()
    const server = createServer((req: IncomingMessage, res) => {
      requests.push({ method: req.method ?? "", path: req.url ?? "" })
      const step = steps[Math.min(index++, steps.length - 1)] ?? { status: 200 }
      req.resume()
      if (step === "drop") return void req.socket.destroy()
      if (step === "hang") return
      const body = step.body === undefined ? "" : typeof step.body === "string" ? step.body : JSON.stringify(step.body)
      const headers = typeof step.body === "object" ? { "content-type": "application/json", ...step.headers } : step.headers ?? {}
      res.writeHead(step.status, headers)
      res.end(body)
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    const port = yield* Effect.acquireRelease(listen(server), () => close(server, sockets))
    return {
      url: `http://127.0.0.1:${port}`,
      requests,
      script: (...next: ReadonlyArray<Step>) => {
        steps = next
        index = 0
      }
    }
  })

/** A TCP server on 127.0.0.1 whose connections go to `onConnection`; closed with the scope. */
export const tcpLoopback = (
  onConnection: (socket: net.Socket) => void
): Effect.Effect<
  {
    readonly port: number
    readonly connections: () => number
    /** Closes every open connection (FIN): the peer sees the connection end. */
    readonly dropAll: () => void
    /** Resets every open connection (RST): the peer sees ECONNRESET. */
    readonly resetAll: () => void
  },
  never,
  import("effect").Scope.Scope
> =>
  Effect.gen(function*() {
    const sockets = new Set<net.Socket>()
    let count = 0
    const server = net.createServer((socket) => {
      count++
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      onConnection(socket)
    })
    const port = yield* Effect.acquireRelease(listen(server), () => close(server, sockets))
    return {
      port,
      connections: () => count,
      dropAll: () => {
        for (const socket of sockets) socket.destroy()
      },
      resetAll: () => {
        for (const socket of sockets) socket.resetAndDestroy()
      }
    }
  })

/** A loopback port nothing listens on: bound, then closed. */
export const closedPort: Effect.Effect<number> = Effect.gen(function*() {
  const server = net.createServer()
  const port = yield* listen(server)
  yield* close(server, new Set())
  return port
})

/** Runs a promise-returning client call, keeping whatever it rejects with as the typed error. */
export const attempt = <A>(call: () => Promise<A>): Effect.Effect<A, unknown> => Effect.tryPromise({ try: call, catch: (e) => e })

/** `Transient/Kind` or `Permanent/Kind`, and the hint in milliseconds. */
export const verdict = (error: unknown): { readonly verdict: string; readonly hintMs: number | undefined } => {
  const v = Failure.defaultClassifier(error)
  return {
    verdict: `${v._tag}/${v.kind}`,
    hintMs: v._tag === "Transient" && v.retryAfter !== undefined ? Duration.toMillis(v.retryAfter) : undefined
  }
}

/**
 * Retries `effect` by `policy` on the TestClock: every time the loop announces a retry, the clock
 * advances by exactly that delay. Returns the exit and the delays the loop slept.
 */
export const retriedOnTestClock = <A, E>(
  effect: Effect.Effect<A, E>,
  policy: Retry.RetryPolicyOptions<E>
) =>
  Effect.gen(function*() {
    const delays = yield* Queue.unbounded<number>()
    const fiber = yield* Effect.forkChild(Effect.exit(effect.pipe(Retry.retry({
      ...policy,
      log: false,
      onRetry: (event) => Queue.offer(delays, Duration.toMillis(event.delay)).pipe(Effect.asVoid)
    }))))
    const slept: Array<number> = []
    while (true) {
      const next = yield* Effect.raceFirst(
        Fiber.join(fiber).pipe(Effect.map((exit) => ({ _tag: "Done" as const, exit }))),
        Queue.take(delays).pipe(Effect.map((delay) => ({ _tag: "Retry" as const, delay })))
      )
      if (next._tag === "Done") {
        return { exit: next.exit as Exit.Exit<A, Retry.RetryError<E>>, delays: slept }
      }
      slept.push(next.delay)
      yield* TestClock.adjust(next.delay)
    }
  })
