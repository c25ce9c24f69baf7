/**
 * User story: my partner's phone and mine both receive the camera's clips. When a phone is lost, I remove it
 * from the Devices screen on mine: from then on it gets nothing new, while mine keeps receiving clips.
 */
import { expect, test } from "@playwright/test"
import { join } from "node:path"
import { repoRoot } from "./support/harness.ts"
import { pairByDiscovery, setUpDiscovery } from "./support/discovery.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("a second phone added and then removed stops receiving clips", async () => {
  // Arrange: phone A and phone B both paired (by discovery, each code confirmed on both sides).
  const env = await setUpDiscovery(2)
  try {
    await env.hub.waitForLine(/Pairing mode: open/, 60_000)
    const a = await env.phone(0)
    await pairByDiscovery(a, env.signal.url, env.hub, "Phone A")
    const b = await env.phone(1)
    await pairByDiscovery(b, env.signal.url, env.hub, "Phone B")
    await expect(b.getByTestId("event").first()).toBeVisible({ timeout: 90_000 })

    // Act: A opens Devices, sees both phones by name, and removes B after the warning.
    await a.getByTestId("devices-button").click()
    const devices = a.getByTestId("device")
    await expect(devices).toHaveCount(2, { timeout: 30_000 })
    await expect(devices.filter({ hasText: "Phone A" })).toContainText("This phone", { timeout: 30_000 })
    const rowB = devices.filter({ hasText: "Phone B" })
    await expect(rowB).toBeVisible()
    await a.screenshot({ path: join(shots, "devices-01-list.png") })
    await rowB.getByTestId("device-remove").click()
    await expect(rowB.getByTestId("device-remove-confirm")).toContainText(
      "It will stop receiving video immediately; its already-downloaded clips stay on it",
    )
    await a.screenshot({ path: join(shots, "devices-02-remove-warning.png") })
    await rowB.getByTestId("device-remove-yes").click()

    // Assert: B learns it was removed; A's list shrinks to itself.
    await expect(b.getByTestId("status")).toHaveText("Removed", { timeout: 60_000 })
    await expect(devices).toHaveCount(1, { timeout: 30_000 })
    await env.hub.waitForLine(/phone removed at another phone's request/)
    const aCount = await a.getByTestId("event").count()
    const bCount = await b.getByTestId("event").count()

    // Assert: the next clip reaches A and not B.
    await expect.poll(() => a.getByTestId("event").count(), { timeout: 120_000 }).toBeGreaterThan(aCount)
    await b.reload()
    await expect(b.getByTestId("status")).toHaveText("Removed", { timeout: 30_000 })
    await expect(b.getByTestId("event")).toHaveCount(bCount)
  } finally {
    await env.tearDown()
  }
})
