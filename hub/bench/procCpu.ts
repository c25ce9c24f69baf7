/** CPU accounting for the benchmarks, from /proc (Linux): a process's ticks and its process tree. */
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"

export const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100

/** utime+stime (+ reaped children's) of a process, in ticks; 0 if it is gone. */
export function processTicks(pid: number | "self", withReaped: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // Fields after the name: state is [0]; utime [11], stime [12], cutime [13], cstime [14].
    const own = Number(fields[11]) + Number(fields[12])
    return withReaped ? own + Number(fields[13]) + Number(fields[14]) : own
  } catch {
    return 0
  }
}

export function childrenOf(pid: number): number[] {
  const found: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim()
      if (text) found.push(...text.split(" ").map(Number))
    }
  } catch {
    // The process went away between listing and reading.
  }
  return found
}

/** Ticks of `pid`'s live descendants (each with its reaped children), leaving out `exclude` subtrees. */
export function descendantTicks(pid: number, exclude: ReadonlySet<number> = new Set()): number {
  let ticks = 0
  for (const child of childrenOf(pid)) {
    if (exclude.has(child)) continue
    ticks += processTicks(child, true) + descendantTicks(child, exclude)
  }
  return ticks
}
