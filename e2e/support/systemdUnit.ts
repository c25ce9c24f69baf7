/**
 * Runs a systemd service unit the way systemd would start it, for machines (CI, a container) where systemd is
 * not PID 1: its ExecStart as its User and Group, with its Environment and AmbientCapabilities (setpriv from
 * util-linux). Only what the installers in deploy/ write is understood; anything else is refused loudly.
 */
import { readFile } from "node:fs/promises"
import type { Household, HouseholdNode } from "./netnsHousehold.ts"

export interface ServiceUnit {
  path: string
  user: string
  group: string
  execStart: string[]
  environment: Record<string, string>
  ambientCapabilities: string[]
}

export async function readServiceUnit(path: string): Promise<ServiceUnit> {
  const text = await readFile(path, "utf8")
  const service = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0]
  if (!service) throw new Error(`${path}: no [Service] section`)
  const values = new Map<string, string[]>()
  for (const raw of service.split("\n")) {
    const line = raw.trim()
    if (!line || line.startsWith("#")) continue
    const eq = line.indexOf("=")
    if (eq < 1) throw new Error(`${path}: cannot read "${line}"`)
    const key = line.slice(0, eq)
    values.set(key, [...(values.get(key) ?? []), line.slice(eq + 1)])
  }
  const one = (key: string) => values.get(key)?.at(-1)
  const execStart = one("ExecStart")
  if (!execStart || /["'\\$]/.test(execStart)) throw new Error(`${path}: ExecStart missing or quoted`)
  const environment: Record<string, string> = {}
  for (const entry of (values.get("Environment") ?? []).flatMap((v) => v.split(/\s+/))) {
    const eq = entry.indexOf("=")
    environment[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return {
    path,
    user: one("User") ?? "root",
    group: one("Group") ?? one("User") ?? "root",
    execStart: execStart.split(/\s+/),
    environment,
    ambientCapabilities: (one("AmbientCapabilities") ?? "").split(/\s+/).filter(Boolean),
  }
}

/** Starts a unit's ExecStart inside a namespace, as the unit's user. */
export async function startUnit(
  net: Household,
  node: HouseholdNode,
  path: string,
  extraEnv: Record<string, string> = {},
) {
  const unit = await readServiceUnit(path)
  const caps = unit.ambientCapabilities.map((c) => `+${c.replace(/^CAP_/, "").toLowerCase()}`).join(",")
  const setpriv = [
    `--reuid=${unit.user}`,
    `--regid=${unit.group}`,
    "--init-groups",
    ...(caps ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`] : []),
    "--",
  ]
  const name = path
    .split("/")
    .pop()!
    .replace(/\.service$/, "")
  return net.spawn(node, name, "setpriv", [...setpriv, ...unit.execStart], {
    env: { ...unit.environment, ...extraEnv },
  })
}
