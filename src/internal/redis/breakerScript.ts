/**
 * The breaker's machine (`internal/breaker/machine.ts` and `window.ts`) ported to one Redis Lua
 * script, so that every process of a fleet applies the same transition function to one shared
 * state atomically: one EVALSHA per event. Also the codecs between the machine's `Config` and
 * `State` and the script's compact strings.
 *
 * The state is one string key (set with an idle expiry), space-separated numbers in three parts
 * joined by `;`: the common fields, the half-open probe leases (expiry times), and the windows
 * (one per rule, `/`-separated, `-` for none). Numbers written by the script use `%.17g` (or
 * `%.0f` for integers), so a time bucket start such as 1700000000333.3333 survives the round trip
 * and both implementations compute with the same doubles.
 *
 * Time is Redis `TIME` unless an explicit `now` is passed (the differential test does).
 *
 * @internal
 */
import { Redis } from "effect/persistence"
import type * as M from "../breaker/machine.ts"
import type * as W from "../window.ts"

const lua = `
local key = KEYS[1]
local ev = ARGV[1]
local ticket = tonumber(ARGV[2])
local failSlow = ARGV[3] == "1"
local retryAfter = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now == nil then
  local time = redis.call("TIME")
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local lease = tonumber(ARGV[7])
local idle = tonumber(ARGV[8])
-- The caller's name for the probe slot an admission may take (fencing: "L" releases it by name).
local leaseId = ARGV[9] or ""
-- Where transitions are published (near-cache replicas listen there); empty: not published.
local channel = ARGV[10] or ""
-- "M": a replica's flush, runs of closed-state outcomes "bits count bits count ..." (in order).
local runs = ARGV[11] or ""

local function fmt(n)
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format("%.0f", n) end
  return string.format("%.17g", n)
end
local function split(s, sep)
  local out = {}
  if s == nil or s == "" then return out end
  local start = 1
  while true do
    local i = string.find(s, sep, start, true)
    if not i then out[#out + 1] = string.sub(s, start); return out end
    out[#out + 1] = string.sub(s, start, i - 1)
    start = i + #sep
  end
end

-- Configuration: probes toClose closeOnHealthy maxOpenFor nOpenFor d1..dn nRules rules...
local cfg = {}
for tok in string.gmatch(ARGV[6], "%S+") do cfg[#cfg + 1] = tonumber(tok) end
local cp = 1
local function nx() local v = cfg[cp]; cp = cp + 1; return v end
local probes = nx()
local toClose = nx()
local closeOnHealthy = nx() == 1
local maxOpenFor = nx()
local nOpen = nx()
local openFor = {}
for i = 1, nOpen do openFor[i] = nx() end
local nRules = nx()
local rules = {}
local hasWindows = false
local hasSlowRule = false
for i = 1, nRules do
  local kind = nx()
  if kind == 1 then
    rules[i] = { kind = 1, failures = nx() }
  else
    local r = { kind = kind, threshold = nx(), minimumCalls = nx(), wkind = nx() }
    if r.wkind == 1 then r.size = nx() else r.millis = nx(); r.buckets = nx() end
    rules[i] = r
    hasWindows = true
    if kind == 3 then hasSlowRule = true end
  end
end

-- Windows (window.ts)
local function makeWindow(r)
  if r.wkind == 1 then
    local o = {}
    for i = 1, r.size do o[i] = 0 end
    return { kind = 1, outcomes = o, size = r.size, nextSlot = 0, calls = 0, failures = 0, slow = 0 }
  end
  local bm = math.max(1, r.millis / r.buckets)
  local c = {}
  for i = 1, r.buckets * 3 do c[i] = 0 end
  return { kind = 2, bucketMillis = bm, size = r.buckets, counts = c, head = 0,
    headStart = math.floor(now / bm) * bm, calls = 0, failures = 0, slow = 0 }
end
local function advance(w)
  if w.kind == 1 then return end
  local elapsed = now - w.headStart
  if elapsed < w.bucketMillis then return end
  local steps = math.floor(elapsed / w.bucketMillis)
  if steps >= w.size then
    for i = 1, w.size * 3 do w.counts[i] = 0 end
    w.calls = 0; w.failures = 0; w.slow = 0; w.head = 0
  else
    for _ = 1, steps do
      local h = (w.head + 1) % w.size
      local at = h * 3 + 1
      w.calls = w.calls - w.counts[at]
      w.failures = w.failures - w.counts[at + 1]
      w.slow = w.slow - w.counts[at + 2]
      w.counts[at] = 0; w.counts[at + 1] = 0; w.counts[at + 2] = 0
      w.head = h
    end
  end
  w.headStart = w.headStart + steps * w.bucketMillis
end
local function isFailed(bits) return (bits == 1 or bits == 3) and 1 or 0 end

local function isSlow(bits) return bits >= 2 and 1 or 0 end
local function record(w, bits)
  local failed = isFailed(bits)
  local slow = isSlow(bits)
  if w.kind == 1 then
    if w.calls == w.size then
      local old = w.outcomes[w.nextSlot + 1]
      w.failures = w.failures - isFailed(old)
      w.slow = w.slow - isSlow(old)
    else
      w.calls = w.calls + 1
    end
    w.outcomes[w.nextSlot + 1] = bits
    w.nextSlot = (w.nextSlot + 1) % w.size
    w.failures = w.failures + failed
    w.slow = w.slow + slow
    return
  end
  advance(w)
  local at = w.head * 3 + 1
  w.counts[at] = w.counts[at] + 1
  w.calls = w.calls + 1
  if failed == 1 then w.counts[at + 1] = w.counts[at + 1] + 1; w.failures = w.failures + 1 end
  if slow == 1 then w.counts[at + 2] = w.counts[at + 2] + 1; w.slow = w.slow + 1 end
end
-- The same as \`count\` records of one outcome: a time window adds them to its head bucket at once.
local function recordN(w, bits, count)
  if w.kind == 1 then
    if count < w.size then
      for _ = 1, count do record(w, bits) end
      return
    end
    -- As many as the window holds or more: it is all this outcome, the ring turned count times.
    for i = 1, w.size do w.outcomes[i] = bits end
    w.calls = w.size
    w.failures = isFailed(bits) * w.size
    w.slow = isSlow(bits) * w.size
    w.nextSlot = (w.nextSlot + count) % w.size
    return
  end
  advance(w)
  local at = w.head * 3 + 1
  w.counts[at] = w.counts[at] + count
  w.calls = w.calls + count
  if isFailed(bits) == 1 then w.counts[at + 1] = w.counts[at + 1] + count; w.failures = w.failures + count end
  if isSlow(bits) == 1 then w.counts[at + 2] = w.counts[at + 2] + count; w.slow = w.slow + count end
end
local function encodeWindow(w)
  if not w then return "-" end
  if w.kind == 1 then
    return "c " .. fmt(w.nextSlot) .. " " .. fmt(w.calls) .. " " .. fmt(w.failures) .. " " .. fmt(w.slow) .. " " ..
      table.concat(w.outcomes)
  end
  local parts = { "t", fmt(w.head), fmt(w.headStart), fmt(w.calls), fmt(w.failures), fmt(w.slow) }
  for i = 1, #w.counts do parts[#parts + 1] = fmt(w.counts[i]) end
  return table.concat(parts, " ")
end
local function decodeWindow(s, r)
  if s == "-" or s == nil or r == nil or r.kind == 1 then return false end
  local t = split(s, " ")
  if t[1] == "c" then
    local o = {}
    local digits = t[6] or ""
    for i = 1, #digits do o[i] = string.byte(digits, i) - 48 end
    return { kind = 1, outcomes = o, size = #o, nextSlot = tonumber(t[2]), calls = tonumber(t[3]),
      failures = tonumber(t[4]), slow = tonumber(t[5]) }
  end
  local c = {}
  for i = 7, #t do c[#c + 1] = tonumber(t[i]) end
  return { kind = 2, bucketMillis = math.max(1, r.millis / r.buckets), size = r.buckets, counts = c,
    head = tonumber(t[2]), headStart = tonumber(t[3]), calls = tonumber(t[4]), failures = tonumber(t[5]),
    slow = tonumber(t[6]) }
end

-- State: tag since gen openings lastOpenFor failures until inFlight successes ; leases ; windows
-- A key created afresh (never written, or expired after idleTimeToLive) starts its generations at
-- its creation time scaled to microseconds, not 0: every generation of a key it replaces is
-- below that (that key would need more than 1 000 transitions a millisecond to reach it), so an
-- admission or a flush fenced to the old key never matches one of the new key's.
local function initial()
  return { tag = "C", since = now, gen = now * 1000, openings = 0, lastOpenFor = 0, failures = 0, untilAt = 0,
    inFlight = 0, successes = 0, leases = {}, windows = nil }
end
local function decode(raw)
  if not raw then return initial() end
  local parts = split(raw, ";")
  local f = split(parts[1], " ")
  local s = { tag = f[1], since = tonumber(f[2]), gen = tonumber(f[3]), openings = tonumber(f[4]),
    lastOpenFor = tonumber(f[5]), failures = tonumber(f[6]), untilAt = tonumber(f[7]), inFlight = tonumber(f[8]),
    successes = tonumber(f[9]), leases = {}, windows = nil }
  for _, l in ipairs(split(parts[2], " ")) do
    local at = string.find(l, ":", 1, true)
    if at then
      s.leases[#s.leases + 1] = { at = tonumber(string.sub(l, 1, at - 1)), id = string.sub(l, at + 1) }
    else
      s.leases[#s.leases + 1] = { at = tonumber(l), id = "" }
    end
  end
  local ws = split(parts[3], "/")
  if #ws > 0 then
    s.windows = {}
    for i = 1, nRules do s.windows[i] = decodeWindow(ws[i], rules[i]) end
  end
  return s
end
local function encode(s)
  local head = table.concat({ s.tag, fmt(s.since), fmt(s.gen), fmt(s.openings), fmt(s.lastOpenFor), fmt(s.failures),
    fmt(s.untilAt), fmt(s.inFlight), fmt(s.successes) }, " ")
  local ls = {}
  for i = 1, #s.leases do
    local l = s.leases[i]
    if l.id == "" then ls[i] = fmt(l.at) else ls[i] = fmt(l.at) .. ":" .. l.id end
  end
  local ws = ""
  if s.windows then
    local parts = {}
    for i = 1, nRules do parts[i] = encodeWindow(s.windows[i]) end
    ws = table.concat(parts, "/")
  end
  return head .. ";" .. table.concat(ls, " ") .. ";" .. ws
end

-- The machine (machine.ts)
local function closedFrom(s, openings)
  return { tag = "C", since = now, gen = s.gen + 1, openings = openings, lastOpenFor = s.lastOpenFor, failures = 0,
    untilAt = 0, inFlight = 0, successes = 0, leases = {}, windows = nil }
end
local function halfOpenFrom(s, inFlight)
  local leases = {}
  if inFlight == 1 then leases[1] = { at = now + lease, id = leaseId } end
  return { tag = "H", since = now, gen = s.gen + 1, openings = s.openings, lastOpenFor = s.lastOpenFor, failures = 0,
    untilAt = 0, inFlight = inFlight, successes = 0, leases = leases, windows = nil }
end
local function openPeriod(k, hint)
  local p = openFor[math.min(k, nOpen)]
  if hint ~= nil and hint > p then p = hint end
  return math.max(0, math.min(p, maxOpenFor))
end
local function trip(s, hint)
  local before = s.openings
  if s.tag == "C" and now - s.since >= s.lastOpenFor then before = 0 end
  local period = openPeriod(before + 1, hint)
  return { tag = "O", since = now, gen = s.gen + 1, openings = before + 1, lastOpenFor = period, failures = 0,
    untilAt = now + period, inFlight = 0, successes = 0, leases = {}, windows = nil }
end
local function tripReason(s)
  for i = 1, nRules do
    local r = rules[i]
    if r.kind == 1 then
      if s.failures >= r.failures then return "ConsecutiveFailures" end
    else
      local w = s.windows and s.windows[i]
      if w and w.calls >= r.minimumCalls then
        if r.kind == 2 then
          if w.failures / w.calls >= r.threshold then return "FailureRate" end
        elseif w.slow / w.calls >= r.threshold then
          return "SlowCallRate"
        end
      end
    end
  end
  return nil
end
-- Frees the slot of the caller's lease, by name when it has one, else the oldest.
local function dropLease(s)
  if leaseId ~= "" then
    for i = 1, #s.leases do
      if s.leases[i].id == leaseId then table.remove(s.leases, i); return true end
    end
    return false
  end
  if #s.leases > 0 then table.remove(s.leases, 1) end
  return true
end

local raw = redis.call("GET", key)
local state = decode(raw)
local dirty = raw == false
-- A closed circuit that starts counting failures is announced too (see the end).
local failuresBefore = state.failures

-- \`count\` closed-state outcomes of one kind (the machine's onClosedOutcome, applied count times):
-- successes at once (they never trip a rule), failures and slow calls one by one, each followed by
-- the trip check. Returns the next state and the trip reason, if any.
local function closedOutcome(s, bits, count, hint)
  if bits ~= 0 and count > 1 then
    for _ = 1, count do
      local after, why = closedOutcome(s, bits, 1, hint)
      if why then return after, why end
    end
    return s, nil
  end
  if bits == 1 or bits == 3 then
    s.failures = s.failures + count
    dirty = true
  elseif s.failures ~= 0 then
    s.failures = 0
    dirty = true
  end
  if hasWindows then
    if not s.windows then
      s.windows = {}
      for i = 1, nRules do s.windows[i] = false end
    end
    for i = 1, nRules do
      local r = rules[i]
      if r.kind ~= 1 then
        if not s.windows[i] then s.windows[i] = makeWindow(r) end
        recordN(s.windows[i], bits, count)
      end
    end
    dirty = true
  end
  if bits ~= 0 then
    local why = tripReason(s)
    if why then return trip(s, hint), why end
  end
  return s, nil
end
-- Probe leases: a probe whose process died frees its slot when its lease expires.
if state.tag == "H" and #state.leases > 0 then
  local kept = {}
  for _, l in ipairs(state.leases) do if l.at > now then kept[#kept + 1] = l end end
  if #kept ~= #state.leases then
    state.leases = kept
    state.inFlight = #kept
    dirty = true
  end
end

local nextState = state
local reason = nil
local outTicket = 0

if ev == "A" then
  if state.tag == "C" then
    outTicket = state.gen
  elseif state.tag == "O" then
    if now < state.untilAt then
      outTicket = -1
    else
      nextState = halfOpenFrom(state, 1)
      reason = "OpenElapsed"
      outTicket = nextState.gen
    end
  elseif state.tag == "H" then
    if state.inFlight >= probes then
      outTicket = -1
    else
      state.inFlight = state.inFlight + 1
      state.leases[#state.leases + 1] = { at = now + lease, id = leaseId }
      dirty = true
      outTicket = state.gen
    end
  else
    outTicket = -1
  end
elseif ev == "S" or ev == "W" or ev == "F" then
  local bits = 0
  if ev == "W" then bits = 2 elseif ev == "F" then bits = 1; if failSlow then bits = 3 end end
  local hint = nil
  if ev == "F" then hint = retryAfter end
  if state.tag == "C" then
    nextState, reason = closedOutcome(state, bits, 1, hint)
    if reason then outTicket = -1 end
  elseif state.tag == "H" and ticket == state.gen then
    if bits == 1 or bits == 3 or (bits == 2 and hasSlowRule) then
      nextState = trip(state, hint)
      reason = "ProbeFailed"
      outTicket = -1
    elseif state.successes + 1 >= toClose then
      nextState = closedFrom(state, state.openings)
      reason = "ProbesSucceeded"
    else
      state.successes = state.successes + 1
      state.inFlight = math.max(0, state.inFlight - 1)
      dropLease(state)
      dirty = true
    end
  end
elseif ev == "M" then
  -- A replica's flush: counted only in the closed generation its calls were admitted in (fencing:
  -- outcomes of a closed period the fleet has left behind change nothing).
  -- A key that expired while the fleet saw only quiet successes is the same closed circuit.
  if state.tag == "C" and (ticket == state.gen or raw == false) then
    local t = split(runs, " ")
    for i = 1, #t - 1, 2 do
      local hint = nil
      local bits = tonumber(t[i])
      if bits == 1 or bits == 3 then hint = retryAfter end
      nextState, reason = closedOutcome(state, bits, tonumber(t[i + 1]), hint)
      if reason then break end
    end
  end
elseif ev == "I" then
  if state.tag == "H" and ticket == state.gen and state.inFlight > 0 then
    state.inFlight = state.inFlight - 1
    dropLease(state)
    dirty = true
  end
elseif ev == "L" then
  -- An admission its caller gave up on (no reply in time): free its probe slot if it took one.
  if state.tag == "H" and leaseId ~= "" and state.inFlight > 0 and dropLease(state) then
    state.inFlight = state.inFlight - 1
    dirty = true
  end
elseif ev == "T" then
  if state.tag == "O" and now >= state.untilAt then
    nextState = halfOpenFrom(state, 0)
    reason = "OpenElapsed"
  elseif state.tag == "C" and state.windows then
    for i = 1, nRules do if state.windows[i] then advance(state.windows[i]) end end
    dirty = true
  end
elseif ev == "H" then
  if state.tag == "O" then
    if closeOnHealthy then nextState = closedFrom(state, state.openings) else nextState = halfOpenFrom(state, 0) end
    reason = "HealthCheck"
  end
elseif ev == "X" then
  if state.tag ~= "I" then
    nextState = { tag = "I", since = now, gen = state.gen + 1, openings = state.openings, lastOpenFor = state.lastOpenFor,
      failures = 0, untilAt = 0, inFlight = 0, successes = 0, leases = {}, windows = nil }
    reason = "Isolated"
  end
elseif ev == "R" then
  nextState = closedFrom(state, 0)
  nextState.lastOpenFor = 0
  reason = "Reset"
end

local encoded = encode(nextState)
if ev ~= "G" then
  if reason ~= nil or dirty then
    if nextState.tag == "I" then
      redis.call("SET", key, encoded)
    else
      local ttl = idle
      if nextState.tag == "O" then ttl = ttl + math.max(0, nextState.untilAt - now) end
      if nextState.tag == "H" then ttl = ttl + lease end
      redis.call("SET", key, encoded, "PX", fmt(math.max(1, math.floor(ttl))))
    end
  elseif state.tag == "C" then
    redis.call("PEXPIRE", key, fmt(math.max(1, math.floor(idle))))
  end
end
local fromTag = ""
if reason ~= nil then fromTag = state.tag end
-- Published: every transition, and a closed circuit whose consecutive failures leave 0 (so that
-- replicas which saw none send their next successes, which clear them, as in strict mode).
-- key, state, time, from-tag, reason: what a replica needs to adopt the state and announce the
-- change. Numbered (KEYS[2] counts the publications), so a replica that missed one knows it.
local counting = reason == nil and nextState.tag == "C" and failuresBefore == 0 and nextState.failures > 0
if channel ~= "" and (reason ~= nil or counting) then
  local seq = redis.call("INCR", KEYS[2])
  redis.call("PUBLISH", channel, key .. "\\n" .. encoded .. "\\n" .. fmt(now) .. "\\n" .. fromTag .. "\\n" .. (reason or "") .. "\\n" .. seq)
end
return { encoded, fromTag, reason or "", fmt(outTicket), fmt(now) }
`

