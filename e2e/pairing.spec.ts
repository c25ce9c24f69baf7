/**
 * User story: I start the hub, open the app on my phone, tap "Add camera", pick my hub by its name, check
 * that the phone and the hub show the same code, confirm on both, and clips arrive. Someone else's attempt
 * that is not confirmed at the hub is refused and gets nothing.
 */
import { chromium, expect, test } from "@playwright/test"
import { join } from "node:path"
import { phoneLaunchOptions, removeDir, repoRoot, tempDir } from "./support/harness.ts"
import { writeQrY4m } from "./support/qrVideo.ts"
import { pairByDiscovery, requestPairing, hubCode, setUpDiscovery as setUp } from "./support/discovery.ts"

const shots = join(repoRoot, "test-results/screenshots")

test("pair by discovery with code confirmation", async () => {
  // Arrange
  const env = await setUp()
  try {
    await env.hub.waitForLine(/Pairing mode: open/, 60_000)
    const page = await env.phone(0)

    // Act: Add camera → pick the hub → compare codes → "y" at the hub and "Codes match" on the phone.
    await pairByDiscovery(page, env.signal.url, env.hub, "Anna's phone", "pairing-01")

    // Assert: the phone is paired for real, and receives a clip.
    await expect(page.getByTestId("event").first()).toBeVisible({ timeout: 90_000 })
  } finally {
    await env.tearDown()
  }
})

test("a pairing attempt by a second browser that does not confirm is refused", async () => {
  // Arrange: phone A paired by discovery.
  const env = await setUp()
  try {
    await env.hub.waitForLine(/Pairing mode: open/, 60_000)
    const a = await env.phone(0)
    await pairByDiscovery(a, env.signal.url, env.hub, "Phone A")

    // Act: a second browser asks to pair; the person at the hub answers "n".
    const b = await env.phone(1)
    const shown = await requestPairing(b, env.signal.url, "Intruder")
    expect(await hubCode(env.hub, "Intruder")).toBe(shown)
    await b.getByTestId("codes-match").click()
    env.hub.answer("n")

    // Assert: B is told it was refused; the hub stays as it was; A still gets clips, B never does.
    await expect(b.getByTestId("pairing-refused")).toBeVisible({ timeout: 30_000 })
    await env.hub.waitForLine(/Pairing refused \(refused at the hub\)/)
    const clipsBefore = await a.getByTestId("event").count()
    await expect.poll(() => a.getByTestId("event").count(), { timeout: 60_000 }).toBeGreaterThan(clipsBefore)
    await expect(b.getByTestId("event")).toHaveCount(0)
    await expect(b.getByTestId("paired-with")).toHaveCount(0)
    await b.reload()
    await expect(b.getByTestId("add-camera")).toBeVisible({ timeout: 20_000 })
  } finally {
    await env.tearDown()
  }
})

test("a paired phone approves a new phone that shows the same code", async () => {
  // Arrange: phone A paired (confirmed at the hub's terminal).
  const env = await setUp()
  try {
    await env.hub.waitForLine(/Pairing mode: open/, 60_000)
    const a = await env.phone(0)
    await pairByDiscovery(a, env.signal.url, env.hub, "Phone A")

    // Act: B asks to join; A shows B's name and code and approves; B confirms. Nobody types at the hub.
    const b = await env.phone(1)
    const shown = await requestPairing(b, env.signal.url, "Phone B")
    const approval = a.getByTestId("pairing-approval")
    await expect(approval).toContainText("Phone B wants to join", { timeout: 45_000 })
    expect((await a.getByTestId("approval-code").textContent())!.replace(/\s/g, "")).toBe(shown)
    expect(await hubCode(env.hub, "Phone B")).toBe(shown)
    await a.screenshot({ path: join(shots, "pairing-02-approve-on-paired-phone.png") })
    await a.getByTestId("approve-pairing").click()
    await b.getByTestId("codes-match").click()

    // Assert: B is paired and receives clips; the hub says who approved.
    await expect(b.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    await env.hub.waitForLine(/Approved on Phone A for Phone B\./)
    await env.hub.waitForLine(/Phone paired: Phone B/)
    await expect(approval).toHaveCount(0)
    await expect(b.getByTestId("event").first()).toBeVisible({ timeout: 90_000 })
  } finally {
    await env.tearDown()
  }
})

test("pairs by scanning the hub's QR code with the phone's camera", async () => {
  // Arrange: the phone's (fake) camera sees the QR code the hub printed.
  const env = await setUp()
  const profile = await tempDir("profile-qr")
  try {
    const link = (await env.hub.waitForLine(/Pairing link: (\S+)/, 60_000))[1]!
    const video = join(profile, "..", `qr-${Date.now()}.y4m`)
    await writeQrY4m(video, link)
    const options = phoneLaunchOptions()
    const context = await chromium.launchPersistentContext(profile, {
      ...options,
      permissions: ["camera"],
      args: [
        ...options.args,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-video-capture=${video}`,
      ],
    })
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      await page.goto(env.signal.url)

      // Act: Add camera → "Camera not listed?" → Scan QR code.
      await page.getByText("Camera not listed? Use its pairing code").click()
      await page.getByTestId("scan-qr").click()

      // Assert: the code is read and the phone pairs; a clip arrives.
      await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
      await env.hub.waitForLine(/Phone paired/)
      await expect(page.getByTestId("event").first()).toBeVisible({ timeout: 90_000 })
    } finally {
      await context.close()
      await removeDir(video)
    }
  } finally {
    await removeDir(profile)
    await env.tearDown()
  }
})
