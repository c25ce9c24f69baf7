/**
 * User story: the hub calls its camera "Front door", but we think of it as the porch. I rename it from the
 * Devices screen on my phone; my partner's phone shows the new name too, and the next clip arrives as
 * "Porch" on both, while clips recorded before keep the name they had.
 */
import { expect, test } from "@playwright/test"
import { join } from "node:path"
import { repoRoot } from "./support/harness.ts"
import { pairByDiscovery, setUpDiscovery } from "./support/discovery.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("a camera renamed on one phone shows the new name on both, and the next clip carries it", async () => {
  // Arrange: phone A and phone B both paired, both receiving the synthetic camera's clips.
  const env = await setUpDiscovery(2)
  try {
    await env.hub.waitForLine(/Pairing mode: open/, 60_000)
    const a = await env.phone(0)
    await pairByDiscovery(a, env.signal.url, env.hub, "Phone A")
    const b = await env.phone(1)
    await pairByDiscovery(b, env.signal.url, env.hub, "Phone B")
    await expect(b.getByTestId("event").first()).toContainText("Front door", { timeout: 90_000 })

    // Act: A opens Devices and finds the camera under its config name.
    await a.getByTestId("devices-button").click()
    const row = a.locator("[data-testid=camera][data-camera-id=front-door]")
    await expect(row.getByTestId("camera-name")).toHaveText("Front door", { timeout: 30_000 })

    // Escape closes the field without sending anything, and focus goes back to Rename.
    await row.getByTestId("camera-rename").click()
    const input = row.getByLabel("New name for Front door")
    await expect(input).toBeFocused()
    await input.press("Escape")
    await expect(row.getByTestId("camera-rename-form")).toHaveCount(0)
    await expect(row.getByTestId("camera-rename")).toBeFocused()

    // A name with a control character is refused on the phone, with advice next to the field.
    await row.getByTestId("camera-rename").press("Enter")
    await expect(input).toBeFocused()
    await input.fill("Porch\u0007")
    await input.press("Enter")
    await expect(row.locator(".camera-problem")).toContainText("without control characters")
    await expect(input).toHaveAttribute("aria-invalid", "true")

    // The real rename, typed and saved from the keyboard.
    await input.fill("Porch")
    await expect(row.locator(".camera-problem")).toHaveText("")
    await expect(input).not.toHaveAttribute("aria-invalid")
    await row.getByTestId("camera-rename-save").scrollIntoViewIfNeeded()
    await a.screenshot({ path: join(shots, "devices-03-rename.png") })
    await input.press("Enter")

    // Assert: the hub applied it and A's list shows the name from the hub's new roster.
    await env.hub.waitForLine(/camera renamed at a phone's request/, 60_000)
    await expect(row.getByTestId("camera-name")).toHaveText("Porch", { timeout: 30_000 })
    await expect(row.getByTestId("camera-rename")).toHaveAttribute("aria-label", "Rename Porch")
    await expect(row.getByTestId("camera-rename")).toBeFocused()

    // B's Devices screen shows it too (from the roster the hub sent every phone).
    await b.getByTestId("devices-button").click()
    await expect(
      b.locator("[data-testid=camera][data-camera-id=front-door] [data-testid=camera-name]"),
    ).toHaveText("Porch", { timeout: 30_000 })

    // Assert: the next clip arrives as "Porch" on both phones; earlier ones keep "Front door".
    for (const phone of [a, b]) {
      const cameraNames = phone.locator("[data-testid=event] .event-camera")
      await expect(cameraNames.filter({ hasText: /^Porch$/ }).first()).toBeVisible({ timeout: 120_000 })
      await expect(cameraNames.filter({ hasText: /^Front door$/ }).first()).toBeAttached()
    }
  } finally {
    await env.tearDown()
  }
})