/** The script's reply: the state after the event, the transition's from-tag and reason (empty when none), the ticket and the time used. */
export type Reply = readonly [string, string, string, string, string]

/** Event codes understood by the script. `G` reads the state without changing it; `M` merges a replica's flush. */
export type Code = "A" | "S" | "W" | "F" | "I" | "T" | "H" | "X" | "R" | "G" | "L" | "M"

/**
 * The breaker script: key, event code, ticket, failure-was-slow, retry-after hint, explicit now,
 * config, lease, idle, lease id, the channel transitions are published on (and the key that
 * numbers them), and a flush's runs.
 */
export const script = Redis.script(
  (
    key: string,
    code: Code,
    ticket: number,
    slow: boolean,
    retryAfter: number | undefined,
    now: number | undefined,
    config: string,
    leaseMillis: number,
    idleMillis: number,
    leaseId: string = "",
    channel: string = "",
    runs: string = ""
  ) => [
    key,
    ...(channel === "" ? [] : [channel]),
    code,
    String(ticket),
    slow ? "1" : "0",
    retryAfter === undefined ? "" : String(retryAfter),
    now === undefined ? "" : String(now),
    config,
    String(leaseMillis),
    String(idleMillis),
    leaseId,
    channel,
    runs
  ],
  // With a channel, its name is also the key counting the transitions published on it.
  { lua, numberOfKeys: (...params) => (params[10] === undefined || params[10] === "" ? 1 : 2) }
).withReturnType<Reply>()

