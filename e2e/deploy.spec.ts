/**
 * User story: I put the relay on a small public host and the hub on a box at home, each with one command;
 * my phone on the home Wi-Fi opens the relay's https address, installs the app, pairs by comparing a code,
 * gets clips and watches live; my partner's phone on mobile data joins by a link from my phone (I approve it
 * by the code), watches peer to peer where the NATs allow it and through our own TURN relay where they do
 * not (which carries only ciphertext), and keeps watching when it changes networks; when the hosts restart,
 * everything comes back.
 *
 * A small internet in network namespaces (e2e/support/netnsHousehold.ts), with no insecure-origin flag and
 * no certificate flag: Debian's pebble is the ACME CA; deploy/vigil-relay installs signal, Caddy (which gets
 * its certificate from pebble by ACME) and coturn on the "public" host; deploy/vigil-hub installs the hub at
 * "home" behind a NAT; each Chromium trusts pebble's root the way a phone trusts its public CAs. systemd is
 * not PID 1 here, so the units the installers wrote are started as systemd would (support/systemdUnit.ts).
 */
import { chromium, expect, test, type BrowserContext, type Page } from "@playwright/test"
import { spawnSync } from "node:child_process"
import { chmod, readFile, readdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import pkg from "../package.json" with { type: "json" }
import { hubCode, requestPairing } from "./support/discovery.ts"
import { phoneLaunchOptions, removeDir, repoRoot, tempDir, type ManagedProcess } from "./support/harness.ts"
import {
  acmeDomain,
  createHousehold,
  householdUnavailable,
  relayDomain,
  type Household,
  type HouseholdNode,
} from "./support/netnsHousehold.ts"
import { startUnit } from "./support/systemdUnit.ts"

const shots = join(repoRoot, "test-results/screenshots")
const unavailable = householdUnavailable()
const relayUrl = `https://${relayDomain}`

const frames = (page: Page) =>
  page.evaluate(
    () => (globalThis as { vigilLiveStats?: { framesDecoded: number } }).vigilLiveStats?.framesDecoded ?? 0,
  )

function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`)
  return r.stdout
}

/** pebble's own TLS certificate (for acme.test), from a throw-away CA. */
async function pebbleTls(dir: string) {
  const at = (f: string) => join(dir, f)
  sh("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=pebble test CA",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.pem"),
  ])
  sh("openssl", [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    `/CN=${acmeDomain}`,
    "-keyout",
    at("acme.key"),
    "-out",
    at("acme.csr"),
  ])
  await writeFile(at("ext.cnf"), `subjectAltName=DNS:${acmeDomain}\n`)
  sh("openssl", [
    "x509",
    "-req",
    "-in",
    at("acme.csr"),
    "-CA",
    at("ca.pem"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    at("ext.cnf"),
    "-out",
    at("acme.pem"),
  ])
  await writeFile(
    at("pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: "0.0.0.0:14000",
        managementListenAddress: "0.0.0.0:15000",
        certificate: at("acme.pem"),
        privateKey: at("acme.key"),
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  )
  return { caPem: at("ca.pem"), config: at("pebble.json") }
}

/** A phone: Chromium in a namespace whose NSS store trusts pebble's root, and nothing else of ours. */
const selectedPair = (page: Page) =>
  page.evaluate(() => (globalThis as { vigilLiveStats?: { pair?: string } }).vigilLiveStats?.pair ?? "")

interface LiveStats {
  framesDecoded: number
  sessions: number
  iceRestarts: number
}

/** Known plaintext: 32-byte windows of the access units the page decodes (after decryption). */
function recordDecodedWindows() {
  const g = globalThis as { plainSamples?: number[][]; VideoDecoder?: typeof VideoDecoder }
  g.plainSamples = []
  const decode = g.VideoDecoder?.prototype.decode
  if (!g.VideoDecoder || !decode) return
  g.VideoDecoder.prototype.decode = function (chunk: EncodedVideoChunk) {
    if (g.plainSamples!.length < 400 && chunk.byteLength >= 96) {
      const b = new Uint8Array(chunk.byteLength)
      chunk.copyTo(b)
      const mid = Math.floor(b.length / 2)
      g.plainSamples!.push(Array.from(b.subarray(8, 40)), Array.from(b.subarray(mid, mid + 32)))
    }
    return decode.call(this, chunk)
  }
}

async function launchTrustingPhone(net: Household, node: HouseholdNode, rootPem: string) {
  const home = await tempDir(`home-${node}`)
  const nssdb = join(home, ".pki/nssdb")
  sh("mkdir", ["-p", nssdb])
  sh("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"])
  sh("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "acme-test-root", "-i", rootPem])
  const profile = await tempDir(`profile-${node}`)
  const context = await chromium.launchPersistentContext(
    profile,
    phoneLaunchOptions(await net.chromiumWrapper(node, home)),
  )
  return { context, dirs: [home, profile] }
}

test("a relay and a hub installed by their scripts serve phones over HTTPS at home and on mobile data", async () => {
  test.skip(unavailable !== undefined, `deployment spec skipped: ${unavailable}`)
  test.setTimeout(420_000)
  const started = Date.now()
  const net = await createHousehold()
  const dirs = await Promise.all(["tls", "relay-root", "hub-root"].map((p) => tempDir(`deploy-${p}`)))
  const [tlsDir, relayRoot, hubRoot] = dirs as [string, string, string]
  // Service users must reach their prefix and the CA files, as they would under / on a real host.
  for (const d of dirs) await chmod(d, 0o755)
  const procs: ManagedProcess[] = []
  const contexts: BrowserContext[] = []
  let passed = false
  const keep = <P extends ManagedProcess>(p: P): P => (procs.push(p), p)
  try {
    // Arrange: the release bundle the installers take, and an ACME CA on the public side.
    sh(process.execPath, [join(repoRoot, "scripts/release/release.mjs")])
    const bundle = join(repoRoot, "release", pkg.version, `vigil-${pkg.version}.tar.gz`)
    const tls = await pebbleTls(tlsDir)
    const pebble = keep(
      net.spawn("pub", "pebble", "pebble", ["-config", tls.config], {
        env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      }),
    )
    await pebble.waitForLine(/ACME directory available|Listening on/i)

    // Act 1: the relay, one command on the fresh public host; then its units start as systemd would.
    const relayArgs = [
      "install",
      "--domain",
      relayDomain,
      "--email",
      "ops@relay.test",
      "--bundle",
      bundle,
      "--acme-ca",
      `https://${acmeDomain}:14000/dir`,
      "--acme-ca-root",
      tls.caPem,
      "--public-ip",
      "203.0.113.1",
      "--root",
      relayRoot,
    ]
    const first = net.exec("pub", join(repoRoot, "deploy/vigil-relay"), ...relayArgs)
    expect(first).toContain("changed:")
    const units = join(relayRoot, "etc/systemd/system")
    const startRelay = async () => {
      for (const unit of ["vigil-signal", "vigil-turn", "vigil-caddy"])
        keep(await startUnit(net, "pub", join(units, `${unit}.service`)))
    }
    await startRelay()
    const rootPem = join(tlsDir, "issuer-root.pem")
    await expect
      .poll(
        async () => {
          try {
            net.exec(
              "hub",
              "curl",
              "-fsS",
              "--cacert",
              tls.caPem,
              "-o",
              rootPem,
              `https://${acmeDomain}:15000/roots/0`,
            )
            net.exec("hub", "curl", "-fsS", "--cacert", rootPem, `${relayUrl}/healthz`)
            return true
          } catch {
            return false
          }
        },
        { timeout: 60_000, intervals: [500] },
      )
      .toBe(true)
    const relayUpMs = Date.now() - started

    // Assert: a second run changes nothing; status finds nothing wrong.
    expect(net.exec("pub", join(repoRoot, "deploy/vigil-relay"), ...relayArgs)).toContain("Nothing changed")
    const status = net.exec(
      "pub",
      join(relayRoot, "usr/local/bin/vigil-relay"),
      "status",
      "--root",
      relayRoot,
    )
    expect(status).not.toContain("FAIL")
    expect(status).toContain(`certificate for ${relayDomain} valid`)

    // Act 2: the hub at home: install, then `vigil-hub setup` answers (relay, name, test camera).
    const hubCli = join(hubRoot, "usr/local/bin/vigil-hub")
    const hubEnv = { NODE_EXTRA_CA_CERTS: rootPem }
    net.exec("hub", join(repoRoot, "deploy/vigil-hub"), "install", "--bundle", bundle, "--root", hubRoot)
    const setup = net.spawn(
      "hub",
      "setup",
      join(repoRoot, "deploy/vigil-hub"),
      ["setup", "--root", hubRoot],
      {
        env: hubEnv,
        stdin: true,
      },
    )
    await setup.waitForLine(/Relay address/)
    setup.answer(relayUrl)
    await setup.waitForLine(/Name of this home/)
    setup.answer("Test home")
    await setup.waitForLine(/First camera/)
    setup.answer("test")
    await setup.waitForLine(/Camera name/)
    setup.answer("")
    await setup.waitForLine(/Saved /)
    // A quicker test picture than the default (one motion event every 10 s instead of 30).
    const configPath = join(hubRoot, "etc/vigil-hub/hub.json")
    const config = JSON.parse(await readFile(configPath, "utf8")) as { cameras: { cycleSeconds?: number }[] }
    config.cameras[0]!.cycleSeconds = 10
    await writeFile(configPath, JSON.stringify(config, null, 2))
    const hubUnit = join(hubRoot, "etc/systemd/system/vigil-hub.service")
    let hub = keep(await startUnit(net, "hub", hubUnit, hubEnv))
    await hub.waitForLine(/Pairing mode/, 60_000)

    // Act 3: phone A at home opens the relay's https address, installs, pairs by discovery.
    const phoneA = await launchTrustingPhone(net, "phoneA", rootPem)
    contexts.push(phoneA.context)
    dirs.push(...phoneA.dirs)
    const pageA = phoneA.context.pages()[0] ?? (await phoneA.context.newPage())
    const pair = keep(
      net.spawn("hub", "pair", hubCli, ["pair", "--root", hubRoot], { env: hubEnv, stdin: true }),
    )
    const link = (await pair.waitForLine(/Pairing link: (\S+)/, 30_000))[1]!
    expect(link.startsWith(`${relayUrl}/#pair=`)).toBe(true)
    const shown = await requestPairing(pageA, relayUrl, "Phone A", "30-deploy-add-camera.png")
    expect(await hubCode(pair, "Phone A")).toBe(shown)
    pair.answer("y")
    await pageA.getByTestId("codes-match").click()
    await expect(pageA.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    await pair.waitForLine(/Phone paired: Phone A/)
    await expect
      .poll(() => pageA.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    const cdp = await phoneA.context.newCDPSession(pageA)
    expect((await cdp.send("Page.getInstallabilityErrors")).installabilityErrors).toEqual([])

    // Assert: a clip arrives; live view is direct on the home network.
    const clips = pageA.locator('[data-testid="event"]:not([aria-label*="still recording"])')
    await expect(clips.first()).toBeVisible({ timeout: 60_000 })
    await pageA.getByTestId("live-button").click()
    await expect(pageA.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
    await expect.poll(() => frames(pageA), { timeout: 30_000 }).toBeGreaterThanOrEqual(30)
    const liveAMs = Date.now() - started
    await expect(pageA.getByTestId("live-path")).toHaveText("Direct", { timeout: 20_000 })
    await pageA.screenshot({ path: join(shots, "31-deploy-live-home.png") })
    await pageA.getByRole("button", { name: "Close live view" }).click()

    // Act 4: phone B on mobile data (symmetric NAT) opens a join link phone A made; phone A approves it
    // after comparing the codes (nobody is at the hub).
    await pageA.getByTestId("devices-button").click()
    await pageA.getByTestId("invite-phone").click()
    const joinLink = await pageA.getByTestId("join-link").inputValue()
    expect(joinLink.startsWith(`${relayUrl}/#join=`)).toBe(true)
    const phoneB = await launchTrustingPhone(net, "phoneB", rootPem)
    await phoneB.context.addInitScript(recordDecodedWindows)
    contexts.push(phoneB.context)
    dirs.push(...phoneB.dirs)
    const pageB = phoneB.context.pages()[0] ?? (await phoneB.context.newPage())
    await pageB.goto(joinLink)
    await pageB.getByLabel("This phone's name").fill("Phone B")
    await pageB.getByTestId("join-request").click()
    const codeB = (await pageB.getByTestId("pairing-code").textContent({ timeout: 45_000 }))!.replace(
      /\s/g,
      "",
    )
    await expect(pageA.getByTestId("pairing-approval")).toBeVisible({ timeout: 45_000 })
    expect((await pageA.getByTestId("approval-code").textContent())!.replace(/\s/g, "")).toBe(codeB)
    await pageA.screenshot({ path: join(shots, "33-deploy-approve-on-phone.png") })
    await pageA.getByTestId("approve-pairing").click()
    await pageB.getByTestId("codes-match").click()
    await expect(pageB.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    await hub.waitForLine(/Phone paired: Phone B/, 30_000)
    await pageA.getByRole("button", { name: "Close devices" }).click()
    const clipsB = pageB.locator('[data-testid="event"]:not([aria-label*="still recording"])')
    await expect(clipsB.first()).toBeVisible({ timeout: 60_000 })

    // Assert: through two NATs that keep source ports, ICE punches a hole: direct, server-reflexive pairs.
    const statsB = () =>
      pageB.evaluate(() => {
        const s = (globalThis as { vigilLiveStats?: LiveStats }).vigilLiveStats
        return {
          framesDecoded: s?.framesDecoded ?? 0,
          sessions: s?.sessions ?? 0,
          iceRestarts: s?.iceRestarts ?? 0,
        }
      })
    await pageB.getByTestId("live-button").click()
    await expect(pageB.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
    await expect.poll(() => frames(pageB), { timeout: 30_000 }).toBeGreaterThanOrEqual(30)
    // The selected pair's candidate types, this phone's first: neither end may be the relay.
    await expect
      .poll(() => selectedPair(pageB), { timeout: 20_000 })
      .toMatch(/^(srflx|prflx|host)→(srflx|prflx|host)$/)
    await expect(pageB.getByTestId("live-path")).toHaveText("Direct")
    await pageB.getByRole("button", { name: "Close live view" }).click()

    // Act 5: the mobile network turns carrier-grade (symmetric NAT): only coturn gets through. Everything to
    // and from coturn is captured.
    net.setMobileNat("symmetric")
    const pcap = join(tlsDir, "relay.pcap")
    const tcpdump = keep(
      net.spawn("pub", "tcpdump", "tcpdump", [
        "-i",
        "br0",
        "-U",
        "-s",
        "0",
        "-w",
        pcap,
        "udp and host 203.0.113.1",
      ]),
    )
    await tcpdump.waitForLine(/listening on br0/)
    await pageB.evaluate(() => ((globalThis as { plainSamples?: number[][] }).plainSamples = []))
    const beforeRelay = await statsB()
    await pageB.getByTestId("live-button").click()
    await expect(pageB.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
    await expect
      .poll(async () => (await statsB()).framesDecoded, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(beforeRelay.framesDecoded + 30)
    await expect(pageB.getByTestId("live-path")).toHaveText("Relayed", { timeout: 20_000 })
    await pageB.screenshot({ path: join(shots, "32-deploy-live-mobile.png") })

    // Act 6: phone B changes networks mid-stream. Assert: the same session comes back by an ICE restart.
    const beforeMove = await statsB()
    const movedAt = Date.now()
    net.movePhoneB()
    await expect
      .poll(async () => (await statsB()).iceRestarts, { timeout: 30_000 })
      .toBeGreaterThan(beforeMove.iceRestarts)
    await expect
      .poll(async () => (await statsB()).framesDecoded, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(beforeMove.framesDecoded + 30)
    const recoveredMs = Date.now() - movedAt
    expect((await statsB()).sessions).toBe(beforeMove.sessions)
    await hub.waitForLine(/live session ICE restart answered/)
    const samples = await pageB.evaluate(
      () => (globalThis as { plainSamples?: number[][] }).plainSamples ?? [],
    )
    await pageB.getByRole("button", { name: "Close live view" }).click()
    await tcpdump.stop()
    // Assert: coturn carried the stream, and none of the decoded frames' bytes appear in what it carried.
    const captured = await readFile(pcap)
    expect(samples.length).toBeGreaterThanOrEqual(60)
    expect(captured.length).toBeGreaterThan(200_000)
    const leaked = samples.filter((sample) => captured.includes(Buffer.from(sample)))
    expect(leaked, "plaintext frame bytes in coturn's relayed traffic").toEqual([])

    // Act 7: every service stops; the relay is upgraded to a newer release meanwhile; everything starts
    // again (a reboot of both hosts).
    const relayProcs = procs.filter((p) =>
      ["vigil-signal", "vigil-turn", "vigil-caddy", "vigil-hub"].includes(p.name),
    )
    for (const p of relayProcs) await p.stop()
    const newer = join(tlsDir, "vigil-newer")
    sh("cp", ["-a", join(repoRoot, "release", pkg.version), newer])
    const manifest = JSON.parse(await readFile(join(newer, "manifest.json"), "utf8")) as { version: string }
    await writeFile(
      join(newer, "manifest.json"),
      JSON.stringify({ ...manifest, version: `${pkg.version}-next` }),
    )
    const upgradeArgs = relayArgs.map((a) => (a === bundle ? newer : a))
    const upgrade = net.exec("pub", join(repoRoot, "deploy/vigil-relay"), ...upgradeArgs)
    expect(upgrade).toContain(`releases/${pkg.version}-next`)
    expect(upgrade).not.toContain("new secret")
    await startRelay()
    hub = keep(await startUnit(net, "hub", hubUnit, hubEnv))
    await hub.waitForLine(/phone\(s\) paired/, 60_000)

    // Assert: pairing kept (no pairing mode), a new clip reaches phone A, live works again.
    const before = await clips.count()
    await expect.poll(() => clips.count(), { timeout: 90_000 }).toBeGreaterThan(before)
    const framesBefore = await frames(pageA)
    await pageA.getByTestId("live-button").click()
    await expect(pageA.getByTestId("live-state")).toHaveText("Live", { timeout: 45_000 })
    await expect.poll(() => frames(pageA), { timeout: 30_000 }).toBeGreaterThanOrEqual(framesBefore + 30)

    // Nothing but ciphertext on the relay's disk: no file there holds an MP4 header.
    const signalData = join(relayRoot, "var/lib/vigil-relay/signal")
    const files = await readdir(signalData, { recursive: true, withFileTypes: true })
    for (const f of files.filter((e) => e.isFile())) {
      const bytes = await readFile(join(f.parentPath, f.name))
      expect(bytes.includes(Buffer.from("ftypiso")), `${f.name} holds an MP4 header`).toBe(false)
    }
    const figures =
      `relay answering over https ${(relayUpMs / 1000).toFixed(1)} s after the namespaces were made; ` +
      `phone A watching live at ${(liveAMs / 1000).toFixed(1)} s; ` +
      `${captured.length} bytes to/from coturn, ${samples.length} plaintext windows, none found; ` +
      `phone B's network change → 30 more frames in ${recoveredMs} ms`
    test.info().annotations.push({ type: "figures", description: figures })
    console.log(`deploy.spec: ${figures}`)
    passed = true
  } finally {
    // What each service said, when something went wrong: the only window into namespaces gone after this.
    if (!passed) {
      for (const p of procs) {
        const said = p.lines.filter(
          (l) => !/"msg":"(request|clip recorded|motion started|motion ended)"|^Clip: /.test(l),
        )
        console.log(`--- ${p.name}\n${said.slice(-25).join("\n")}`)
      }
      for (const [i, c] of contexts.entries())
        await c
          .pages()[0]
          ?.screenshot({ path: join(shots, `deploy-failed-phone-${i}.png`) })
          .catch(() => {})
    }
    for (const c of contexts) await c.close().catch(() => {})
    for (const p of procs.reverse()) await p.stop()
    await net.destroy()
    await Promise.all(dirs.map(removeDir))
  }
})
