/**
 * A small internet in throw-away network namespaces, for NAT traversal tests:
 *
 *   hub 192.168.1.2 ── natA (lan 192.168.1.1, wan 203.0.113.2) ─┐
 *                                                              ├─ pub: bridge 203.0.113.1 (signal + coturn)
 *   phone 10.1.0.2 ─── natB (lan 10.1.0.1,    wan 203.0.113.3) ─┘
 *
 * The NAT routers masquerade with iptables: "cone" keeps the source port (endpoint-independent mapping, so
 * ICE hole punching works); "symmetric" adds `--random-fully` (a new random port per destination, like
 * carrier-grade NATs: hole punching fails, only the TURN relay gets through). Both drop unsolicited inbound
 * traffic. 203.0.113.0/24 is a documentation range; every address lives only inside these namespaces.
 */
import { spawn, spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ManagedProcess, chromiumPath, repoRoot, tempDir } from "./harness.ts"

export type NatKind = "cone" | "symmetric"
export type NodeName = "pub" | "natA" | "hub" | "natB" | "phone"

export const publicHost = "203.0.113.1"

export interface NatTopology {
  ns(node: NodeName): string
  /** Runs a command inside a namespace and returns its stdout (throws on failure). */
  exec(node: NodeName, cmd: string, ...args: string[]): string
  /** Starts a long-running program inside a namespace. */
  spawn(
    node: NodeName,
    name: string,
    cmd: string,
    args: string[],
    env?: Record<string, string>,
  ): ManagedProcess
  /** Starts a TypeScript entry point (with tsx) inside a namespace. */
  startTs(node: NodeName, name: string, args: string[], env?: Record<string, string>): ManagedProcess
  /** A wrapper that runs the system Chromium inside a namespace (for Playwright's executablePath). */
  chromiumWrapper(node: NodeName): Promise<string>
  /** Sets both routers' NAT behaviour (new flows only; existing mappings stay). */
  setNat(kind: NatKind): void
  /** The phone's network changes under it: natB gets a new public address, every mapping is lost. */
  movePhoneNetwork(): void
  destroy(): void
}

