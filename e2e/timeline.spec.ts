/**
 * User story: events arrive on my phone's timeline with a picture and an unread mark; I filter them, play a
 * clip that streams (verified record by record) and seek in it, save it, and delete it — from my phone and
 * from the relay. A clip altered at the relay shows an error and never reaches the video decoder.
 */
import { expect, test, type Page } from "@playwright/test"
import { existsSync } from "node:fs"
import { open, readFile } from "node:fs/promises"
import { join } from "node:path"
import {
  pairByLink,
  launchPhone,
  listFiles,
  removeDir,
  repoRoot,
  startHub,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"

const shots = join(repoRoot, "test-results/screenshots")
const labels = ["person", "pet", "vehicle", "motion"]

/** Events whose clip arrived (not sightings still recording). */
const clips = (page: Page) => page.locator('[data-testid="event"]:not([aria-label*="still recording"])')

test("timeline: unread, filter, streamed playback with seek, save, delete, tampered clip", async () => {
  test.setTimeout(300_000)
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profile = await tempDir("profile")
  const procs: ManagedProcess[] = []
  const signal = await startSignal(signalDir)
  procs.push(signal.proc)
  const hub = await startHub({ signalUrl: signal.url, dataDir: hubDir, cycleSeconds: 8 })
  procs.push(hub)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    await pairByLink(hub, page)

    // A new event appears with its thumbnail and an unread mark.
    const first = clips(page).first()
    await expect(first).toBeVisible({ timeout: 90_000 })
    await expect(first.getByTestId("thumbnail")).toBeVisible({ timeout: 30_000 })
    expect(
      await first.getByTestId("thumbnail").evaluate((img: HTMLImageElement) => img.naturalWidth),
    ).toBeGreaterThan(0)
    await expect(first.getByTestId("unread")).toBeVisible()
    await expect(first).toHaveAttribute("aria-label", /^Unread: /)
    await expect(page.getByTestId("unread-count")).toHaveText(/\d+ unread/)
    // Two clips, so one is left after the delete below.
    await expect.poll(() => clips(page).count(), { timeout: 120_000 }).toBeGreaterThanOrEqual(2)
    await expect(clips(page).nth(1).getByTestId("thumbnail")).toBeVisible({ timeout: 30_000 })
    const rowId = (b: HTMLElement) => b.closest("li")!.dataset.eventId!
    const keptId = await clips(page).nth(1).evaluate(rowId)
    await page.screenshot({ path: join(shots, "timeline-01-list.png") })

    // Filter by label: the clip's own label keeps it, another label hides it.
    const label = (await first.getAttribute("data-label"))!
    const other = labels.find((l) => l !== label)!
    await page.getByTestId(`filter-label-${other}`).click()
    await expect(page.getByTestId(`filter-label-${other}`)).toHaveAttribute("aria-pressed", "true")
    await expect(page.locator(`[data-testid="event"]:not([data-label="${other}"])`)).toHaveCount(0)
    await page.getByTestId(`filter-label-${other}`).click()
    await page.getByTestId(`filter-label-${label}`).click()
    await expect(clips(page).first()).toBeVisible()
    await expect(page.locator(`[data-testid="event"]:not([data-label="${label}"])`)).toHaveCount(0)
    await page.screenshot({ path: join(shots, "timeline-02-filters.png") })
    await page.getByTestId("filter-label-all").click()
    await expect(page.getByTestId("filter-label-all")).toHaveAttribute("aria-pressed", "true")

    // Keyboard: the first clip opens from the keyboard.
    const eventId = await first.evaluate(rowId)
    const row = page.locator(`li[data-event-id="${eventId}"] [data-testid="event"]`)
    await row.focus()
    await page.keyboard.press("Enter")

    // The clip streams through Media Source Extensions, decodes and plays.
    const dialog = page.getByTestId("player")
    await expect(dialog).toBeVisible()
    const video = page.getByTestId("clip-video")
    await expect(video).toBeVisible({ timeout: 30_000 })
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames), {
        timeout: 30_000,
      })
      .toBeGreaterThan(0)
    const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime)
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
      .toBeGreaterThan(t1)
    await expect(dialog).toHaveAttribute("data-path", "mse", { timeout: 30_000 })
    expect(await video.evaluate((v: HTMLVideoElement) => v.src.startsWith("blob:"))).toBe(true)
    await page.screenshot({ path: join(shots, "timeline-03-player.png") })

    // Seek within what arrived.
    const end = await video.evaluate((v: HTMLVideoElement) => v.buffered.end(v.buffered.length - 1))
    expect(end).toBeGreaterThan(1)
    const target = Math.min(1, end / 2)
    const seeked = await video.evaluate(
      (v: HTMLVideoElement, to: number) =>
        new Promise<number>((resolve) => {
          v.addEventListener("seeked", () => resolve(v.currentTime), { once: true })
          v.currentTime = to
        }),
      target,
    )
    expect(Math.abs(seeked - target)).toBeLessThan(0.1)
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
      .toBeGreaterThan(seeked)

    // Save: a verified MP4, named after the camera and time.
    const save = page.getByTestId("clip-save")
    await expect(save).toHaveAttribute("href", /^blob:/, { timeout: 30_000 })
    const [download] = await Promise.all([page.waitForEvent("download"), save.click()])
    expect(download.suggestedFilename()).toMatch(/^vigil-[a-z0-9-]+-\d{4}-\d{2}-\d{2}-\d{4}\.mp4$/)
    const saved = await readFile((await download.path())!)
    expect(saved.subarray(4, 8).toString("latin1")).toBe("ftyp")
    expect(saved.length).toBeGreaterThan(1000)

    // Delete, after confirming: gone from the phone and from signal's blob store.
    const blobId = (await dialog.getAttribute("data-blob-id"))!
    const blobPath = join(signalDir, "blobs", blobId.slice(0, 2), blobId)
    expect(existsSync(blobPath)).toBe(true)
    await page.getByTestId("clip-delete").click()
    await expect(page.getByTestId("clip-delete-confirm")).toBeVisible()
    expect(existsSync(blobPath), "nothing is deleted before the confirmation").toBe(true)
    await page.getByTestId("clip-delete-confirm").click()
    await expect(dialog).toHaveCount(0, { timeout: 20_000 })
    await expect(page.locator(`li[data-event-id="${eventId}"]`)).toHaveCount(0)
    expect(existsSync(blobPath)).toBe(false)
    await page.reload()
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 30_000 })
    // The stored events show at once after a reload (not only when the mailbox brings news).
    await expect(page.locator(`li[data-event-id="${keptId}"]`)).toBeVisible({ timeout: 5_000 })
    await expect(page.locator(`li[data-event-id="${eventId}"]`)).toHaveCount(0)

    // Mark all read: no unread marks are left.
    await page.getByTestId("mark-all-read").click()
    await expect(page.getByTestId("unread-count")).toHaveText("All read")
    await expect(page.getByTestId("unread")).toHaveCount(0)

    // A clip altered at signal: stop the hub (no new clips), flip a byte in the first record of every
    // stored blob, then open a clip. The error shows and no <video> ever exists to take data.
    await hub.stop()
    for (const path of await listFiles(join(signalDir, "blobs"))) {
      const file = await open(path, "r+")
      const byte = Buffer.alloc(1)
      await file.read(byte, 0, 1, 100)
      byte[0]! ^= 0x01
      await file.write(byte, 0, 1, 100)
      await file.close()
    }
    await page.evaluate(() => {
      const w = window as unknown as { videoSeen: boolean }
      w.videoSeen = false
      new MutationObserver((records) => {
        for (const r of records)
          for (const n of Array.from(r.addedNodes))
            if (n instanceof HTMLElement && (n.tagName === "VIDEO" || n.querySelector("video")))
              w.videoSeen = true
      }).observe(document.body, { childList: true, subtree: true })
    })
    await page.locator(`li[data-event-id="${keptId}"] [data-testid="event"]`).click()
    await expect(page.getByTestId("clip-error")).toBeVisible({ timeout: 30_000 })
    await expect(page.getByTestId("clip-error")).toContainText("altered")
    await expect(page.getByTestId("clip-video")).toHaveCount(0)
    expect(await page.evaluate(() => (window as unknown as { videoSeen: boolean }).videoSeen)).toBe(false)
    await page.screenshot({ path: join(shots, "timeline-04-tampered.png") })
  } finally {
    await context.close()
    for (const p of procs.reverse()) await p.stop()
    await Promise.all([signalDir, hubDir, profile].map(removeDir))
  }
})
