/**
 * User story: when a camera records a clip, my phone shows "Person — Front door, 15:02" with the picture,
 * decrypted on the phone; tapping it opens the clip; a camera set to notify for people only stays silent
 * about plain motion. The relay and the push service carry only ciphertext.
 *
 * Chromium here cannot reach a real push service (it would call Google's), so the payload travels the last
 * leg through DevTools (`ServiceWorker.deliverPushMessage`): it is the very payload the hub posted to
 * signal, taken off the wire by a byte-for-byte TCP relay between the hub and signal.
 */
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { expect, test } from "@playwright/test"
import WebSocket from "ws"
import { pairByLink, repoRoot, startHub } from "./support/harness.ts"
import { closeNotifications, pushDeliverer, shownNotifications, startPushHousehold } from "./support/push.ts"

/**
 * Runs `expression` in the phone's running service worker. Playwright keeps no handle on a worker that
 * the browser stopped and restarted (as it does around pushes), so this goes through DevTools directly.
 */
async function evaluateInServiceWorker(profile: string, expression: string): Promise<unknown> {
  const port = (await readFile(join(profile, "DevToolsActivePort"), "utf8")).split("\n")[0]
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    type: string
    webSocketDebuggerUrl: string
  }[]
  const target = targets.find((t) => t.type === "service_worker")
  if (!target) throw new Error("the service worker is not running")
  const ws = new WebSocket(target.webSocketDebuggerUrl)
  try {
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject))
    const reply = new Promise<{ result?: { result: { value?: unknown }; exceptionDetails?: unknown } }>(
      (resolve) =>
        ws.on("message", (data) => {
          const message = JSON.parse(String(data)) as {
            id?: number
            result?: { result: { value?: unknown }; exceptionDetails?: unknown }
          }
          if (message.id === 1) resolve(message)
        }),
    )
    const params = { expression, awaitPromise: true, returnByValue: true }
    ws.send(JSON.stringify({ id: 1, method: "Runtime.evaluate", params }))
    const { result } = await reply
    if (!result || result.exceptionDetails) throw new Error(`evaluation failed: ${JSON.stringify(result)}`)
    return result.result.value
  } finally {
    ws.close()
  }
}

// Pairing, one clip at 40 s, and a 20 s push-service timeout on a loaded 2-core machine.
test.setTimeout(300_000)

