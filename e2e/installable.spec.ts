/**
 * User story: I add Vigil to my home screen, and it opens even when the network is down; and I can load it
 * from any static host, with the relay on its own origin.
 */
import { spawn } from "node:child_process"
import { readFile, stat } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { extname, join, normalize } from "node:path"
import { expect, test } from "@playwright/test"
import { ManagedProcess, launchPhone, removeDir, repoRoot, startSignal, tempDir } from "./support/harness.ts"

/** signal/src/server.ts or hub/src/cli.ts with arguments the harness does not pass. */
function spawnTs(name: string, args: string[]): ManagedProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  return new ManagedProcess(name, child)
}

test("the PWA is installable, its service worker is active, and it reloads offline", async () => {
  // Arrange
  const signalDir = await tempDir("signal")
  const profile = await tempDir("profile")
  const signal = await startSignal(signalDir)
  const context = await launchPhone(profile)
  try {
    const page = context.pages()[0] ?? (await context.newPage())

    // Act
    await page.goto(signal.url)
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    // `ready` resolves once a worker is active, possibly still "activating"; wait until it finished.
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe("activated")
    const cdp = await context.newCDPSession(page)
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors")

    // Assert
    expect(installabilityErrors).toEqual([])

    // Act: the server goes away and the phone is offline; the app shell still opens.
    await signal.proc.stop()
    await context.setOffline(true)
    await page.reload()

    // Assert
    await expect(page.getByRole("heading", { name: "Vigil", exact: true })).toBeVisible()
    await expect(page.getByRole("heading", { name: "Add your camera" })).toBeVisible()
  } finally {
    await context.close()
    await signal.proc.stop()
    await Promise.all([signalDir, profile].map(removeDir))
  }
})

/** A static file host with no special headers (no CSP): what the built PWA must work from on its own. */
async function serveStatic(root: string): Promise<{ url: string; server: Server }> {
  const types: Record<string, string> = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname
    const file = normalize(join(root, path === "/" ? "index.html" : path))
    const send = (p: string) =>
      readFile(p).then(
        (bytes) =>
          res.writeHead(200, { "Content-Type": types[extname(p)] ?? "application/octet-stream" }).end(bytes),
        () => res.writeHead(404).end(),
      )
    if (!file.startsWith(root)) return void res.writeHead(403).end()
    // SPA fallback: an unknown path is the app.
    void stat(file).then(
      (s) => send(s.isFile() ? file : join(root, "index.html")),
      () => send(join(root, "index.html")),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${address.port}`, server }
}

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** Builds the PWA for a static host, pointed at `signalUrl` (VIGIL_SIGNAL_URL), into `outDir`. */
async function buildFor(signalUrl: string, outDir: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "node_modules/vite/bin/vite.js"),
      "build",
      "--logLevel",
      "error",
      "--outDir",
      outDir,
      "--emptyOutDir",
    ],
    {
      cwd: join(repoRoot, "web"),
      env: { ...process.env, VIGIL_SIGNAL_URL: signalUrl },
      stdio: ["ignore", "ignore", "pipe"],
    },
  )
  let stderr = ""
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise((resolve) => child.once("exit", resolve))
  if (code !== 0) throw new Error(`vite build failed (${String(code)}): ${stderr}`)
}

test("served from a static origin, the PWA pairs through signal on another origin and may reach no other", async () => {
  // Arrange: signal on its own origin, allowing the static host's origin (CORS); the PWA built for that
  // signal and served by a plain static host; the hub's pairing links point at the static host.
  const signalDir = await tempDir("signal")
  const hubDir = await tempDir("hub")
  const webDir = await tempDir("static")
  const profile = await tempDir("profile")
  const signalPort = await freePort()
  const signalUrl = `http://127.0.0.1:${signalPort}`
  await buildFor(signalUrl, webDir)
  const web = await serveStatic(webDir)
  const signal = spawnTs("signal", [
    "signal/src/server.ts",
    ...["--host", "127.0.0.1", "--port", String(signalPort), "--data-dir", signalDir],
    ...["--cors-origin", web.url],
  ])
  await signal.waitForLine(/signal listening on/)
  const hub = spawnTs("hub", [
    "hub/src/cli.ts",
    "start",
    ...["--signal", signalUrl, "--web-url", web.url, "--data-dir", hubDir],
    ...["--name", "Test home", "--synthetic-cycle", "10"],
  ])
  const context = await launchPhone(profile)
  const origins = new Set<string>()
  context.on("request", (r) => void origins.add(new URL(r.url()).origin))
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const link = (await hub.waitForLine(/Pairing link: (\S+)/, 60_000))[1]!
    expect(link.startsWith(`${web.url}/#pair=`)).toBe(true)

    // Act
    await page.goto(link)

    // Assert: the build carries the policy naming that signal; pairing and a clip work across origins.
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content")
    expect(csp).toContain(`connect-src 'self' blob: ${signalUrl}`)
    expect(csp).toContain("script-src 'self'")
    await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
    await expect(page.getByTestId("event").first()).toBeVisible({ timeout: 90_000 })
    expect([...origins].filter((o) => o.startsWith("http")).sort()).toEqual([web.url, signalUrl].sort())

    // Assert: any other origin is out of reach for the page's scripts.
    const elsewhere = `http://127.0.0.1:${await freePort()}/`
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          document.addEventListener(
            "securitypolicyviolation",
            (e) => resolve(`blocked: ${e.violatedDirective}`),
            { once: true },
          )
          fetch(url).then(
            () => resolve("reached"),
            () => undefined,
          )
        }),
      elsewhere,
    )
    expect(outcome).toBe("blocked: connect-src")
  } finally {
    await context.close()
    await hub.stop()
    await signal.stop()
    web.server.close()
    await Promise.all([signalDir, hubDir, webDir, profile].map(removeDir))
  }
})
