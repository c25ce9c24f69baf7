/**
 * A household's internet in throw-away network namespaces, for the deployment spec:
 *
 *   hub    192.168.1.2 ─┐
 *   phoneA 192.168.1.3 ─┴─ home (lan 192.168.1.1, wan 203.0.113.2, cone NAT) ─────┐
 *                                                                                  ├─ pub: 203.0.113.1
 *   phoneB 10.1.0.2 ────── mobile (lan 10.1.0.1, wan 203.0.113.3, cone or symmetric) ─┘  relay.test, acme.test
 *
 * Names resolve by DNS, as on the internet: dnsmasq on the public host answers for relay.test and acme.test,
 * and every namespace's resolv.conf points at it (`ip netns exec` bind-mounts /etc/netns/<name>/resolv.conf
 * over /etc/resolv.conf). A hosts file is not enough: Chromium resolves STUN servers' names by DNS only. The routers masquerade and drop
 * unsolicited inbound traffic, as home routers and carrier-grade NATs do. The INPUT rules matter: with Linux
 * NAT, an early ICE check from the other side that reaches the router itself creates a conntrack entry for
 * exactly the tuple the router's own outbound mapping needs a moment later, and masquerade then picks another
 * port, so hole punching would fail even between "cone" NATs; a dropped, unconfirmed entry claims nothing. 203.0.113.0/24 is a documentation range; every address lives only in here.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { ManagedProcess, chromiumPath, repoRoot, tempDir } from "./harness.ts"

export type HouseholdNode = "pub" | "home" | "hub" | "phoneA" | "mobile" | "phoneB"
export const publicAddress = "203.0.113.1"
export const relayDomain = "relay.test"
export const acmeDomain = "acme.test"

export interface Household {
  exec(node: HouseholdNode, cmd: string, ...args: string[]): string
  spawn(
    node: HouseholdNode,
    name: string,
    cmd: string,
    args: string[],
    opts?: { env?: Record<string, string>; stdin?: boolean },
  ): ManagedProcess & { answer: (line: string) => void }
  /**
   * The mobile network's NAT: "cone" keeps the source port (hole punching works), "symmetric" picks a new
   * random port per destination, like carrier-grade NATs (only the TURN relay gets through). New flows only.
   */
  setMobileNat(kind: "cone" | "symmetric"): void
  /** Phone B's network changes under it: a new address behind a new public address, every mapping lost. */
  movePhoneB(): void
  /** A wrapper that runs the system Chromium inside a namespace, with HOME set (its NSS trust store). */
  chromiumWrapper(node: HouseholdNode, home: string): Promise<string>
  destroy(): Promise<void>
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`)
  return r.stdout
}

export async function createHousehold(): Promise<Household> {
  const id = `${process.pid}-${randomBytes(2).toString("hex")}`
  const nodes: HouseholdNode[] = ["pub", "home", "hub", "phoneA", "mobile", "phoneB"]
  const ns = Object.fromEntries(nodes.map((n) => [n, `vhh-${id}-${n}`])) as Record<HouseholdNode, string>
  const ipn = (node: HouseholdNode, ...args: string[]) => run("ip", ["-n", ns[node], ...args])
  const inNs = (node: HouseholdNode, cmd: string, ...args: string[]) =>
    run("ip", ["netns", "exec", ns[node], cmd, ...args])
  const veth = (a: HouseholdNode, aName: string, b: HouseholdNode, bName: string) =>
    run("ip", ["link", "add", aName, "netns", ns[a], "type", "veth", "peer", "name", bName, "netns", ns[b]])
  const bridge = (node: HouseholdNode, name: string, address: string) => {
    ipn(node, "link", "add", name, "type", "bridge")
    ipn(node, "addr", "add", address, "dev", name)
    ipn(node, "link", "set", name, "up")
  }

  let destroyed = false
  let dns: ChildProcess | undefined
  const destroy = async () => {
    if (destroyed) return
    destroyed = true
    dns?.kill()
    for (const name of Object.values(ns)) {
      spawnSync("ip", ["netns", "del", name])
      await rm(`/etc/netns/${name}`, { recursive: true, force: true })
    }
  }
  process.once("exit", () => void destroy())

  try {
    for (const node of nodes) {
      run("ip", ["netns", "add", ns[node]])
      ipn(node, "link", "set", "lo", "up")
      await mkdir(`/etc/netns/${ns[node]}`, { recursive: true })
      await writeFile(`/etc/netns/${ns[node]}/hosts`, "127.0.0.1 localhost\n")
      await writeFile(`/etc/netns/${ns[node]}/resolv.conf`, `nameserver ${publicAddress}\n`)
    }
    bridge("pub", "br0", `${publicAddress}/24`)
    const routers = [
      { router: "home", wan: "203.0.113.2", lan: "192.168.1", hosts: ["hub", "phoneA"], nat: [] },
      { router: "mobile", wan: "203.0.113.3", lan: "10.1.0", hosts: ["phoneB"], nat: [] },
    ] as const
    for (const { router, wan, lan, hosts, nat } of routers) {
      veth(router, "wan", "pub", `p-${router}`)
      ipn("pub", "link", "set", `p-${router}`, "master", "br0", "up")
      ipn(router, "addr", "add", `${wan}/24`, "dev", "wan")
      ipn(router, "link", "set", "wan", "up")
      bridge(router, "lan", `${lan}.1/24`)
      hosts.forEach((host, i) => {
        veth(router, `p-${host}`, host, "eth0")
        ipn(router, "link", "set", `p-${host}`, "master", "lan", "up")
        ipn(host, "addr", "add", `${lan}.${i + 2}/24`, "dev", "eth0")
        ipn(host, "link", "set", "eth0", "up")
        ipn(host, "route", "add", "default", "via", `${lan}.1`)
      })
      inNs(router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
      inNs(router, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE", ...nat)
      for (const chain of ["FORWARD", "INPUT"]) {
        inNs(
          router,
          "iptables",
          "-A",
          chain,
          "-i",
          "wan",
          "-m",
          "conntrack",
          "--ctstate",
          "ESTABLISHED,RELATED",
          "-j",
          "ACCEPT",
        )
        inNs(router, "iptables", "-A", chain, "-i", "wan", "-j", "DROP")
      }
    }
    // The internet's DNS, for the two names this internet has.
    dns = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns.pub,
        "dnsmasq",
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        `--listen-address=${publicAddress}`,
        "--pid-file=",
        "--user=root",
        `--address=/${relayDomain}/${publicAddress}`,
        `--address=/${acmeDomain}/${publicAddress}`,
      ],
      { stdio: "ignore" },
    )
  } catch (err) {
    await destroy()
    throw err
  }

  return {
    exec: inNs,
    spawn(node, name, cmd, args, opts = {}) {
      const child = spawn("ip", ["netns", "exec", ns[node], cmd, ...args], {
        cwd: repoRoot,
        env: { ...process.env, LOG_LEVEL: "info", ...opts.env },
        stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      })
      const proc = new ManagedProcess(name, child)
      return Object.assign(proc, { answer: (line: string) => void child.stdin?.write(`${line}\n`) })
    },
    setMobileNat(kind) {
      inNs("mobile", "iptables", "-t", "nat", "-F", "POSTROUTING")
      inNs(
        "mobile",
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
    },
    movePhoneB() {
      // Removing the router's address drops its masquerade mappings; Chromium notices its own new address.
      ipn("mobile", "addr", "del", "203.0.113.3/24", "dev", "wan")
      ipn("mobile", "addr", "add", "203.0.113.4/24", "dev", "wan")
      ipn("phoneB", "addr", "del", "10.1.0.2/24", "dev", "eth0")
      ipn("phoneB", "addr", "add", "10.1.0.3/24", "dev", "eth0")
      ipn("phoneB", "route", "add", "default", "via", "10.1.0.1")
    },
    async chromiumWrapper(node, home) {
      const dir = await tempDir("chromium")
      const path = join(dir, "chromium-in-netns")
      await writeFile(
        path,
        `#!/bin/sh\nexport HOME=${home}\nexec ip netns exec ${ns[node]} ${chromiumPath()} "$@"\n`,
      )
      await chmod(path, 0o755)
      return path
    },
    destroy,
  }
}

/** Whether the deployment spec can run here, or why not. */
export function householdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root to create network namespaces (CI runs as root)"
  for (const [cmd, arg, pkg] of [
    ["ip", "-V", "iproute2"],
    ["iptables", "-V", "iptables"],
    ["turnserver", "--help", "coturn"],
    ["caddy", "version", "caddy"],
    ["pebble", "-version", "pebble"],
    ["certutil", "-H", "libnss3-tools"],
    ["setpriv", "--version", "util-linux"],
    ["openssl", "version", "openssl"],
    ["tcpdump", "--version", "tcpdump"],
    ["dnsmasq", "--version", "dnsmasq-base"],
  ] as const) {
    if (spawnSync(cmd, [arg], { stdio: "ignore" }).error) return `needs ${cmd} (Debian package ${pkg})`
  }
  return undefined
}