test("a clip's push shows the decrypted notification with its picture, and tapping it opens the clip", async () => {
  // Arrange: one clip every 40 s, so the phone is still in the clip's epoch when its push is delivered (a
  // later clip's commit would move it past, and the worker would rightly fall back to the generic text).
  const home = await startPushHousehold({ cycleSeconds: 40 })
  const { relay, hub, context, profile, hubDir } = home
  try {
    const app = context.pages()[0] ?? (await context.newPage())
    await pairByLink(hub, app)
    await expect
      .poll(() => app.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    // The app is closed before the clip: its saved MLS state stays behind the clip's epoch, and the worker
    // has to catch up from the mailbox on its own.
    expect(await app.getByTestId("event").count()).toBe(0)
    await app.close()

    // Act: the camera records a clip; the hub announces it and posts its push payload to signal.
    await expect.poll(() => relay.payloads.length, { timeout: 150_000 }).toBeGreaterThan(0)
    await hub.stop() // no more clips, no more epochs
    const payload = relay.payloads.at(-1)!
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(payload.length).toBeLessThanOrEqual(3072)
    // Nothing in clear: no camera name, no label.
    expect(Buffer.from(payload, "base64url").toString("latin1")).not.toMatch(/person|motion|test home/i)

    // A page the worker controls, to drive DevTools and read the notifications.
    const { probe, deliver } = await pushDeliverer(context, relay.url)

    await deliver(payload)

    // Assert: "<Label> — <camera>", the clip's time, its decrypted picture, one tag per clip.
    await expect.poll(async () => (await shownNotifications(probe)).length, { timeout: 30_000 }).toBe(1)
    const [shown] = await shownNotifications(probe)
    expect(shown!.title).toMatch(/^(Person|Pet|Vehicle|Motion) — \S.*$/)
    expect(shown!.tag).toMatch(/^clip-[0-9a-f]{32}$/)
    expect(shown!.icon).toMatch(/^data:image\/jpeg;base64,\/9j\//)
    const clipId = shown!.tag.slice("clip-".length)

    // Act: the app opens again; then the user taps the notification. DevTools cannot tap, so the worker
    // gets the same event the browser would dispatch.
    await probe.goto(relay.url)
    const event = probe.getByTestId("event")
    await expect(event.first()).toBeVisible({ timeout: 60_000 })
    const [label, camera] = shown!.title.split(" — ")
    // The same event as the app lists it: "<camera>, <Label>, <time> · <duration>".
    const labels = await event.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? ""))
    expect(labels.some((l) => l.includes(`${camera}, ${label}, ${shown!.body}`))).toBe(true)
    // The app is open and in the clip's epoch: the same push shows the same notification.
    await closeNotifications(probe)
    await deliver(payload)
    await expect.poll(async () => (await shownNotifications(probe)).map((n) => n.tag)).toEqual([shown!.tag])
    await evaluateInServiceWorker(
      profile,
      `(async () => {
        const [notification] = await self.registration.getNotifications({ tag: ${JSON.stringify(shown!.tag)} })
        self.dispatchEvent(new NotificationEvent("notificationclick", { notification }))
      })()`,
    )

    // Assert: the app opens that clip and plays it; the notification is gone.
    const video = probe.getByTestId("clip-video")
    await expect(video).toBeVisible({ timeout: 30_000 })
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0)
    expect(await shownNotifications(probe)).toEqual([])

    // Act: with no window open, the tap opens /#clip=<id> (what the worker's openWindow does).
    await probe.goto(`${relay.url}/#clip=${clipId}`)
    // Assert
    await expect(probe.getByTestId("clip-video")).toBeVisible({ timeout: 30_000 })

    // Act: a payload with one flipped byte (in the ciphertext).
    const bytes = Buffer.from(payload, "base64url")
    bytes[40]! ^= 0x01
    await deliver(bytes.toString("base64url"))

    // Assert: only the generic notification, with no detail of any clip.
    await expect.poll(async () => (await shownNotifications(probe)).length, { timeout: 30_000 }).toBe(1)
    const [generic] = await shownNotifications(probe)
    expect(generic).toMatchObject({ title: "Motion — Test home", tag: "vigil-event", icon: "" })
    await closeNotifications(probe)

    // Act: the user turns notifications on. Permission is granted and signal's VAPID key is fetched; the
    // browser's push service (Google's, for Chromium) is out of reach here, which the switch reports.
    await probe.keyboard.press("Escape") // closes the player
    await expect(probe.getByTestId("clip-video")).toHaveCount(0)
    await probe.locator("summary", { hasText: "Settings" }).click()
    const toggle = probe.getByTestId("notifications-switch")
    await expect(toggle).toBeEnabled({ timeout: 20_000 })
    await toggle.check()
    // Assert
    await expect(probe.getByTestId("notifications-status")).toHaveText(/push service did not answer/, {
      timeout: 60_000,
    })
    await expect(toggle).not.toBeChecked()
    await probe.screenshot({ path: join(repoRoot, "test-results/screenshots/notifications-switch.png") })

    // Act: the camera is set to notify for people only (its `notify` in the hub's config), and records a
    // plain motion clip.
    const configPath = join(hubDir, "hub.json")
    const peopleOnly = { id: "front-door", name: "Front door", kind: "synthetic", notify: ["person"] }
    await writeFile(configPath, JSON.stringify({ cameras: [peopleOnly] }))
    const posted = relay.payloads.length
    const clipsBefore = await probe.getByTestId("event").count()
    const quiet = await startHub({ signalUrl: relay.url, dataDir: hubDir, cycleSeconds: 10, configPath })
    home.track(quiet)
    await quiet.waitForLine(/Clip: motion at Front door/, 90_000)
    // Assert: the clip reaches the phone, and no push was posted for it (the hub posts right after delivery).
    await expect
      .poll(() => probe.getByTestId("event").count(), { timeout: 60_000 })
      .toBeGreaterThan(clipsBefore)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect(relay.payloads.length, "a push for a label the camera does not notify for").toBe(posted)
  } finally {
    await home.close()
  }
})
