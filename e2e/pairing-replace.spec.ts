/**
 * User story (issue 14, finding 4): my phone is paired with my home. Someone gets me to open a pairing link
 * of another hub — even one with the same name, on the same relay. Nothing changes unless I clearly choose
 * to switch; keeping my home is the default.
 */
import { expect, test } from "@playwright/test"
import { join } from "node:path"
import {
  launchPhone,
  pairByLink,
  removeDir,
  repoRoot,
  startHub,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("a paired phone that opens another hub's link keeps its home unless the user switches", async () => {
  // Arrange: one relay, two hubs with the same name ("Test home"); the phone paired with the first.
  const dirs = await Promise.all(["signal", "hub-a", "hub-b", "profile"].map((d) => tempDir(d)))
  const [signalDir, hubADir, hubBDir, profile] = dirs as [string, string, string, string]
  const procs: ManagedProcess[] = []
  const signal = await startSignal(signalDir)
  procs.push(signal.proc)
  const home = await startHub({ signalUrl: signal.url, dataDir: hubADir, cycleSeconds: 600 })
  procs.push(home)
  const other = await startHub({ signalUrl: signal.url, dataDir: hubBDir, cycleSeconds: 600 })
  procs.push(other)
  const context = await launchPhone(profile)
  try {
    const first = context.pages()[0] ?? (await context.newPage())
    await pairByLink(home, first)
    await home.waitForLine(/Phone paired/)
    const otherLink = (await other.waitForLine(/Pairing link: (\S+)/, 60_000))[1]!

    // Act: the other hub's link opens in a new tab (as from a scanned code); the user presses Escape.
    await first.close()
    const page = await context.newPage()
    await page.goto(otherLink)
    const dialog = page.getByTestId("replace-pairing")
    await expect(dialog).toBeVisible()
    await page.screenshot({ path: join(shots, "pairing-replace-01-asked.png") })

    // Assert: both homes are named and told apart by their keys; "Keep" has the focus.
    const current = await dialog.getByTestId("current-home").innerText()
    const offered = await dialog.getByTestId("new-home").innerText()
    expect(current).toContain("Test home")
    expect(offered).toContain("Test home")
    expect(current.replace("Now", "")).not.toBe(offered.replace("Link", ""))
    await expect(page.getByTestId("keep-pairing")).toBeFocused()
    await page.keyboard.press("Escape")
    await expect(dialog).toHaveCount(0)
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 20_000 })
    await page.reload()
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 20_000 })
    expect(other.lines.some((l) => /Phone paired/.test(l))).toBe(false)

    // Act: the link again, and this time the user picks "Switch".
    await page.goto("about:blank")
    await page.goto(otherLink)
    await page.getByTestId("replace-pairing-confirm").click()

    // Assert: now paired with the other hub.
    await other.waitForLine(/Phone paired/, 45_000)
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
  } finally {
    await context.close()
    for (const p of procs.reverse()) await p.stop()
    for (const d of dirs) await removeDir(d)
  }
})
