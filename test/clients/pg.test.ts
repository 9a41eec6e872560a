// node-postgres against a real PostgreSQL (test/clients/postgres.ts starts one): SQLSTATEs raised
// by the server, a statement timeout, a terminated backend, a dropped connection, and a retry
// through a Pool that succeeds after the connection was cut.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as net from "node:net"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"
import { attempt, closedPort, retriedOnTestClock, tcpLoopback, verdict } from "./loopback.ts"
import { type Postgres, startPostgres } from "./postgres.ts"

let server: Postgres | undefined
beforeAll(async () => {
  server = await startPostgres()
}, 360_000)
afterAll(async () => {
  await server?.stop()
})

const config = (port = server!.port, database = "postgres") => ({
  host: "127.0.0.1",
  port,
  user: "postgres",
  database,
  connectionTimeoutMillis: 5_000
})

/** A client for one test, closed with the scope. */
const client = (options = config()) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const c = new pg.Client(options)
      c.on("error", () => {})
      await c.connect()
      return c
    }),
    (c) => Effect.promise(() => c.end().catch(() => undefined))
  )

const raise = (sqlstate: string) => `DO $$ BEGIN RAISE EXCEPTION 'raised %', '${sqlstate}' USING ERRCODE = '${sqlstate}'; END $$`

/** A TCP proxy's connection handler: forwards to PostgreSQL until the test cuts it. */
const forwardTo = (port: number) => (socket: net.Socket) => {
  const upstream = net.connect(port, "127.0.0.1")
  upstream.on("error", () => socket.destroy())
  socket.on("close", () => upstream.destroy())
  upstream.on("close", () => socket.destroy())
  socket.pipe(upstream).pipe(socket)
}

/** Polls pg_stat_activity until a query matching `like` is running (bounded). */
const waitForActive = async (admin: pg.Client, like: string): Promise<number> => {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
      [like]
    )
    if (rows.length > 0) return rows[0]!.pid
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`no active query like ${like}`)
}

