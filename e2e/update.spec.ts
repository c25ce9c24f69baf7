/**
 * User story: the server I load Vigil from publishes a new version. Nothing changes until I accept it: the
 * app shows the build digest of the version I run next to the new one's, and keeps running the old one
 * until I tap Update.
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { cp, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { expect, test, type Page } from "@playwright/test"
import { ManagedProcess, launchPhone, removeDir, repoRoot, tempDir } from "./support/harness.ts"

async function startSignalServing(dataDir: string, webRoot: string) {
  const args = ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--web-root", webRoot]
  const child = spawn(process.execPath, ["--import", "tsx", "signal/src/server.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  const proc = new ManagedProcess("signal", child)
  const m = await proc.waitForLine(/signal listening on (http:\/\/\S+)/)
  return { proc, url: m[1]! }
}

const hash = (algorithm: string, bytes: Buffer | string) => createHash(algorithm).update(bytes).digest("hex")
const group = (digest: string) => digest.match(/.{1,8}/g)!.join(" ")

interface BuildDigest {
  version: string
  digest: string
  files: Record<string, string>
}

/**
 * Turns the copy of the built PWA in `dir` into a "new version": index.html gains a marker, the worker's
 * precache list names the new index.html, and build-digest.json is rewritten the way the build writes it.
 */
async function publishNewVersion(dir: string): Promise<BuildDigest> {
  const indexPath = join(dir, "index.html")
  const oldIndex = await readFile(indexPath)
  const newIndex = Buffer.from(
    oldIndex.toString("utf8").replace("<head>", '<head>\n    <meta name="vigil-test-build" content="2" />'),
  )
  const swPath = join(dir, "sw.js")
  const oldSw = await readFile(swPath, "utf8")
  const oldRevision = `{"revision":"${hash("md5", oldIndex)}","url":"index.html"}`
  expect(oldSw.includes(oldRevision), "the worker precaches index.html by its MD5").toBe(true)
  const newSw = Buffer.from(
    oldSw.replace(oldRevision, `{"revision":"${hash("md5", newIndex)}","url":"index.html"}`),
  )
  await writeFile(indexPath, newIndex)
  await writeFile(swPath, newSw)
  const digestPath = join(dir, "build-digest.json")
  const published = JSON.parse(await readFile(digestPath, "utf8")) as BuildDigest
  const files: Record<string, string> = {
    ...published.files,
    "index.html": hash("sha256", newIndex),
    "sw.js": hash("sha256", newSw),
  }
  const lines = Object.keys(files)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((path) => `${files[path]}  ${path}\n`)
    .join("")
  const next = { ...published, files, digest: hash("sha256", lines) }
  await writeFile(digestPath, JSON.stringify(next))
  return next
}

const runsNewVersion = (page: Page) =>
  page.evaluate(() => document.querySelector('meta[name="vigil-test-build"]') !== null)

test("a new version waits for the user, who sees both build digests before switching", async () => {
  // Arrange: signal serves a copy of the built PWA, which the test can replace.
  const signalDir = await tempDir("signal")
  const webRoot = await tempDir("web")
  const profile = await tempDir("profile")
  await cp(join(repoRoot, "web/dist"), webRoot, { recursive: true })
  const installed = JSON.parse(await readFile(join(webRoot, "build-digest.json"), "utf8")) as BuildDigest
  const signal = await startSignalServing(signalDir, webRoot)
  const context = await launchPhone(profile)
  try {
    let page = context.pages()[0] ?? (await context.newPage())
    await page.goto(signal.url)
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    await expect(page.getByTestId("update-prompt")).toHaveCount(0)

    // Act: the server now publishes a new version; the browser checks for it (as it does on navigation).
    const next = await publishNewVersion(webRoot)
    expect(next.digest).not.toBe(installed.digest)
    await page.evaluate(async () => (await navigator.serviceWorker.ready).update())

    // Assert: the prompt shows the digest running now and the new one, and explains itself.
    const prompt = page.getByTestId("update-prompt")
    await expect(prompt).toBeVisible({ timeout: 30_000 })
    await expect(page.getByTestId("digest-installed")).toHaveText(
      `${installed.version} · ${group(installed.digest)}`,
    )
    await expect(page.getByTestId("digest-new")).toHaveText(`${next.version} · ${group(next.digest)}`)
    await expect(prompt.getByText("What is this?")).toBeVisible()
    await page.screenshot({ path: join(repoRoot, "test-results/screenshots/update-prompt.png") })

    // Assert: nothing switched by itself, not even across a reload: the old version keeps running.
    expect(await runsNewVersion(page)).toBe(false)
    await page.reload()
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    expect(await runsNewVersion(page)).toBe(false)
    await expect(page.getByTestId("update-prompt")).toBeVisible({ timeout: 30_000 })

    // ... nor when every tab is closed, when a browser would normally let a waiting worker take over.
    await page.close()
    page = await context.newPage()
    await page.goto(signal.url)
    await expect(page.getByTestId("update-prompt")).toBeVisible({ timeout: 30_000 })
    expect(await runsNewVersion(page)).toBe(false)

    // Act: the user accepts.
    await page.getByTestId("update-accept").click()

    // Assert: the new version runs, and is now the installed one.
    await expect(page.locator('meta[name="vigil-test-build"]')).toHaveCount(1, { timeout: 30_000 })
    await expect(page.getByTestId("update-prompt")).toHaveCount(0)
    const recorded = await page.evaluate(async () => {
      const response = await (
        await caches.open("vigil-build-digest")
      ).match("/__vigil/build-digest/installed")
      return response ? ((await response.json()) as { digest: string }).digest : undefined
    })
    expect(recorded).toBe(next.digest)
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, webRoot, profile].map(removeDir))
  }
})

test("an approved version whose files are not the build it was published as is refused", async () => {
  // Arrange: version 1 installed; the server then publishes a version 2 but serves other bytes for it.
  const signalDir = await tempDir("signal")
  const webRoot = await tempDir("web")
  const profile = await tempDir("profile")
  await cp(join(repoRoot, "web/dist"), webRoot, { recursive: true })
  const installed = JSON.parse(await readFile(join(webRoot, "build-digest.json"), "utf8")) as BuildDigest
  const signal = await startSignalServing(signalDir, webRoot)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(signal.url)
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    const next = await publishNewVersion(webRoot)
    const served = (await readFile(join(webRoot, "index.html"), "utf8")).replace(
      'content="2"',
      'content="not-the-published-build"',
    )
    await writeFile(join(webRoot, "index.html"), served)
    await page.evaluate(async () => (await navigator.serviceWorker.ready).update())
    await expect(page.getByTestId("digest-new")).toHaveText(`${next.version} · ${group(next.digest)}`, {
      timeout: 30_000,
    })

    // Act: the user compares the published digest (it is the release's) and accepts.
    await page.getByTestId("update-accept").click()

    // Assert: the downloaded files do not add up to that digest, so the version is refused, and says so.
    const refusal = page.getByTestId("update-refused")
    await expect(refusal).toBeVisible({ timeout: 30_000 })
    await expect(refusal).toContainText("index.html")
    await expect(refusal).toContainText("The version running now stays in use.")
    await page.screenshot({ path: join(repoRoot, "test-results/screenshots/update-refused.png") })
    await page.reload()
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    expect(await runsNewVersion(page)).toBe(false)
    await expect(page.getByTestId("digest-installed")).toHaveText(
      `${installed.version} · ${group(installed.digest)}`,
    )
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, webRoot, profile].map(removeDir))
  }
})
