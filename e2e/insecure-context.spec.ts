/**
 * User story: I open Vigil on my phone at the hub's LAN address over plain http (not the relay's https
 * address). Instead of a JavaScript error I get one screen that says what is wrong and what to do, and, when
 * I came from a pairing link, a button to the same link on the relay's https app (issue 13).
 *
 * A real non-loopback address, with no browser flag that makes it secure: signal and Chromium run in a
 * throw-away network namespace with a veth pair (10.77.0.1), so the page is what a phone on the LAN gets.
 */
import AxeBuilder from "@axe-core/playwright"
import { chromium, expect, test, type Page } from "@playwright/test"
import { join } from "node:path"
import {
  launchPhone,
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
const lanAddress = "10.77.0.1"

/** A pairing link's code as the hub writes it (protocol/src/pairing.ts encodeInvite), naming an https relay. */
function inviteCode(signal: string): string {
  const json = JSON.stringify({
    v: 1,
    signal,
    space: "a".repeat(32),
    hub: "b".repeat(32),
    name: "Home",
    key: "A".repeat(43),
    secret: "B".repeat(43),
    exp: Date.now() + 600_000,
  })
  return `v1.${Buffer.from(json).toString("base64url")}`
}

/** Every uncaught page error, and every request the page makes by script (fetch, XHR, WebSocket). */
function watchPage(page: Page) {
  const errors: string[] = []
  const scriptRequests: string[] = []
  page.on("pageerror", (err) => errors.push(err.message))
  page.on("request", (req) => {
    if (["fetch", "xhr", "websocket", "eventsource"].includes(req.resourceType()))
      scriptRequests.push(req.url())
  })
  return { errors, scriptRequests }
}

test("over plain http on a LAN address the app explains what to do, with no JavaScript error", async () => {
  test.skip(unavailable !== undefined, `insecure-context spec skipped: ${unavailable}`)
  // Arrange
  const netns = createNetns()
  const signalDir = await tempDir("signal")
  const profile = await tempDir("profile")
  let signal: ManagedProcess | undefined
  try {
    signal = netns.startTs("signal", [
      "signal/src/server.ts",
      "--host",
      lanAddress,
      "--port",
      "0",
      "--data-dir",
      signalDir,
      "--web-root",
      join(repoRoot, "web/dist"),
    ])
    const url = (await signal.waitForLine(/signal listening on (http:\/\/\S+)/))[1]!
    const context = await chromium.launchPersistentContext(
      profile,
      phoneLaunchOptions(await netns.chromiumWrapper()),
    )
    try {
      const page = context.pages()[0] ?? (await context.newPage())
      const seen = watchPage(page)

      // Act
      await page.goto(`${url}/`)

      // Assert: the browser really withholds encryption here (no flag made the origin secure)…
      expect(await page.evaluate(() => ({ secure: isSecureContext, subtle: typeof crypto.subtle }))).toEqual({
        secure: false,
        subtle: "undefined",
      })
      // …and the page says so, in words, as one accessible screen.
      const screen = page.getByTestId("browser-unsupported")
      await expect(screen).toBeVisible()
      await expect(screen).toHaveAttribute("role", "alert")
      await expect(page.getByRole("heading", { name: "Open Vigil over https" })).toBeVisible()
      await expect(screen).toContainText("opened over plain http")
      await expect(screen).toContainText("pairing QR code on your hub")
      await expect(page.getByTestId("open-https")).toHaveCount(0)
      await expect(page.locator("body")).not.toContainText("could not start")
      await page.screenshot({ path: join(shots, "insecure-context.png"), fullPage: true })
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)
      expect(overflow).toBeLessThanOrEqual(0)
      const { violations } = await new AxeBuilder({ page }).analyze()
      expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([])

      // Act: the same page reached from a pairing link whose relay is https.
      const code = inviteCode("https://relay.example.org")
      await page.goto("about:blank")
      await page.goto(`${url}/#pair=${code}`)

      // Assert: a way to the same link on the relay's https app.
      const link = page.getByTestId("open-https")
      await expect(link).toBeVisible()
      await expect(link).toHaveAttribute("href", `https://relay.example.org/#pair=${code}`)
      await expect(link).toHaveText("Continue pairing at relay.example.org")
      await page.screenshot({ path: join(shots, "insecure-context-pairing-link.png"), fullPage: true })
      expect(seen.errors).toEqual([])
      expect(seen.scriptRequests).toEqual([])
    } finally {
      await context.close()
    }
  } finally {
    await signal?.stop()
    netns.destroy()
    await Promise.all([signalDir, profile].map(removeDir))
  }
})

test("without service workers, WebCodecs and MediaSource the app still opens and says what is off", async () => {
  // Arrange: a secure origin (127.0.0.1) in a browser that lacks the three, as some phones' browsers do.
  const signalDir = await tempDir("signal")
  const profile = await tempDir("profile")
  const signal = await startSignal(signalDir)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.addInitScript(() => {
      const w = globalThis as unknown as Record<string, unknown>
      delete w.VideoDecoder
      delete w.MediaSource
      delete (Navigator.prototype as unknown as Record<string, unknown>).serviceWorker
    })
    const seen = watchPage(page)

    // Act
    await page.goto(signal.url)

    // Assert: the app runs (pairing is offered) and one line per missing feature says what that costs.
    await expect(page.getByRole("heading", { name: "Add your camera" })).toBeVisible()
    const limits = page.getByTestId("browser-limits")
    await expect(limits).toContainText("no notifications of new clips")
    await expect(limits).toContainText("a clip starts playing once it has fully downloaded")
    await expect(page.getByTestId("browser-unsupported")).toHaveCount(0)
    expect(await page.evaluate(() => "serviceWorker" in navigator)).toBe(false)
    expect(seen.errors).toEqual([])
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, profile].map(removeDir))
  }
})

test("a browser that cannot run the app's script at all still gets words, not a blank page", async () => {
  // Arrange: the app's entry script never runs, as in a browser too old to parse it.
  const signalDir = await tempDir("signal")
  const profile = await tempDir("profile")
  const signal = await startSignal(signalDir)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.route(/\/assets\/index-[^/]+\.js$/, (route) => route.abort())

    // Act
    await page.goto(signal.url)

    // Assert
    const fallback = page.getByTestId("boot-fallback")
    await expect(fallback).toBeVisible({ timeout: 10_000 })
    await expect(fallback).toContainText("this browser cannot run it")
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, profile].map(removeDir))
  }
})