/** How many openings of the `openFor` schedule are sent; later openings reuse the last (as the breaker expands schedules). */
const OPEN_FOR_STEPS = 32

/** The machine's config as the script reads it: space-separated numbers. */
export const encodeConfig = (config: M.Config): string => {
  const out: Array<number> = [config.probes, config.successesToClose, config.closeOnHealthy ? 1 : 0, config.maxOpenFor]
  out.push(OPEN_FOR_STEPS)
  for (let k = 1; k <= OPEN_FOR_STEPS; k++) out.push(config.openFor(k))
  out.push(config.rules.length)
  for (const rule of config.rules) {
    if (rule._tag === "Consecutive") {
      out.push(1, rule.failures)
      continue
    }
    out.push(rule._tag === "FailureRate" ? 2 : 3, rule.threshold, rule.minimumCalls)
    if (rule.window._tag === "Count") out.push(1, rule.window.size)
    else out.push(2, rule.window.millis, rule.window.buckets)
  }
  return out.map(String).join(" ")
}

/** An event as the script's code, ticket, slow flag and hint. */
export const encodeEvent = (event: M.Event): readonly [Code, number, boolean, number | undefined] => {
  switch (event._tag) {
    case "Admit":
      return ["A", 0, false, undefined]
    case "Success":
      return ["S", event.ticket, false, undefined]
    case "Slow":
      return ["W", event.ticket, false, undefined]
    case "Failure":
      return ["F", event.ticket, event.slow, event.retryAfter]
    case "Ignored":
      return ["I", event.ticket, false, undefined]
    case "Tick":
      return ["T", 0, false, undefined]
    case "Healthy":
      return ["H", 0, false, undefined]
    case "Isolate":
      return ["X", 0, false, undefined]
    case "Reset":
      return ["R", 0, false, undefined]
  }
}

