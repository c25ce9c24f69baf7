/**
 * User story: I check my camera from my phone on mobile data. Behind NATs that allow hole punching the
 * picture comes peer to peer; behind symmetric (carrier-grade) NATs it comes through the household's own
 * TURN relay (coturn), which carries only ciphertext; and when my phone changes networks mid-stream, the
 * picture comes back by itself through an ICE restart, without pairing again.
 *
 * A small internet in throw-away network namespaces (e2e/support/netnsNat.ts): signal and coturn on a
 * "public" bridge, the hub behind NAT router A, the phone (Chromium) behind NAT router B.
 */
import { chromium, expect, test, type Page } from "@playwright/test"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import {
  pairByLink,
  phoneLaunchOptions,
  removeDir,
  repoRoot,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"
import { createNatTopology, natUnavailable, publicHost } from "./support/netnsNat.ts"

const shots = join(repoRoot, "test-results/screenshots")
const unavailable = natUnavailable()
const turnSecret = "nat-spec-turn-secret-0123456789abcdef"

interface PageStats {
  framesDecoded: number
  sessions: number
  iceRestarts: number
  path: string | undefined
}
const stats = (page: Page) =>
  page.evaluate(() => {
    const s = (globalThis as { vigilLiveStats?: PageStats }).vigilLiveStats
    return {
      framesDecoded: s?.framesDecoded ?? 0,
      sessions: s?.sessions ?? 0,
      iceRestarts: s?.iceRestarts ?? 0,
      path: s?.path,
    }
  })
const frames = async (page: Page) => (await stats(page)).framesDecoded

test("live view goes direct through cone NATs, relayed through symmetric NATs, and survives a network change", async () => {
  test.skip(unavailable !== undefined, `NAT spec skipped: ${unavailable}`)
  test.setTimeout(240_000)
  // Arrange: the topology, coturn from deploy/coturn/turnserver.conf, signal handing out TURN credentials.
  const net = createNatTopology()
  const dirs = await Promise.all(["signal", "hub", "profile", "turn"].map((p) => tempDir(`nat-${p}`)))
  const [signalDir, hubDir, profile, turnDir] = dirs as [string, string, string, string]
  const procs: ManagedProcess[] = []
  try {
    procs.push(
      net.spawn("pub", "coturn", "turnserver", [
        "-c",
        join(repoRoot, "deploy/coturn/turnserver.conf"),
        `--listening-ip=${publicHost}`,
        `--relay-ip=${publicHost}`,
        `--static-auth-secret=${turnSecret}`,
        "--realm=vigil.test",
        "--no-tls",
        "--no-dtls",
        // The deployed file denies private ranges; here the "public" side is a documentation range.
        "--allowed-peer-ip=203.0.113.0-203.0.113.255",
        `--pidfile=${join(turnDir, "turnserver.pid")}`,
        `--userdb=${join(turnDir, "turndb")}`,
        "--log-file=stdout",
      ]),
    )
    // signal's settings: the deploy example with this test's host and secret.
    const example = await readFile(join(repoRoot, "deploy/signal/signal.config.json"), "utf8")
    const config = JSON.parse(example.replaceAll("turn.example.org", publicHost)) as Record<string, unknown>
    config.turnSecret = turnSecret
    const configPath = join(signalDir, "signal.config.json")
    await writeFile(configPath, JSON.stringify(config))
    const signal = net.startTs("pub", "signal", [
      "signal/src/server.ts",
      "--host",
      publicHost,
      "--port",
      "0",
      "--data-dir",
      signalDir,
      "--web-root",
      join(repoRoot, "web/dist"),
      "--config",
      configPath,
    ])
    procs.push(signal)
    const signalUrl = (await signal.waitForLine(/signal listening on (http:\/\/203\.0\.113\.1:\d+)/))[1]!
    const hub = net.startTs("hub", "hub", [
      "hub/src/cli.ts",
      "start",
      "--signal",
      signalUrl,
      "--data-dir",
      hubDir,
      "--name",
      "Test home",
      "--synthetic-cycle",
      "10",
    ])
    procs.push(hub)
    const launch = phoneLaunchOptions(await net.chromiumWrapper("phone"))
    // signal is plain HTTP on a "public" address here; a deployment serves it over HTTPS.
    launch.args.push(`--unsafely-treat-insecure-origin-as-secure=${signalUrl}`)
    const context = await chromium.launchPersistentContext(profile, launch)
    // Known plaintext: 32-byte windows of the access units the phone decodes (after decryption).
    await context.addInitScript(() => {
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
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      await pairByLink(hub, page)
      await hub.waitForLine(/Phone paired/)

      // Case 1 — cone NATs: ICE punches through, the picture comes peer to peer.
      await page.getByTestId("live-button").click()
      await expect(page.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
      await expect.poll(() => frames(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(30)
      await expect(page.getByTestId("live-path")).toHaveText("Direct", { timeout: 20_000 })
      await page.screenshot({ path: join(shots, "20-live-direct.png") })
      await page.getByRole("button", { name: "Close live view" }).click()

      // Case 2 — symmetric NATs (a new random port per destination): only the relay gets through.
      net.setNat("symmetric")
      const pcap = join(turnDir, "relay.pcap")
      const tcpdump = net.spawn("pub", "tcpdump", "tcpdump", [
        "-i",
        "br0",
        "-U",
        "-s",
        "0",
        "-w",
        pcap,
        `udp and host ${publicHost}`,
      ])
      procs.push(tcpdump)
      await tcpdump.waitForLine(/listening on br0/)
      await page.evaluate(() => ((globalThis as { plainSamples?: number[][] }).plainSamples = []))
      const before = await stats(page)
      await page.getByTestId("live-button").click()
      await expect(page.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
      await expect
        .poll(() => frames(page), { timeout: 30_000 })
        .toBeGreaterThanOrEqual(before.framesDecoded + 30)
      await expect(page.getByTestId("live-path")).toHaveText("Relayed", { timeout: 20_000 })
      await page.screenshot({ path: join(shots, "21-live-relayed.png") })

      // Case 3 — the phone changes networks mid-stream (new address, new NAT, every mapping gone).
      const beforeMove = await stats(page)
      const movedAt = Date.now()
      net.movePhoneNetwork()
      // Assert: the same session recovers by ICE restart (no new session, no pairing), frames decode again.
      await expect
        .poll(async () => (await stats(page)).iceRestarts, { timeout: 30_000 })
        .toBeGreaterThan(beforeMove.iceRestarts)
      await expect
        .poll(() => frames(page), { timeout: 60_000 })
        .toBeGreaterThanOrEqual(beforeMove.framesDecoded + 30)
      const recoveredMs = Date.now() - movedAt
      await expect(page.getByTestId("live-state")).toHaveText("Live", { timeout: 30_000 })
      const afterMove = await stats(page)
      expect(afterMove.sessions).toBe(beforeMove.sessions)
      await hub.waitForLine(/live session ICE restart answered/)
      await expect(page.getByTestId("live-path")).toHaveText("Relayed")
      const samples = await page.evaluate(
        () => (globalThis as { plainSamples?: number[][] }).plainSamples ?? [],
      )
      await page.getByRole("button", { name: "Close live view" }).click()
      await tcpdump.stop()

      // Assert: coturn relayed the stream (the capture of everything to and from it holds the video's bulk),
      // and none of the decoded frames' bytes appear in it.
      const captured = await readFile(pcap)
      expect(samples.length).toBeGreaterThanOrEqual(60)
      expect(captured.length).toBeGreaterThan(200_000)
      const leaked = samples.filter((s) => captured.includes(Buffer.from(s)))
      const figures = `${captured.length} bytes to/from coturn, ${samples.length} plaintext windows, none found; network change → 30 more frames in ${recoveredMs} ms`
      test.info().annotations.push({ type: "figures", description: figures })
      console.log(`nat.spec: ${figures}`)
      expect(leaked, "plaintext frame bytes in coturn's relayed traffic").toEqual([])
    } finally {
      await context.close()
    }
  } finally {
    for (const p of procs.reverse()) await p.stop()
    net.destroy()
    await Promise.all(dirs.map(removeDir))
  }
})
