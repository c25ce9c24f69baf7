/**
 * User story: my home has two cameras. I open "All cameras" and see both live at once; I tap the garden to
 * see it alone, then switch to the front door with the picker — without pairing again.
 *
 * Runs inside a throw-away network namespace (Chromium gathers no ICE candidates on loopback alone). Which
 * camera a tile shows is what the hub signed in its live answer (`data-served-camera`), and each tile counts
 * the frames it decoded itself.
 */
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { chromium, expect, test, type Locator } from "@playwright/test"
import {
  pairByLink,
  phoneLaunchOptions,
  removeDir,
  repoRoot,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"
import { createNetns, netnsUnavailable } from "./support/netns.ts"

const shots = join(repoRoot, "test-results/screenshots")
const unavailable = netnsUnavailable()
const frames = async (view: Locator) => Number((await view.getAttribute("data-frames")) ?? "0")

test("a grid shows every camera live; a tile opens one; the picker switches camera", async () => {
  test.skip(unavailable !== undefined, `live cameras spec skipped: ${unavailable}`)
  const netns = createNetns()
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profile = await tempDir("profile")
  const procs: ManagedProcess[] = []
  const camera = (id: string, name: string) => ({
    id,
    name,
    kind: "synthetic",
    width: 320,
    height: 180,
    fps: 15,
    cycleSeconds: 600,
    detectObjects: false,
  })
  const config = join(hubDir, "hub.json")
  await writeFile(
    config,
    JSON.stringify({ cameras: [camera("front-door", "Front door"), camera("garden", "Garden")] }),
  )
  try {
    const signal = await startSignal(signalDir, { start: netns.startTs })
    procs.push(signal.proc)
    const signalUrl = signal.url
    const hub = netns.startTs("hub", [
      "hub/src/cli.ts",
      "start",
      "--config",
      config,
      "--signal",
      signalUrl,
      "--data-dir",
      hubDir,
      "--name",
      "Test home",
    ])
    procs.push(hub)
    const context = await chromium.launchPersistentContext(
      profile,
      phoneLaunchOptions(await netns.chromiumWrapper()),
    )
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      await pairByLink(hub, page)
      await hub.waitForLine(/Phone paired/)

      // Act: all cameras at once.
      await page.getByTestId("live-grid-button").click({ timeout: 30_000 })

      // Assert: one tile per camera, each served that camera by the hub and decoding its own frames.
      const tiles = page.getByTestId("live-tile")
      await expect(tiles).toHaveCount(2)
      for (const id of ["front-door", "garden"]) {
        const tile = page.locator(`[data-testid="live-tile"][data-camera-id="${id}"]`)
        await expect(tile).toHaveAttribute("data-served-camera", id, { timeout: 30_000 })
        await expect.poll(() => frames(tile), { timeout: 30_000 }).toBeGreaterThanOrEqual(30)
      }
      await page.screenshot({ path: join(shots, "12-live-grid.png") })

      // Act: tap the garden's tile.
      await page.locator('[data-testid="live-tile"][data-camera-id="garden"] canvas').click()

      // Assert: the garden alone, full width.
      const view = page.getByTestId("live-view")
      await expect(tiles).toHaveCount(0)
      await expect(view).toHaveAttribute("data-served-camera", "garden", { timeout: 30_000 })
      await expect.poll(() => frames(view), { timeout: 30_000 }).toBeGreaterThanOrEqual(15)

      // Act: switch to the front door with the picker.
      const before = await frames(view)
      await page.getByTestId("live-camera").selectOption("front-door")

      // Assert: the hub now serves the front door in the same view; frames keep coming.
      await expect(view).toHaveAttribute("data-served-camera", "front-door", { timeout: 30_000 })
      await expect.poll(() => frames(view), { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 15)
      await expect(page.getByTestId("live-state")).toHaveText("Live")
      const switches = await page.evaluate(
        () => (globalThis as { vigilLiveStats?: { cameraSwitches: number } }).vigilLiveStats?.cameraSwitches,
      )
      expect(switches).toBe(1)
      await page.screenshot({ path: join(shots, "13-live-switched.png") })
      await page.getByRole("button", { name: "Close live view" }).click()
    } finally {
      await context.close()
    }
  } finally {
    for (const p of [...procs].reverse()) await p.stop()
    netns.destroy()
    await Promise.all([signalDir, hubDir, profile].map(removeDir))
  }
})