const tags: Record<string, M.StateTag> = { C: "Closed", O: "Open", H: "HalfOpen", I: "Isolated" }

/** A state tag from the script's one-letter code. */
export const tagOf = (code: string): M.StateTag => tags[code] ?? "Closed"

const decodeWindow = (text: string, rule: M.Rule | undefined): W.Window | undefined => {
  if (text === "-" || rule === undefined || rule._tag === "Consecutive") return undefined
  const t = text.split(" ")
  if (t[0] === "c") {
    const digits = t[5] ?? ""
    const outcomes = new Uint8Array(digits.length)
    for (let i = 0; i < digits.length; i++) outcomes[i] = digits.charCodeAt(i) - 48
    return { _tag: "Count", outcomes, next: Number(t[1]), calls: Number(t[2]), failures: Number(t[3]), slow: Number(t[4]) }
  }
  const spec = rule.window
  const buckets = spec._tag === "Time" ? spec.buckets : 1
  const millis = spec._tag === "Time" ? spec.millis : 1
  return {
    _tag: "Time",
    bucketMillis: Math.max(1, millis / buckets),
    size: buckets,
    counts: Uint32Array.from(t.slice(6).map(Number)),
    head: Number(t[1]),
    headStart: Number(t[2]),
    calls: Number(t[3]),
    failures: Number(t[4]),
    slow: Number(t[5])
  }
}

