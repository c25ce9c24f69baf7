/**
 * Runs INSIDE a fresh network namespace (started by noContact.test.ts with `unshare -n`): loopback plus a
 * veth pair with a default route, so any packet to an address that is not on this machine would leave
 * through the veth, where it is counted and described. Starts a relay on 127.0.0.1, the real hub CLI with
 * object detection on, and a phone that pairs and receives a clip; prints one JSON line with what crossed
 * the veth.
 */
import "fake-indexeddb/auto"
import { spawn, spawnSync } from "node:child_process"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { decodeInvite } from "@vigil/protocol"
import { startTestRelay } from "@vigil/signal"
import { LocalStore, PhoneSpace } from "@vigil/web"

const sh = (cmd: string) => {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`)
}
sh("ip link set lo up")
sh("ip link add v0 address 02:00:00:00:00:01 type veth peer name v1")
sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
sh("ip addr add 10.77.0.1/24 dev v0 && ip addr add 10.77.0.2/24 dev v1")
sh("ip link set v0 up && ip link set v1 up")
// The default gateway is a made-up neighbour with a fixed MAC (v0's), so packets leave without waiting for
// ARP and the sniffer sees their real destination.
sh("ip neigh add 10.77.0.3 lladdr 02:00:00:00:00:01 dev v1 nud permanent")
sh("ip route add default via 10.77.0.3 dev v1")

async function txPackets(): Promise<number> {
  const text = await readFile("/proc/net/dev", "utf8")
  let total = 0
  for (const line of text.split("\n")) {
    const m = /^\s*(v0|v1):\s*(.*)$/.exec(line)
    // Columns: rx bytes packets errs drop fifo frame compressed multicast, then tx bytes packets ...
    if (m) total += Number(m[2]?.trim().split(/\s+/)[9] ?? 0)
  }
  return total
}

const packets: string[] = []
const sniffer = spawn("/usr/bin/python3", [new URL("./sniff.py", import.meta.url).pathname, "v1"], {
  stdio: ["ignore", "pipe", "ignore"],
})
await new Promise<void>((resolve) => {
  createInterface({ input: sniffer.stdout }).on("line", (line) =>
    line === "ready" ? resolve() : packets.push(line),
  )
  sniffer.once("error", () => resolve())
  sniffer.once("exit", () => resolve())
})

const before = await txPackets()
const dir = await mkdtemp(join(tmpdir(), "vigil-nocontact-"))
const relay = await startTestRelay()
const config = join(dir, "hub.json")
await writeFile(
  config,
  JSON.stringify({
    name: "No contact",
    signalUrl: relay.url,
    dataDir: join(dir, "hub"),
    cameras: [{ id: "yard", name: "Yard", kind: "synthetic", cycleSeconds: 8, motionSeconds: 2 }],
    recording: { preRollSeconds: 2, postRollSeconds: 1, maxClipSeconds: 10 },
  }),
)
const cli = new URL("../../src/cli.ts", import.meta.url).pathname
const hub = spawn(process.execPath, ["--import", "tsx", cli, "start", "--config", config], {
  stdio: ["ignore", "pipe", "pipe"],
  // Not a terminal: the hub prints its pairing link only when asked to.
  env: { ...process.env, LOG_LEVEL: "warn", VIGIL_PAIRING_LINK_ON_STDOUT: "1" },
})
const hubLines: string[] = []
const link = await new Promise<string>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no pairing link:\n${hubLines.join("\n")}`)), 60_000)
  const onLine = (line: string) => {
    hubLines.push(line)
    const m = /Pairing link: (\S+)/.exec(line)
    if (m?.[1]) {
      clearTimeout(timer)
      resolve(m[1])
    }
  }
  createInterface({ input: hub.stdout }).on("line", onLine)
  createInterface({ input: hub.stderr }).on("line", onLine)
})
const store = await LocalStore.open("nocontact-phone")
const phone = await PhoneSpace.pair(store, decodeInvite(link.slice(link.indexOf("#pair=") + 6)), () => {})
void phone.run()
const deadline = Date.now() + 45_000
let events = await store.listEvents(10)
while (events.length === 0 && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 250))
  events = await store.listEvents(10)
}
const clipBytes = events[0] ? (await phone.loadClip(events[0])).length : 0

const exited = new Promise((r) => hub.once("exit", r))
hub.kill("SIGTERM")
await exited
phone.stop()
store.close()
await relay.close()
await new Promise((r) => setTimeout(r, 300))
const after = await txPackets()
sniffer.kill()
await rm(dir, { recursive: true, force: true })
process.stdout.write(
  `${JSON.stringify({ events: events.length, label: events[0]?.label, clipBytes, txPackets: after - before, packets, hub: hubLines.slice(-20) })}\n`,
)
process.exit(0)
