/**
 * User story: the camera at the front door hangs (its stream stops, the connection stays). A few minutes
 * later my phone says "Front door offline — No video since 14:02", and the app says so above the
 * timeline; when the camera sends video again, both say it is back. The relay carries only ciphertext.
 *
 * The camera here is the synthetic one, frozen with SIGSTOP (a hung camera: no exit, no error, no video)
 * and thawed with SIGCONT. `offlineAlertSeconds` is 5 s so the spec does not wait five minutes.
 */
import { readFileSync, readdirSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { expect, test } from "@playwright/test"
import { pairByLink, removeDir, startHub, tempDir, type ManagedProcess } from "./support/harness.ts"
import {
  launchInspectablePhone,
  pushDeliverer,
  shownNotifications,
  startCapturingRelay,
  startPushSignal,
} from "./support/push.ts"

/** The camera's ffmpeg: a descendant of the hub whose command line reads from lavfi. */
function cameraPids(hubPid: number): number[] {
  const parents = new Map<number, number>()
  const commands = new Map<number, string>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]))
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, "utf8"))
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === hubPid) return true
    return false
  }
  return [...commands].filter(([pid, cmd]) => cmd.includes("lavfi") && descends(pid)).map(([pid]) => pid)
}

test.setTimeout(240_000)

test("a hung camera raises the offline notification and the app's notice; its return clears both", async () => {
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profile = await tempDir("profile")
  const procs: ManagedProcess[] = []
  const signal = await startPushSignal(signalDir)
  procs.push(signal.proc)
  const relay = await startCapturingRelay(signal.url)
  const config = join(hubDir, "hub.json")
  await writeFile(config, JSON.stringify({ offlineAlertSeconds: 5 }))
  // One motion cycle in ten minutes: no clip (and no new epoch) while the spec runs.
  const hub = await startHub({ signalUrl: relay.url, dataDir: hubDir, cycleSeconds: 600, configPath: config })
  procs.push(hub)
  const context = await launchInspectablePhone(profile)
  await context.grantPermissions(["notifications"], { origin: relay.url })
  try {
    const app = context.pages()[0] ?? (await context.newPage())
    await pairByLink(hub, app)
    await expect
      .poll(() => app.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    const news = app.getByTestId("hub-news")
    await expect(news).toBeHidden()
    const { probe, deliver } = await pushDeliverer(context, relay.url)

    // Act: the camera hangs.
    await expect.poll(() => cameraPids(hub.child.pid!).length, { timeout: 30_000 }).toBeGreaterThan(0)
    const frozen = cameraPids(hub.child.pid!)
    const pushesBefore = relay.payloads.length
    for (const pid of frozen) process.kill(pid, "SIGSTOP")
    await hub.waitForLine(/camera offline: no video/, 60_000)

    // Assert: the push, opened on the phone only, names the camera and when video stopped; the app says so.
    await expect.poll(() => relay.payloads.length, { timeout: 30_000 }).toBeGreaterThan(pushesBefore)
    const offlinePush = relay.payloads.at(-1)!
    expect(Buffer.from(offlinePush, "base64url").toString("latin1")).not.toMatch(/front door|offline/i)
    await deliver(offlinePush)
    await expect
      .poll(async () => (await shownNotifications(probe)).map((n) => n.title), { timeout: 30_000 })
      .toContain("Front door offline")
    const offline = (await shownNotifications(probe)).find((n) => n.title === "Front door offline")!
    expect(offline.tag).toBe("camera-front-door")
    expect(offline.body).toMatch(/^No video since \d/)
    await expect(news).toContainText("Front door offline since", { timeout: 30_000 })

    // Act: the camera sends video again.
    for (const pid of frozen) process.kill(pid, "SIGCONT")
    await hub.waitForLine(/camera back online/, 60_000)

    // Assert: the "back" push replaces the notification (same tag); the app's notice goes away.
    await expect.poll(() => relay.payloads.length, { timeout: 30_000 }).toBeGreaterThan(pushesBefore + 1)
    await deliver(relay.payloads.at(-1)!)
    await expect
      .poll(async () => (await shownNotifications(probe)).filter((n) => n.tag === "camera-front-door"), {
        timeout: 30_000,
      })
      .toEqual([expect.objectContaining({ title: "Front door is back" })])
    await expect(news).toBeHidden({ timeout: 30_000 })
  } finally {
    await context.close()
    for (const p of procs.reverse()) await p.stop()
    relay.server.close()
    await Promise.all([signalDir, hubDir, profile].map(removeDir))
  }
})