/** The machine's state from the script's string. */
export const decodeState = (text: string, config: M.Config): M.State => {
  const [head = "", , windows = ""] = text.split(";")
  const f = head.split(" ")
  const tag = tags[f[0] ?? "C"] ?? "Closed"
  const common = { since: Number(f[1]), generation: Number(f[2]), openings: Number(f[3]), lastOpenFor: Number(f[4]) }
  switch (tag) {
    case "Closed":
      return {
        _tag: "Closed",
        ...common,
        failures: Number(f[5]),
        windows: windows === "" ? undefined : windows.split("/").map((w, i) => decodeWindow(w, config.rules[i]))
      }
    case "Open":
      return { _tag: "Open", ...common, until: Number(f[6]) }
    case "HalfOpen":
      return { _tag: "HalfOpen", ...common, inFlight: Number(f[7]), successes: Number(f[8]) }
    case "Isolated":
      return { _tag: "Isolated", ...common }
  }
}

/** The script's reply as a machine step, plus the time it used. */
export const decodeReply = (reply: Reply, config: M.Config): { readonly step: M.Step; readonly now: number } => {
  const state = decodeState(reply[0], config)
  const now = Number(reply[4])
  const transition: M.Transition | undefined = reply[2] === ""
    ? undefined
    : { from: tags[reply[1]] ?? "Closed", to: state._tag, at: now, reason: reply[2] as M.Reason }
  return { step: [state, transition, Number(reply[3])], now }
}
