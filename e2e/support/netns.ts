/**
 * A throw-away network namespace for WebRTC tests: Chromium gathers no ICE candidates with loopback alone,
 * so the namespace gets a veth pair (10.77.0.1/24 and 10.77.0.2/24, both ends inside it). Everything the
 * test starts inside it (signal, the hub, Chromium) can reach only itself: no packet leaves the machine, and
 * nothing outside can reach in. Needs root and iproute2; `netnsUnavailable()` says why not, for a skip.
 */
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ManagedProcess, chromiumPath, repoRoot, tempDir } from "./harness.ts"

export interface Netns {
  readonly name: string
  /** Starts a TypeScript entry point (with tsx) inside the namespace. */
  startTs(name: string, args: string[], env?: Record<string, string>): ManagedProcess
  /** A wrapper that runs the system Chromium inside the namespace (for Playwright's executablePath). */
  chromiumWrapper(): Promise<string>
  destroy(): void
}

/** Why namespace-based specs cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create a network namespace (CI runs as root)"
  if (spawnSync("ip", ["-V"]).status !== 0) return "needs iproute2 (`ip`) to create a network namespace"
  return undefined
}

function ip(...args: string[]) {
  const r = spawnSync("ip", args, { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed: ${r.stderr.trim()}`)
}

export function createNetns(): Netns {
  const name = `vigil-${process.pid}-${randomBytes(3).toString("hex")}`
  ip("netns", "add", name)
  try {
    ip("-n", name, "link", "set", "lo", "up")
    ip("-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
    ip("-n", name, "addr", "add", "10.77.0.1/24", "dev", "v0")
    ip("-n", name, "addr", "add", "10.77.0.2/24", "dev", "v1")
    ip("-n", name, "link", "set", "v0", "up")
    ip("-n", name, "link", "set", "v1", "up")
  } catch (err) {
    spawnSync("ip", ["netns", "del", name])
    throw err
  }
  let destroyed = false
  const destroy = () => {
    if (destroyed) return
    destroyed = true
    // Deleting the namespace deletes the veth pair in it.
    spawnSync("ip", ["netns", "del", name])
  }
  process.once("exit", destroy)
  return {
    name,
    startTs(procName, args, env = {}) {
      const child = spawn("ip", ["netns", "exec", name, process.execPath, "--import", "tsx", ...args], {
        cwd: repoRoot,
        env: { ...process.env, LOG_LEVEL: "info", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      })
      return new ManagedProcess(procName, child)
    },
    async chromiumWrapper() {
      const dir = await tempDir("chromium")
      const path = join(dir, "chromium-in-netns")
      await writeFile(path, `#!/bin/sh\nexec ip netns exec ${name} ${chromiumPath()} "$@"\n`)
      await chmod(path, 0o755)
      return path
    },
    destroy,
  }
}
