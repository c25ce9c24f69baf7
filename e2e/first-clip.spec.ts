/**
 * User story: I start the system, open the pairing link on my phone, and when the camera sees motion the
 * clip appears on my phone and plays — while the relay in the middle only ever stores ciphertext.
 */
import { expect, test } from "@playwright/test"
import { join } from "node:path"
import {
  pairByLink,
  launchPhone,
  listFiles,
  readAll,
  removeDir,
  repoRoot,
  startHub,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("a paired phone receives a motion clip and plays it; signal stores no plaintext", async () => {
  // Arrange
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profile = await tempDir("profile")
  const procs: ManagedProcess[] = []
  const signal = await startSignal(signalDir)
  procs.push(signal.proc)
  const hub = await startHub({ signalUrl: signal.url, dataDir: hubDir, cycleSeconds: 10 })
  procs.push(hub)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())

    // Act: pair by opening the link, as a phone would after scanning the hub's code.
    const link = await pairByLink(hub, page)
    expect(link.startsWith(`${signal.url}/#pair=`)).toBe(true)
    await hub.waitForLine(/Phone paired/)
    await page.screenshot({ path: join(shots, "01-paired.png") })

    // Act: the synthetic camera's object passes; a clip is recorded, encrypted, relayed and announced.
    const event = page.getByTestId("event").first()
    await expect(event).toBeVisible({ timeout: 90_000 })
    // Its thumbnail is decrypted on the phone and shown in the list.
    const thumbnail = event.getByTestId("thumbnail")
    await expect(thumbnail).toBeVisible({ timeout: 20_000 })
    expect(await thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0)
    await page.screenshot({ path: join(shots, "02-events.png") })
    await event.click()

    // Assert: the decrypted clip decodes and plays.
    const video = page.getByTestId("clip-video")
    await expect(video).toBeVisible({ timeout: 30_000 })
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames), {
        timeout: 20_000,
      })
      .toBeGreaterThan(0)
    const t1 = await video.evaluate((v: HTMLVideoElement) => v.currentTime)
    await expect
      .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
      .toBeGreaterThan(t1)
    await page.screenshot({ path: join(shots, "03-player.png") })

    // Known plaintext: bytes of the clip as the phone decrypted it (the verified file Save exports).
    const save = page.getByTestId("clip-save")
    await expect(save).toHaveAttribute("href", /^blob:/, { timeout: 30_000 })
    const sample = await save.evaluate(async (a: HTMLAnchorElement) => {
      const b = new Uint8Array(await (await fetch(a.href)).arrayBuffer())
      const mid = Math.floor(b.length / 2)
      return {
        size: b.length,
        head: Array.from(b.subarray(0, 48)),
        mid: Array.from(b.subarray(mid, mid + 48)),
      }
    })
    expect(Buffer.from(sample.head.slice(4, 8)).toString("latin1")).toBe("ftyp")

    // Assert: nothing signal stored holds an MP4 box signature or the clip's bytes.
    const stored = await readAll(await listFiles(signalDir))
    const sizes = [...stored.values()].map((b) => b.length)
    expect(Math.max(...sizes), "the encrypted clip is stored at signal").toBeGreaterThanOrEqual(sample.size)
    const ftypWithBrand = Buffer.from(sample.head.slice(4, 12))
    for (const [path, bytes] of stored) {
      expect(bytes.includes(ftypWithBrand), `${path} holds an ftyp box`).toBe(false)
      expect(/moov[\s\S]{4}mvhd/.test(bytes.toString("latin1")), `${path} holds a moov box`).toBe(false)
      expect(bytes.includes(Buffer.from(sample.head)), `${path} holds the clip's first bytes`).toBe(false)
      expect(bytes.includes(Buffer.from(sample.mid)), `${path} holds bytes from the clip's middle`).toBe(
        false,
      )
    }
  } finally {
    await context.close()
    for (const p of procs.reverse()) await p.stop()
    await Promise.all([signalDir, hubDir, profile].map(removeDir))
  }
})
