/**
 * User story: on a 360x740 phone, by touch or by keyboard (or a screen reader), I can add a camera, read my
 * timeline, play a clip, manage devices and settings: every control has a name, a large enough target and a
 * visible focus ring, nothing scrolls sideways, and the list does not jump when thumbnails arrive.
 */
import AxeBuilder from "@axe-core/playwright"
import { expect, test, type Locator, type Page } from "@playwright/test"
import { join } from "node:path"
import {
  launchPhone,
  removeDir,
  repoRoot,
  startHub,
  startSignal,
  tempDir,
  type ManagedProcess,
} from "./support/harness.ts"

const shots = join(repoRoot, "test-results/screenshots")
const width = 360

/** Counts layout shifts not caused by input (what CLS counts) from the first paint on. */
function watchLayoutShifts() {
  const w = window as unknown as { vigilShifts: { value: number; at: number; nodes: string[] }[] }
  w.vigilShifts = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & {
      value: number
      hadRecentInput: boolean
      sources?: { node?: Node }[]
    })[]) {
      if (e.hadRecentInput) continue
      const nodes = (e.sources ?? []).map((s) => {
        const el = s.node as HTMLElement | undefined
        return el ? `${el.nodeName}.${el.className ?? ""}` : "?"
      })
      w.vigilShifts.push({ value: e.value, at: e.startTime, nodes })
    }
  }).observe({ type: "layout-shift", buffered: true })
  // The app redraws by replacing nodes, and a replaced node's move is no layout-shift entry: so also watch,
  // every frame, where each event row's text and picture box sit inside the row.
  const moves: Record<string, { first: number[]; moved: number }> = {}
  ;(window as unknown as { vigilRowMoves: typeof moves }).vigilRowMoves = moves
  const sample = () => {
    for (const li of Array.from(document.querySelectorAll<HTMLElement>("li[data-event-id]"))) {
      const row = li.getBoundingClientRect()
      const main = li.querySelector(".event-main")?.getBoundingClientRect()
      const thumb = li.querySelector(".thumb")?.getBoundingClientRect()
      if (!main || !thumb || row.width === 0) continue
      const now = [main.left - row.left, main.top - row.top, thumb.width, thumb.height]
      const seen = (moves[li.dataset.eventId!] ??= { first: now, moved: 0 })
      const d = Math.max(...now.map((v, i) => Math.abs(v - seen.first[i]!)))
      seen.moved = Math.max(seen.moved, d)
    }
    requestAnimationFrame(sample)
  }
  requestAnimationFrame(sample)
}

function shiftScore(page: Page) {
  return page.evaluate(() => {
    const w = window as unknown as {
      vigilShifts: { value: number; nodes: string[] }[]
      vigilRowMoves: Record<string, { moved: number }>
    }
    const rowMoves = Object.values(w.vigilRowMoves).map((m) => m.moved)
    return { score: w.vigilShifts.reduce((n, s) => n + s.value, 0), shifts: w.vigilShifts, rowMoves }
  })
}

/** (a) axe-core: no serious or critical violation in `scope` (the whole page by default). */
async function expectNoSeriousAxe(page: Page, screen: string, scope?: string) {
  let builder = new AxeBuilder({ page })
  if (scope) builder = builder.include(scope)
  const { violations } = await builder.analyze()
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
  const minor = violations.filter((v) => !bad.some((b) => b.startsWith(`${v.id} `)))
  if (minor.length > 0) console.log(`[a11y] ${screen}: minor: ${minor.map((v) => v.id).join(", ")}`)
  expect.soft(bad, `axe serious/critical violations on ${screen}`).toEqual([])
}

/** (c) nothing is wider than the screen. */
async function expectNoSideScroll(page: Page, screen: string) {
  const scrollWidth = await page.evaluate(() => document.scrollingElement!.scrollWidth)
  expect.soft(scrollWidth, `horizontal scroll on ${screen}`).toBeLessThanOrEqual(width)
}

