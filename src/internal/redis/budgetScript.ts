/**
 * The shared retry budget's one Lua script, run atomically in Redis with time from Redis `TIME`.
 * Three keys per bucket: the level (a string), the outstanding leases and each process's applied
 * refund total (a hash), and when each of those expires (a sorted set, scored in Redis ms).
 *
 * A lease is recorded as `l:<id>` → `"<held> <cost>"`: the tokens its process took beyond the
 * retry that asked for it, and that retry's cost. It leaves the hash when its process gives it
 * back (at most what it holds) or, if that process died, when it expires: every call first puts
 * back what the expired leases held. Refunds are a cumulative total per process (`r:<owner>`), so
 * a flush whose reply was lost and that is sent again is applied once.
 *
 * @internal
 */
import { Redis } from "effect/persistence"

/** A lease's return: its id and the tokens given back, or `WHOLE` / `HELD`. */
export type Release = readonly [id: string, tokens: number]

/** Its grant's reply was lost and the retry was not made: what it holds and the retry's cost go back. */
export const WHOLE = -1
/** Its grant's reply was lost but the retry was made (decided by the process alone): what it holds goes back. */
export const HELD = -2

/** `[granted, tokens left, tokens reclaimed from expired leases]`. */
export type Reply = readonly [number, string, string]

/** The three keys of a bucket, from its level's key. */
export const keysOf = (key: string): readonly [string, string, string] => [key, `${key}~leases`, `${key}~expiry`]

/** Releases as one argument: `id=tokens,…` (ids never hold `=` or `,`). */
export const encodeReleases = (releases: Iterable<Release>): string => Array.from(releases, ([id, n]) => `${id}=${n}`).join(",")

export interface Call {
  readonly key: string
  readonly capacity: number
  /** This process's refunds since it started, and how many of them Redis has acknowledged. */
  readonly refundTotal: number
  readonly refundAcked: number
  /** Tokens the retry needs (0: a flush); granted at least this, at most the lease. */
  readonly cost: number
  readonly idle: number
  readonly lease: number
  readonly leaseTtl: number
  readonly owner: string
  /** Names the lease this call may grant (unused when `cost` is 0). */
  readonly leaseId: string
  readonly releases: string
}

/**
 * Granted tokens are `max(cost, min(lease, floor(left / 2)))` (at most half of what is left: the
 * last tokens are spread, not hoarded), or 0 when fewer than `cost` are left.
 */
export const script = Redis.script(
  (c: Call) => [
    ...keysOf(c.key),
    c.capacity,
    c.refundTotal,
    c.refundAcked,
    c.cost,
    c.idle,
    c.lease,
    c.leaseTtl,
    c.owner,
    c.leaseId,
    c.releases
  ],
  {
    numberOfKeys: 3,
    lua: `
local capacity = tonumber(ARGV[1])
local total = tonumber(ARGV[2])
local acked = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local lease = math.max(cost, tonumber(ARGV[6]) or 0)
local ttl = tonumber(ARGV[7])
local owner = ARGV[8]
local id = ARGV[9]
local releases = ARGV[10]
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fmt = function(n) return string.format("%.17g", n) end
local stored = redis.call("GET", KEYS[1])
local tokens = tonumber(stored or capacity)
if tokens == nil then
  return redis.error_reply("key " .. KEYS[1] .. " does not hold a retry budget (give each store its own prefix)")
end
-- Takes a lease out of the books; what goes back: at most what it holds; when the grant's reply
-- was lost, all it holds (-2: the process made the retry alone) or that and the retry's cost (-1).
local function close(field, amount)
  local record = redis.call("HGET", KEYS[2], field)
  redis.call("HDEL", KEYS[2], field)
  redis.call("ZREM", KEYS[3], field)
  if not record then return 0 end
  local held, paid = string.match(record, "^(%S+) (%S+)$")
  held = tonumber(held)
  if amount == -1 then return held + tonumber(paid) end
  if amount < 0 then return held end
  return math.min(held, amount)
end
-- Expired leases (their process died, or stopped spending them at its own deadline) come back;
-- expired refund totals are forgotten (the process sends its acknowledged total instead).
local reclaimed = 0
for _, field in ipairs(redis.call("ZRANGEBYSCORE", KEYS[3], "-inf", now, "LIMIT", 0, 100)) do
  if string.sub(field, 1, 2) == "l:" then
    reclaimed = reclaimed + close(field, math.huge)
  else
    redis.call("HDEL", KEYS[2], field)
    redis.call("ZREM", KEYS[3], field)
  end
end
tokens = tokens + reclaimed
for lid, amount in string.gmatch(releases, "([^,=]+)=([^,]+)") do
  tokens = tokens + close("l:" .. lid, tonumber(amount))
end
-- Refunds: a running total per process, applied once however often it is sent.
if total > 0 then
  local field = "r:" .. owner
  local applied = tonumber(redis.call("HGET", KEYS[2], field) or acked)
  if total > applied then
    tokens = tokens + (total - applied)
    applied = total
  end
  redis.call("HSET", KEYS[2], field, fmt(applied))
  redis.call("ZADD", KEYS[3], now + idle, field)
end
tokens = math.min(capacity, tokens)
local granted = 0
if cost > 0 and tokens >= cost then
  granted = math.max(cost, math.min(lease, math.floor(tokens / 2)))
  tokens = tokens - granted
  -- Recorded even when nothing is left over: a lost reply gives the retry's cost back.
  redis.call("HSET", KEYS[2], "l:" .. id, fmt(granted - cost) .. " " .. fmt(cost))
  redis.call("ZADD", KEYS[3], now + ttl, "l:" .. id)
end
redis.call("SET", KEYS[1], fmt(tokens), "PX", string.format("%.0f", idle))
redis.call("PEXPIRE", KEYS[2], string.format("%.0f", idle))
redis.call("PEXPIRE", KEYS[3], string.format("%.0f", idle))
return { granted, fmt(tokens), fmt(reclaimed) }
`
  }
).withReturnType<Reply>()
