/**
 * User story: my partner's phone and mine both receive the camera's clips. Mine paired first, so I own the
 * home; my partner's is a member until I make it an owner. A member cannot remove phones: not on its screen,
 * and not by a signed request its hub would act on. When a phone is lost, I remove it from the Devices
 * screen on mine: from then on it gets nothing new, while mine keeps receiving clips.
 */
import { expect, test } from "@playwright/test"
import { join } from "node:path"
import { repoRoot } from "./support/harness.ts"
import { pairByDiscovery, setUpDiscovery } from "./support/discovery.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("roles decide who removes whom; a second phone removed stops receiving clips", async () => {
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
    await expect(devices.filter({ hasText: "Phone A" }).getByTestId("device-role")).toHaveText("Owner")
    await expect(rowB.getByTestId("device-role")).toHaveText("Member")
    await a.screenshot({ path: join(shots, "devices-01-list.png") })

    // B, a member, sees the list only: no removal, no invitation, no rename.
    await b.getByTestId("devices-button").click()
    const bDevices = b.getByTestId("device")
    const aOnB = bDevices.filter({ hasText: "Phone A" })
    await expect(b.getByTestId("member-note")).toBeVisible({ timeout: 30_000 })
    await expect(aOnB.getByTestId("device-role")).toHaveText("Owner")
    await expect(aOnB.getByTestId("device-remove")).toHaveCount(0)
    await expect(b.getByTestId("invite-phone")).toHaveCount(0)
    await expect(b.getByTestId("camera-rename")).toHaveCount(0)

    // A makes B an owner: B may now remove phones.
    await rowB.getByTestId("make-owner").click()
    await expect(rowB.getByTestId("device-role")).toHaveText("Owner", { timeout: 30_000 })
    await expect(aOnB.getByTestId("device-remove")).toBeVisible({ timeout: 30_000 })

    // B stops hearing from the hub (its mailbox reads are held back), and A makes it a member again. B still
    // shows the removal it no longer has the right to: its signed request reaches the hub, which refuses it.
    let held = 0
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    await b.route(/\/v1\/mailbox\?/, async (route) => {
      held++
      await released
      await route.continue().catch(() => {})
    })
    await b.context().setOffline(true) // ends the read in flight; the next ones are held
    await b.waitForTimeout(300)
    await b.context().setOffline(false)
    await expect.poll(() => held, { timeout: 30_000 }).toBeGreaterThan(0)
    await rowB.getByTestId("make-member").click()
    await env.hub.waitForLine(/phone's role changed at a phone's request/, 30_000)
    await expect(rowB.getByTestId("device-role")).toHaveText("Member", { timeout: 30_000 })
    await aOnB.getByTestId("device-remove").click()
    await aOnB.getByTestId("device-remove-yes").click()
    await env.hub.waitForLine(/refused a device request/, 30_000)
    release()
    // B learns its role from the roster the hub answered with; nobody was removed.
    await expect(b.getByTestId("member-note")).toBeVisible({ timeout: 30_000 })
    await expect(b.getByTestId("devices").getByRole("alert")).toContainText(
      "Only an owner of this home can do that",
    )
    await expect(aOnB.getByTestId("device-remove")).toHaveCount(0)
    await expect(devices).toHaveCount(2)
    await b.unroute(/\/v1\/mailbox\?/)

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