describe("pg against a real PostgreSQL", () => {
  it.live("server errors: the SQLSTATE decides", () =>
    Effect.gen(function*() {
      const c = yield* client()
      const shapes: ReadonlyArray<readonly [string, string]> = [
        [raise("40001"), "Transient/Server"], // serialization_failure
        [raise("40P01"), "Transient/Server"], // deadlock_detected
        [raise("55P03"), "Transient/Server"], // lock_not_available
        [raise("53300"), "Transient/RateLimit"], // too_many_connections
        [raise("08006"), "Transient/Network"], // connection_failure (class 08)
        [raise("23505"), "Permanent/Unknown"], // unique_violation
        ["SELECT * FROM no_such_table", "Permanent/NotFound"], // 42P01
        ["SELEC 1", "Permanent/Unknown"] // 42601 syntax error
      ]
      for (const [sql, expected] of shapes) {
        const error = yield* Effect.flip(attempt(() => c.query(sql)))
        assert.deepStrictEqual(verdict(error), { verdict: expected, hintMs: undefined }, `${sql} (${(error as { code?: string }).code})`)
      }
      yield* attempt(() => c.query("SET statement_timeout = 50"))
      const canceled = yield* Effect.flip(attempt(() => c.query("SELECT pg_sleep(5)")))
      assert.strictEqual((canceled as { code?: string }).code, "57014")
      assert.deepStrictEqual(verdict(canceled), { verdict: "Transient/Timeout", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.live("connections: refused, dropped, unknown database, terminated backend, a client no longer queryable", () =>
    Effect.gen(function*() {
      const connect = (options: pg.ClientConfig) =>
        attempt(async () => {
          const c = new pg.Client(options)
          c.on("error", () => {})
          try {
            await c.connect()
          } finally {
            await c.end().catch(() => undefined)
          }
        })
      const refused = yield* Effect.flip(connect(config(yield* closedPort)))
      assert.deepStrictEqual(verdict(refused), { verdict: "Transient/Network", hintMs: undefined })
      const dropping = yield* tcpLoopback((socket) => socket.destroy())
      const dropped = yield* Effect.flip(connect(config(dropping.port)))
      assert.strictEqual((dropped as Error).message, "Connection terminated unexpectedly")
      assert.deepStrictEqual(verdict(dropped), { verdict: "Transient/Network", hintMs: undefined })
      const missing = yield* Effect.flip(connect(config(server!.port, "no_such_database")))
      assert.strictEqual((missing as { code?: string }).code, "3D000")
      assert.deepStrictEqual(verdict(missing), { verdict: "Permanent/NotFound", hintMs: undefined })

      const admin = yield* client()
      const victim = yield* client()
      const running = victim.query("SELECT pg_sleep(10) AS victim")
      running.catch(() => undefined)
      const pid = yield* Effect.promise(() => waitForActive(admin, "%pg_sleep(10) AS victim%"))
      yield* attempt(() => admin.query("SELECT pg_terminate_backend($1)", [pid]))
      const terminated = yield* Effect.flip(attempt(() => running))
      assert.strictEqual((terminated as { code?: string }).code, "57P01")
      assert.deepStrictEqual(verdict(terminated), { verdict: "Transient/Server", hintMs: undefined })

      // A connection reset under an idle client: node-postgres refuses every later query.
      const proxy = yield* tcpLoopback(forwardTo(server!.port))
      const idle = yield* client(config(proxy.port))
      proxy.resetAll()
      const reset = yield* Effect.flip(attempt(() => new Promise((resolve, reject) => {
        idle.once("error", reject)
        setTimeout(resolve, 5_000)
      })))
      assert.deepStrictEqual(verdict(reset), { verdict: "Transient/Network", hintMs: undefined })
      const unusable = yield* Effect.flip(attempt(() => idle.query("SELECT 1")))
      assert.strictEqual((unusable as Error).message, "Client has encountered a connection error and is not queryable")
      assert.deepStrictEqual(verdict(unusable), { verdict: "Transient/Network", hintMs: undefined })
    }).pipe(Effect.scoped))

  it.effect("end to end: a query cut by a dropped connection (failover, pgbouncer) succeeds on retry through the Pool", () =>
    Effect.gen(function*() {
      // A TCP proxy in front of PostgreSQL that the test can cut, like a failover or a restarted pooler.
      const proxy = yield* tcpLoopback(forwardTo(server!.port))
      const pool = new pg.Pool({ ...config(proxy.port), max: 2 })
      pool.on("error", () => {})
      yield* Effect.addFinalizer(() => Effect.promise(() => pool.end().catch(() => undefined)))
      const admin = yield* client()
      let attempts = 0
      const query = attempt(async () => {
        attempts++
        if (attempts === 1) {
          const running = pool.query("SELECT pg_sleep(10) AS cut")
          running.catch(() => undefined)
          await waitForActive(admin, "%pg_sleep(10) AS cut%")
          proxy.dropAll()
          return (await running).rows[0]
        }
        return (await pool.query<{ ok: number }>("SELECT 1 AS ok")).rows[0]
      })
      const { delays, exit } = yield* retriedOnTestClock(query, { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.deepStrictEqual(exit, Exit.succeed({ ok: 1 }))
      assert.deepStrictEqual(delays, [100])
      assert.strictEqual(attempts, 2)
      // A unique violation is not retried.
      yield* attempt(() => pool.query("CREATE TABLE IF NOT EXISTS once (id int PRIMARY KEY)"))
      yield* attempt(() => pool.query("TRUNCATE once"))
      let inserts = 0
      const insert = attempt(() => {
        inserts++
        return pool.query("INSERT INTO once VALUES (1), (1)")
      })
      const duplicate = yield* retriedOnTestClock(insert, { maxRetries: 3, initialDelay: 100, jitter: "none" })
      assert.isTrue(Exit.isFailure(duplicate.exit))
      assert.deepStrictEqual(duplicate.delays, [])
      assert.strictEqual(inserts, 1)
    }).pipe(Effect.scoped))
})
