/**
 * User story: I add Vigil to my home screen, and it opens even when the network is down.
 */
import { expect, test } from "@playwright/test"
import { launchPhone, removeDir, startSignal, tempDir } from "./support/harness.ts"

test("the PWA is installable, its service worker is active, and it reloads offline", async () => {
  // Arrange
  const signalDir = await tempDir("signal")
  const profile = await tempDir("profile")
  const signal = await startSignal(signalDir)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())

    // Act
    await page.goto(signal.url)
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    // `ready` resolves once a worker is active, possibly still "activating"; wait until it finished.
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    const cdp = await context.newCDPSession(page)
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors")

    // Assert
    expect(installabilityErrors).toEqual([])

    // Act: the server goes away and the phone is offline; the app shell still opens.
    await signal.proc.stop()
    await context.setOffline(true)
    await page.reload()

    // Assert
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    await expect(page.getByRole("heading", { name: "Add your camera" })).toBeVisible()
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, profile].map(removeDir))
  }
})