/** Why NAT specs cannot run here, or undefined when they can. */
export function natUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create network namespaces (CI runs as root)"
  for (const [cmd, arg, pkg] of [
    ["ip", "-V", "iproute2"],
    ["iptables", "-V", "iptables"],
    ["turnserver", "--help", "coturn"],
    ["tcpdump", "--version", "tcpdump"],
  ] as const) {
    const r = spawnSync(cmd, [arg], { stdio: "ignore" })
    if (r.error) return `needs ${cmd} (Debian package ${pkg})`
  }
  return undefined
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`)
  return r.stdout
}

export function createNatTopology(): NatTopology {
  const id = `${process.pid}-${randomBytes(2).toString("hex")}`
  const names: Record<NodeName, string> = {
    pub: `vnat-${id}-pub`,
    natA: `vnat-${id}-natA`,
    hub: `vnat-${id}-hub`,
    natB: `vnat-${id}-natB`,
    phone: `vnat-${id}-phone`,
  }
  const ipn = (node: NodeName, ...args: string[]) => run("ip", ["-n", names[node], ...args])
  const inNs = (node: NodeName, cmd: string, ...args: string[]) =>
    run("ip", ["netns", "exec", names[node], cmd, ...args])
  let destroyed = false
  const destroy = () => {
    if (destroyed) return
    destroyed = true
    // Deleting a namespace deletes its end of every veth pair (and so the pair).
    for (const ns of Object.values(names)) spawnSync("ip", ["netns", "del", ns])
  }
  process.once("exit", destroy)

  const setNat = (kind: NatKind) => {
    for (const router of ["natA", "natB"] as const) {
      inNs(router, "iptables", "-t", "nat", "-F", "POSTROUTING")
      inNs(
        router,
        "iptables",
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-o",
        "wan",
        "-j",
        "MASQUERADE",
        ...(kind === "symmetric" ? ["--random-fully"] : []),
      )
    }
  }

  try {
    for (const ns of Object.values(names)) run("ip", ["netns", "add", ns])
    for (const node of Object.keys(names) as NodeName[]) ipn(node, "link", "set", "lo", "up")
    ipn("pub", "link", "add", "br0", "type", "bridge")
    ipn("pub", "addr", "add", `${publicHost}/24`, "dev", "br0")
    ipn("pub", "link", "set", "br0", "up")
    const routers = [
      { router: "natA", host: "hub", wan: "203.0.113.2", lan: "192.168.1" },
      { router: "natB", host: "phone", wan: "203.0.113.3", lan: "10.1.0" },
    ] as const
    for (const { router, host, wan, lan } of routers) {
      const port = `p-${router}`
      run("ip", [
        "link",
        "add",
        "wan",
        "netns",
        names[router],
        "type",
        "veth",
        "peer",
        "name",
        port,
        "netns",
        names.pub,
      ])
      ipn("pub", "link", "set", port, "master", "br0", "up")
      ipn(router, "addr", "add", `${wan}/24`, "dev", "wan")
      ipn(router, "link", "set", "wan", "up")
      run("ip", [
        "link",
        "add",
        "lan",
        "netns",
        names[router],
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        names[host],
      ])
      ipn(router, "addr", "add", `${lan}.1/24`, "dev", "lan")
      ipn(router, "link", "set", "lan", "up")
      ipn(host, "addr", "add", `${lan}.2/24`, "dev", "eth0")
      ipn(host, "link", "set", "eth0", "up")
      ipn(host, "route", "add", "default", "via", `${lan}.1`)
      inNs(router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
      // A home router: replies to what went out get in, nothing else does.
      inNs(
        router,
        "iptables",
        "-A",
        "FORWARD",
        "-i",
        "wan",
        "-m",
        "conntrack",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-j",
        "ACCEPT",
      )
      inNs(router, "iptables", "-A", "FORWARD", "-i", "wan", "-j", "DROP")
      // Unsolicited packets to the router itself are dropped before their conntrack entry is confirmed: an
      // early ICE check from the other side would otherwise claim the tuple that this router's own mapping
      // needs a moment later, and masquerade would pick another port (hole punching would then fail).
      inNs(
        router,
        "iptables",
        "-A",
        "INPUT",
        "-i",
        "wan",
        "-m",
        "conntrack",
        "--ctstate",
        "ESTABLISHED,RELATED",
        "-j",
        "ACCEPT",
      )
      inNs(router, "iptables", "-A", "INPUT", "-i", "wan", "-j", "DROP")
    }
    setNat("cone")
  } catch (err) {
    destroy()
    throw err
  }

  const spawnIn = (
    node: NodeName,
    name: string,
    cmd: string,
    args: string[],
    env: Record<string, string> = {},
  ) =>
    new ManagedProcess(
      name,
      spawn("ip", ["netns", "exec", names[node], cmd, ...args], {
        cwd: repoRoot,
        env: { ...process.env, LOG_LEVEL: "info", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    )

  return {
    ns: (node) => names[node],
    exec: inNs,
    spawn: spawnIn,
    startTs: (node, name, args, env) =>
      spawnIn(node, name, process.execPath, ["--import", "tsx", ...args], env),
    async chromiumWrapper(node) {
      const dir = await tempDir("chromium")
      const path = join(dir, "chromium-in-netns")
      await writeFile(path, `#!/bin/sh\nexec ip netns exec ${names[node]} ${chromiumPath()} "$@"\n`)
      await chmod(path, 0o755)
      return path
    },
    setNat,
    movePhoneNetwork() {
      // A new network: the phone gets a new address (Chromium notices, like a phone switching Wi-Fi → mobile)
      // behind a NAT with a new public address. Removing natB's address drops its masquerade mappings.
      ipn("natB", "addr", "del", "203.0.113.3/24", "dev", "wan")
      ipn("natB", "addr", "add", "203.0.113.4/24", "dev", "wan")
      ipn("phone", "addr", "del", "10.1.0.2/24", "dev", "eth0")
      ipn("phone", "addr", "add", "10.1.0.3/24", "dev", "eth0")
      ipn("phone", "route", "add", "default", "via", "10.1.0.1")
    },
    destroy,
  }
}
