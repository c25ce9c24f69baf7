/** Arrange helpers for pairing by discovery: a hub with a console, phones that pick it and compare codes. */
import { expect, type BrowserContext, type Page } from "@playwright/test"
import { join } from "node:path"
import {
  launchPhone,
  removeDir,
  repoRoot,
  startHubWithConsole,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./harness.ts"

const shots = join(repoRoot, "test-results/screenshots")

export type ConsoleHub = ReturnType<typeof startHubWithConsole>

/** Opens the app, taps Add camera, picks the hub by name; returns the code the phone shows (digits only). */
export async function requestPairing(page: Page, url: string, deviceName: string, screenshot?: string) {
  await page.goto(url)
  await page.getByTestId("add-camera").click()
  await page.getByLabel("This phone's name").fill(deviceName)
  const hubButton = page.getByTestId("discovered-hub").filter({ hasText: "Test home" })
  await expect(hubButton).toBeVisible({ timeout: 45_000 })
  await expect(page.getByLabel("This phone's name")).toHaveValue(deviceName)
  if (screenshot) await page.screenshot({ path: join(shots, screenshot) })
  await hubButton.click()
  const code = page.getByTestId("pairing-code")
  await expect(code).toBeVisible({ timeout: 45_000 })
  return (await code.textContent())!.replace(/\s/g, "")
}

/** The code the hub printed for this device's request. */
export async function hubCode(hub: ManagedProcess, deviceName: string) {
  const escaped = deviceName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  const m = await hub.waitForLine(
    new RegExp(`Pairing request from ${escaped}\\. Code (\\d{3}) (\\d{3})\\.`),
    45_000,
  )
  return `${m[1]}${m[2]}`
}

export async function pairByDiscovery(
  page: Page,
  url: string,
  hub: ConsoleHub,
  deviceName: string,
  shotPrefix?: string,
) {
  const shown = await requestPairing(page, url, deviceName, shotPrefix && `${shotPrefix}-add-camera-list.png`)
  expect(await hubCode(hub, deviceName)).toBe(shown)
  if (shotPrefix) await page.screenshot({ path: join(shots, `${shotPrefix}-code-confirmation.png`) })
  hub.answer("y")
  await page.getByTestId("codes-match").click()
  await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
  await hub.waitForLine(new RegExp(`Phone paired: ${deviceName}`))
}

export async function setUpDiscovery(phones = 2) {
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profiles = await Promise.all(Array.from({ length: phones }, () => tempDir("profile")))
  const signal = await startSignal(signalDir)
  const hub = startHubWithConsole({ signalUrl: signal.url, dataDir: hubDir, cycleSeconds: 10 })
  const contexts: BrowserContext[] = []
  return {
    signal,
    hub,
    async phone(i: number) {
      const context = await launchPhone(profiles[i]!)
      contexts.push(context)
      return context.pages()[0] ?? (await context.newPage())
    },
    async tearDown() {
      for (const c of contexts) await c.close()
      await hub.stop()
      await signal.proc.stop()
      await Promise.all([signalDir, hubDir, ...profiles].map(removeDir))
    },
  }
}