/** (e) every visible button (and link styled as one) is at least 40x40 CSS px. */
async function expectTouchTargets(page: Page, screen: string, scope = "body") {
  const small = await page.locator(scope).evaluate((root) =>
    Array.from(root.querySelectorAll<HTMLElement>("button, a.button, summary, [role=button]"))
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
      .map((el) => ({ el, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 40 || r.height < 40)
      .map(
        ({ el, r }) => `${el.textContent?.trim() || el.getAttribute("aria-label")} ${r.width}x${r.height}`,
      ),
  )
  expect.soft(small, `touch targets under 40x40 on ${screen}`).toEqual([])
}

interface Stop {
  name: string
  top: number
  left: number
  ring: boolean
}

/**
 * (b) Tab from the start of `scope` (or the page) through every control: each is reached once, in reading
 * order (top to bottom, left to right on a line), and shows a focus ring.
 */
async function expectTabOrder(page: Page, screen: string, scope = "body") {
  const expected = await page.locator(scope).evaluate((root) =>
    Array.from(
      root.querySelectorAll<HTMLElement>(
        "button:not([disabled]), a[href], input:not([disabled]), select, textarea, summary, video[controls], [tabindex='0']",
      ),
    )
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
      .filter((el) => !el.closest("details:not([open]) > :not(summary)"))
      .map((el) => el.outerHTML.slice(0, 80)),
  )
  expect(expected.length, `controls on ${screen}`).toBeGreaterThan(0)
  const stops: Stop[] = []
  const seen: string[] = []
  let entered = false
  for (let i = 0; i < expected.length + 80; i++) {
    // A dialog focuses its first control when it opens: that is the first stop.
    if (i > 0 || !(await page.evaluate((sel) => !!document.activeElement?.closest(sel), scope)))
      await page.keyboard.press("Tab")
    const stop = await page.evaluate((sel) => {
      const el = document.activeElement as HTMLElement | null
      if (!el || el === document.body || !el.closest(sel)) return null
      const r = el.getBoundingClientRect()
      const s = getComputedStyle(el)
      // A <video>'s own controls (in the browser's shadow tree) draw their focus ring themselves.
      const ring =
        el.tagName === "VIDEO" ||
        (el.matches(":focus-visible") &&
          ((s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== "none"))
      return {
        html: el.outerHTML.slice(0, 80),
        stop: {
          name: el.getAttribute("aria-label") || el.textContent?.trim().slice(0, 40) || el.tagName,
          top: r.top + window.scrollY,
          left: r.left,
          ring,
        },
      }
    }, scope)
    if (!stop) {
      if (entered) break
      continue
    }
    entered = true
    // Tab moving inside one control (a video's own buttons) is the same stop.
    if (seen.at(-1) === stop.html) continue
    if (seen.includes(stop.html)) break
    seen.push(stop.html)
    stops.push(stop.stop)
  }
  console.log(`[a11y] ${screen}: tab order: ${stops.map((s) => s.name).join(" → ")}`)
  expect.soft(seen.slice().sort(), `Tab reaches every control on ${screen}`).toEqual(expected.slice().sort())
  for (const s of stops) expect.soft(s.ring, `visible focus ring on "${s.name}" (${screen})`).toBe(true)
  for (let i = 1; i < stops.length; i++) {
    const [a, b] = [stops[i - 1]!, stops[i]!]
    const sameLine = Math.abs(a.top - b.top) < 12
    expect
      .soft(
        sameLine ? b.left > a.left : b.top > a.top,
        `reading order on ${screen}: "${a.name}" then "${b.name}"`,
      )
      .toBe(true)
  }
}

async function checkScreen(page: Page, screen: string, scope?: string) {
  await page.screenshot({ path: join(shots, `a11y-${screen}.png`) })
  await expectNoSeriousAxe(page, screen, scope)
  await expectNoSideScroll(page, screen)
  await expectTouchTargets(page, screen, scope)
}

/** Moves keyboard focus to the page's start (a click on the title), where a fresh Tab sequence begins. */
async function resetFocus(page: Page) {
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.locator("header.top h1").click()
}

async function focusByTab(page: Page, target: Locator, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab")
    if (await target.evaluate((el) => el === document.activeElement)) return
  }
  throw new Error("Tab never reached the control")
}

test("accessible at 360x740: axe, keyboard, no side scroll, no layout shift, touch targets", async () => {
  test.setTimeout(300_000)
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const profile = await tempDir("profile")
  const procs: ManagedProcess[] = []
  const signal = await startSignal(signalDir)
  procs.push(signal.proc)
  const hub = await startHub({ signalUrl: signal.url, dataDir: hubDir, cycleSeconds: 10 })
  procs.push(hub)
  const context = await launchPhone(profile)
  await context.addInitScript(watchLayoutShifts)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    expect(page.viewportSize()).toEqual({ width: 360, height: 740 })

    // Add camera, before pairing.
    await page.goto(signal.url)
    await expect(page.getByTestId("add-camera-card")).toBeVisible({ timeout: 30_000 })
    await page.locator(".pairing-fallback summary").click()
    await resetFocus(page)
    await checkScreen(page, "add-camera")
    await resetFocus(page)
    await expectTabOrder(page, "add-camera")

    // Pair by the invite link; wait for a clip with its thumbnail.
    const link = (await hub.waitForLine(/Pairing link: (\S+)/, 60_000))[1]!
    // The same document with only a new hash would not reload: leave it first.
    await page.goto("about:blank")
    await page.goto(link)
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    const clip = page.locator('[data-testid="event"]:not([aria-label*="still recording"])').first()
    await expect(clip).toBeVisible({ timeout: 90_000 })
    await expect(clip.getByTestId("thumbnail")).toBeVisible({ timeout: 30_000 })

    // (d) Reload: the timeline draws, then its thumbnails decrypt and appear; nothing may move.
    await page.reload()
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    const rows = page.locator('[data-testid="event"]:not([aria-label*="still recording"])')
    await expect(rows.first()).toBeVisible({ timeout: 30_000 })
    const withThumbs = await rows.count()
    await expect(page.getByTestId("thumbnail")).toHaveCount(withThumbs, { timeout: 30_000 })
    await expect
      .poll(() =>
        rows
          .first()
          .getByTestId("thumbnail")
          .evaluate((i: HTMLImageElement) => i.complete),
      )
      .toBe(true)
    const cls = await shiftScore(page)
    console.log(`[a11y] timeline CLS ${cls.score.toFixed(4)} ${JSON.stringify(cls.shifts)}`)
    expect.soft(cls.score, "layout shift while the timeline loads thumbnails").toBeLessThan(0.01)
    console.log(`[a11y] timeline rows moved inside (px): ${JSON.stringify(cls.rowMoves)}`)
    expect(cls.rowMoves.length, "rows watched from their first frame").toBeGreaterThanOrEqual(withThumbs)
    expect.soft(Math.max(...cls.rowMoves), "a row's text or picture box moved as thumbnails loaded").toBe(0)

    // Timeline.
    await resetFocus(page)
    await checkScreen(page, "timeline")
    await resetFocus(page)
    await expectTabOrder(page, "timeline")
    // Space toggles a filter chip; Enter on it toggles back.
    const chip = page.getByTestId("filter-label-motion")
    await chip.focus()
    await page.keyboard.press("Space")
    await expect(chip).toHaveAttribute("aria-pressed", "true")
    await page.keyboard.press("Enter")
    await expect(chip).toHaveAttribute("aria-pressed", "false")

    // Player: Enter opens it from the row; Tab stays inside; Escape closes it and focus returns to the row.
    const first = rows.first()
    const eventId = await first.evaluate((b) => b.closest("li")!.dataset.eventId!)
    await resetFocus(page)
    await focusByTab(page, page.locator(`li[data-event-id="${eventId}"] [data-testid="event"]`))
    await page.keyboard.press("Enter")
    const player = page.getByTestId("player")
    await expect(player).toBeVisible({ timeout: 20_000 })
    await expect(page.getByTestId("clip-save")).toHaveAttribute("href", /^blob:/, { timeout: 30_000 })
    await checkScreen(page, "player", '[data-testid="player"]')
    await expectTabOrder(page, "player", '[data-testid="player"]')
    await page.keyboard.press("Escape")
    await expect(player).toHaveCount(0)
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest("li")?.dataset.eventId))
      .toBe(eventId)

    // Devices: Space opens it from the keyboard; the close button returns focus to the Devices button.
    await resetFocus(page)
    await focusByTab(page, page.getByTestId("devices-button"))
    await page.keyboard.press("Space")
    await expect(page.getByTestId("device-list")).toBeVisible()
    await checkScreen(page, "devices")
    await resetFocus(page)
    await expectTabOrder(page, "devices", '[data-testid="devices"]')
    await page.getByRole("button", { name: "Close devices" }).focus()
    await page.keyboard.press("Enter")
    await expect(page.getByTestId("device-list")).toHaveCount(0)
    await expect(page.getByTestId("devices-button")).toBeFocused()

    // Settings: Enter on its summary opens it.
    const summary = page.locator("details.settings > summary")
    await resetFocus(page)
    await focusByTab(page, summary)
    await page.keyboard.press("Enter")
    await expect(page.locator("details.settings")).toHaveAttribute("open", "")
    await expect(page.getByTestId("build-digest-status")).toBeVisible({ timeout: 30_000 })
    await summary.scrollIntoViewIfNeeded()
    await checkScreen(page, "settings")
    await resetFocus(page)
    await expectTabOrder(page, "settings", "details.settings")

    // Live view: Enter opens it; Escape closes it and focus returns to the Live button.
    await resetFocus(page)
    await focusByTab(page, page.getByTestId("live-button"))
    await page.keyboard.press("Enter")
    await expect(page.getByTestId("live-canvas")).toBeVisible()
    await checkScreen(page, "live")
    await page.getByRole("button", { name: "Close live view" }).focus()
    await page.keyboard.press("Escape")
    await expect(page.getByTestId("live-canvas")).toHaveCount(0)
    await expect(page.getByTestId("live-button")).toBeFocused()
  } finally {
    await context.close()
    for (const p of procs.reverse()) await p.stop()
    await Promise.all([signalDir, hubDir, profile].map(removeDir))
  }
})
