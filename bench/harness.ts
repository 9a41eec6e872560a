/**
 * A small benchmark harness for ratios measured in one run on a noisy, shared machine: every case
 * is measured in several interleaved rounds (so a burst of load hits all cases alike), each round
 * keeps mitata's median ns/call, and the reported figure is the median over rounds.
 */
import { measure } from "mitata"

export interface Case {
  readonly name: string
  /** The case its ratio is computed against (defaults to the group's first case). */
  readonly baseline?: string
  readonly run: () => unknown
}

export interface Group {
  readonly name: string
  readonly cases: ReadonlyArray<Case>
}

export interface Result {
  readonly group: string
  readonly name: string
  readonly baseline: string
  readonly nsPerCall: number
  readonly ratio: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const runGroups = async (
  groups: ReadonlyArray<Group>,
  options: { readonly rounds?: number; readonly cpuTimeMs?: number } = {}
): Promise<Array<Result>> => {
  const rounds = options.rounds ?? 5
  const samples = new Map<string, Array<number>>()
  const key = (g: Group, c: Case) => `${g.name}\u0000${c.name}`
  // Round 0 warms the JIT for every case and is not recorded.
  for (let round = 0; round <= rounds; round++) {
    for (const group of groups) {
      for (const c of group.cases) {
        const stats = await measure(c.run, { min_cpu_time: (options.cpuTimeMs ?? 150) * 1e6 })
        if (round === 0) continue
        const list = samples.get(key(group, c)) ?? []
        list.push(stats.p50)
        samples.set(key(group, c), list)
      }
    }
  }
  const results: Array<Result> = []
  for (const group of groups) {
    const ns = new Map(group.cases.map((c) => [c.name, median(samples.get(key(group, c))!)]))
    for (const c of group.cases) {
      const baseline = c.baseline ?? group.cases[0]!.name
      results.push({ group: group.name, name: c.name, baseline, nsPerCall: ns.get(c.name)!, ratio: ns.get(c.name)! / ns.get(baseline)! })
    }
  }
  return results
}

export const toMarkdown = (results: ReadonlyArray<Result>): string => {
  const lines = ["| group | case | ns/call | ratio | vs |", "|---|---|---:|---:|---|"]
  for (const r of results) {
    lines.push(`| ${r.group} | ${r.name} | ${r.nsPerCall.toFixed(0)} | ${r.ratio.toFixed(2)}× | ${r.baseline} |`)
  }
  return lines.join("\n")
}
