import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Schema } from "effect"
import * as M from "../../../src/internal/breaker/machine.ts"
import { countConfig } from "../../support/breakerConfig.ts"

// The machine under test: see test/support/breakerConfig.ts.
const config: M.Config = countConfig

// A reference model written from the rules in docs/circuit-breaker.md, independently of the machine.
class Model {
  tag: M.StateTag = "Closed"
  gen = 0
  since = 0
  fails = 0
  window: Array<boolean> = []
  until = 0
  openings = 0
  lastOpen = 0
  inFlight = 0
  successes = 0

  enter(tag: M.StateTag, now: number) {
    this.tag = tag
    this.gen++
    this.since = now
  }
  close(now: number) {
    this.enter("Closed", now)
    this.fails = 0
    this.window = []
  }
  open(now: number, hint?: number) {
    if (this.tag === "Closed" && now - this.since >= this.lastOpen) this.openings = 0
    this.openings++
    const scheduled = [100, 200, 400][Math.min(this.openings, 3) - 1]!
    const d = Math.min(Math.max(scheduled, hint ?? 0), 300)
    this.lastOpen = d
    this.until = now + d
    this.enter("Open", now)
  }
  halfOpen(now: number, inFlight: number) {
    this.enter("HalfOpen", now)
    this.inFlight = inFlight
    this.successes = 0
  }
  admit(now: number): number {
    switch (this.tag) {
      case "Closed":
        return this.gen
      case "Open":
        if (now < this.until) return -1
        this.halfOpen(now, 1)
        return this.gen
      case "HalfOpen":
        if (this.inFlight >= 2) return -1
        this.inFlight++
        return this.gen
      case "Isolated":
        return -1
    }
  }
  outcome(ticket: number, failed: boolean, now: number, hint?: number) {
    if (this.tag === "Closed") {
      this.fails = failed ? this.fails + 1 : 0
      this.window.push(failed)
      if (this.window.length > 6) this.window.shift()
      const rate = this.window.filter((x) => x).length / this.window.length
      if (failed && (this.fails >= 3 || (this.window.length >= 4 && rate >= 0.5))) this.open(now, hint)
    } else if (this.tag === "HalfOpen" && ticket === this.gen) {
      if (failed) return this.open(now, hint)
      this.successes++
      if (this.successes >= 2) this.close(now)
      else this.inFlight--
    }
  }
  ignored(ticket: number) {
    if (this.tag === "HalfOpen" && ticket === this.gen && this.inFlight > 0) this.inFlight--
  }
  tick(now: number) {
    if (this.tag === "Open" && now >= this.until) this.halfOpen(now, 0)
  }
  healthy(now: number) {
    if (this.tag === "Open") this.halfOpen(now, 0)
  }
  isolate(now: number) {
    if (this.tag !== "Isolated") this.enter("Isolated", now)
  }
  reset(now: number) {
    this.close(now)
    this.openings = 0
    this.lastOpen = 0
  }
}

const agree = (state: M.State, model: Model): string | undefined => {
  if (state._tag !== model.tag) return `tag ${state._tag} vs ${model.tag}`
  if (state.generation !== model.gen) return `generation ${state.generation} vs ${model.gen}`
  switch (state._tag) {
    case "Closed":
      return state.failures === model.fails ? undefined : `failures ${state.failures} vs ${model.fails}`
    case "Open":
      return state.until === model.until && state.openings === model.openings
        ? undefined
        : `until ${state.until}/${state.openings} vs ${model.until}/${model.openings}`
    case "HalfOpen":
      return state.inFlight === model.inFlight && state.successes === model.successes
        ? undefined
        : `half-open ${state.inFlight}/${state.successes} vs ${model.inFlight}/${model.successes}`
    case "Isolated":
      return undefined
  }
}

const visited = new Set<string>()
const reasons = new Set<string>()

/** Runs commands (numbers 0..999) against both; returns the first disagreement. */
const simulate = (commands: ReadonlyArray<number>): string | undefined => {
  let state: M.State = M.initial(0)
  const model = new Model()
  let now = 0
  const outstanding: Array<number> = []
  for (let i = 0; i < commands.length; i++) {
    const c = commands[i]!
    const op = c % 100
    const pick = () => outstanding.length === 0 ? -2 : outstanding.splice(Math.floor(c / 100) % outstanding.length, 1)[0]!
    let event: M.Event
    let expectTicket: number | undefined
    if (op < 30) {
      event = { _tag: "Admit" }
      expectTicket = model.admit(now)
    } else if (op < 48) {
      const ticket = pick()
      event = { _tag: "Success", ticket }
      model.outcome(ticket, false, now)
    } else if (op < 66) {
      const ticket = pick()
      const hint = op < 52 ? (c % 7) * 60 : undefined
      event = { _tag: "Failure", ticket, slow: false, retryAfter: hint }
      model.outcome(ticket, true, now, hint)
    } else if (op < 72) {
      const ticket = pick()
      event = { _tag: "Ignored", ticket }
      model.ignored(ticket)
    } else if (op < 78) {
      event = { _tag: "Tick" }
      model.tick(now)
    } else if (op < 95) {
      now += (c * 7) % 160
      continue
    } else if (op < 97) {
      event = { _tag: "Healthy" }
      model.healthy(now)
    } else if (op < 98) {
      event = { _tag: "Isolate" }
      model.isolate(now)
    } else {
      event = { _tag: "Reset" }
      model.reset(now)
    }
    const before = state._tag
    const [next, transition, ticket] = M.step(state, event, now, config)
    state = next
    visited.add(state._tag)
    if (transition !== undefined) reasons.add(transition.reason)
    if (expectTicket !== undefined) {
      if (ticket !== expectTicket) return `step ${i}: admit ticket ${ticket} vs ${expectTicket}`
      if (ticket >= 0) outstanding.push(ticket)
    }
    const problem = agree(state, model)
    if (problem !== undefined) return `step ${i} (${event._tag} at ${now}): ${problem}`
    if ((transition !== undefined) !== (before !== state._tag) && event._tag !== "Reset") {
      return `step ${i}: transition ${JSON.stringify(transition)} for ${before} -> ${state._tag}`
    }
  }
  return undefined
}

describe("CircuitBreaker machine (model-based)", () => {
  it.effect("agrees with an independent reference model on thousands of random events", () =>
    Effect.gen(function*() {
      const command = Arbitrary.schema(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 999 })))
      const commands = Arbitrary.array(command, { minLength: 1000, maxLength: 3000 })
      const result = yield* Arbitrary.checkEffect(commands, (xs) => {
        const problem = simulate(xs)
        if (problem !== undefined) throw new Error(problem)
        return true
      }, { runs: 60, seed: 7 })
      assert.isUndefined(Arbitrary.formatCheckFailure(result))
      assert.strictEqual(result._tag, "Passed")
    }))

  it("the random runs reach every state and transition reason", () => {
    assert.deepStrictEqual([...visited].sort(), ["Closed", "HalfOpen", "Isolated", "Open"])
    for (const reason of ["ConsecutiveFailures", "FailureRate", "OpenElapsed", "ProbeFailed", "ProbesSucceeded", "HealthCheck"]) {
      assert.isTrue(reasons.has(reason), reason)
    }
  })
})
