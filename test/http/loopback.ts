// A raw node:http server on 127.0.0.1 whose handler the test writes, recording every request it
// sees (method, path, headers). Closed with the scope.
import { Effect, type Scope } from "effect"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type * as net from "node:net"

export interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
}

export interface Loopback {
  readonly url: string
  readonly seen: Array<Seen>
}

/** `handle` gets the request, the response and the request's index (0 = first). */
export const loopback = (
  handle: (req: IncomingMessage, res: ServerResponse, index: number) => void
): Effect.Effect<Loopback, never, Scope.Scope> =>
  Effect.gen(function*() {
    const seen: Array<Seen> = []
    const sockets = new Set<net.Socket>()
    const server = createServer((req, res) => {
      const index = seen.length
      seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers })
      req.resume()
      handle(req, res, index)
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return { url: `http://127.0.0.1:${port}`, seen }
  })

/** A port nothing listens on: bound, then closed. */
export const closedPort: Effect.Effect<string> = Effect.callback<string>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}`)))
  })
})

/** Answers with `status`, its headers and a short body. */
export const reply = (res: ServerResponse, status: number, headers: Record<string, string> = {}, body = status === 200 ? "ok" : "busy") => {
  res.writeHead(status, headers)
  res.end(body)
}
