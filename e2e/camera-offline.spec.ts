/**
 * User story: the camera at the front door hangs (its stream stops, the connection stays). A few minutes
 * later my phone says "Front door offline — No video since 14:02", and the app says so above the
 * timeline; when the camera sends video again, both say it is back. The relay carries only ciphertext.
 *
 * The camera here is the synthetic one, frozen with SIGSTOP (a hung camera: no exit, no error, no video)
 * and thawed with SIGCONT. `offlineAlertSeconds` is 5 s so the spec does not wait five minutes.
 */
import { readFileSync, readdirSync } from "node:fs"
import { expect, test } from "@playwright/test"
import { pairByLink } from "./support/harness.ts"
import { pushDeliverer, shownNotifications, startPushHousehold } from "./support/push.ts"

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

/**
 * Delivers a push through DevTools until `shown` holds (at most 4 times, 10 s apart). DevTools' delivery to
 * a worker the browser is restarting is sometimes lost; the same push twice shows one notification (its tag).
 */
async function deliverUntil(deliver: () => Promise<void>, shown: () => Promise<boolean>) {
  for (let attempt = 0; attempt < 4; attempt++) {
    await deliver()
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (await shown()) return
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error("the push was delivered 4 times and never shown")
}

test.setTimeout(240_000)

test("a hung camera raises the offline notification and the app's notice; its return clears both", async () => {
  // One motion cycle in ten minutes: no clip (and no new epoch) while the spec runs.
  const home = await startPushHousehold({ cycleSeconds: 600, hubConfig: { offlineAlertSeconds: 5 } })
  const { relay, hub, context } = home
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
    await deliverUntil(
      () => deliver(offlinePush),
      async () => (await shownNotifications(probe)).some((n) => n.title === "Front door offline"),
    )
    const offline = (await shownNotifications(probe)).find((n) => n.title === "Front door offline")!
    expect(offline.tag).toBe("camera-front-door")
    expect(offline.body).toMatch(/^No video since \d/)
    await expect(news).toContainText("Front door offline since", { timeout: 30_000 })

    // Act: the camera sends video again.
    for (const pid of frozen) process.kill(pid, "SIGCONT")
    await hub.waitForLine(/camera back online/, 60_000)

    // Assert: the "back" push replaces the notification (same tag); the app's notice goes away.
    await expect.poll(() => relay.payloads.length, { timeout: 30_000 }).toBeGreaterThan(pushesBefore + 1)
    const backPush = relay.payloads.at(-1)!
    await deliverUntil(
      () => deliver(backPush),
      async () => (await shownNotifications(probe)).some((n) => n.title === "Front door is back"),
    )
    expect((await shownNotifications(probe)).filter((n) => n.tag === "camera-front-door")).toEqual([
      expect.objectContaining({ title: "Front door is back" }),
    ])
    await expect(news).toBeHidden({ timeout: 30_000 })
  } finally {
    await home.close()
  }
})
