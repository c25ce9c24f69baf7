import { spawn } from "node:child_process"

const root = new URL("../..", import.meta.url).pathname

/**
 * Runs this very bench again inside a fresh throw-away network namespace (Chromium gathers no ICE
 * candidates on loopback alone) and exits with its code; `VIGIL_BENCH_NETNS` marks the run inside.
 * Needs root and iproute2 (the caller checks).
 */
export async function rerunInNetns(): Promise<never> {
  const { createNetns } = await import("../../e2e/support/netns.ts")
  const netns = createNetns()
  const child = spawn(
    "ip",
    ["netns", "exec", netns.name, process.execPath, "--import", "tsx", ...process.argv.slice(1)],
    { cwd: root, stdio: "inherit", env: { ...process.env, VIGIL_BENCH_NETNS: netns.name } },
  )
  const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)))
  netns.destroy()
  process.exit(code)
}
