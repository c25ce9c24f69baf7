/**
 * No third-party contact: the whole system (relay on 127.0.0.1, the real hub CLI with object detection,
 * a phone that pairs and receives a clip) runs in a fresh network namespace with a default route out of a
 * veth pair; any packet to an address that is not configured would cross the veth, and fails the test.
 * Needs root (for `unshare -n`); skipped, saying so, otherwise.
 */
import { spawn, spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { findTools } from "./support/mediaTools.ts"

function namespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root"
  if (!findTools()) return "ffmpeg not found"
  const probe = spawnSync("unshare", ["-n", "ip", "link", "add", "t0", "type", "veth", "peer", "name", "t1"])
  return probe.status === 0 ? undefined : `cannot make a network namespace with a veth pair (${probe.stderr})`
}
const unavailable = namespaceUnavailable()
const scenario = new URL("./support/noContactScenario.ts", import.meta.url).pathname

describe.skipIf(unavailable !== undefined)(
  `no third-party contact${unavailable ? ` — SKIPPED: ${unavailable}` : ""}`,
  () => {
    it(
      "pairs, detects, records and delivers a clip without a packet to any unconfigured address",
      { timeout: 120_000 },
      async () => {
        const child = spawn("unshare", ["-n", process.execPath, "--import", "tsx", scenario], {
          stdio: ["ignore", "pipe", "pipe"],
        })
        let out = ""
        let err = ""
        child.stdout.on("data", (d: Buffer) => (out += d.toString()))
        child.stderr.on("data", (d: Buffer) => (err += d.toString()))
        const code = await new Promise((r) => child.once("exit", r))
        expect(code, err.slice(-3000)).toBe(0)
        const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as {
          events: number
          clipBytes: number
          txPackets: number
          packets: string[]
          hub: string[]
        }
        // The scenario did its work: a clip reached the phone and decrypted.
        expect(result.events, result.hub.join("\n")).toBeGreaterThanOrEqual(1)
        expect(result.clipBytes).toBeGreaterThan(1000)
        // Nothing tried to leave the machine.
        expect(result.packets, "packets that tried to leave").toEqual([])
        expect(result.txPackets).toBe(0)
      },
    )
  },
)
