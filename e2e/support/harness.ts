/**
 * Arrange helpers shared by the specs: real signal and hub processes on 127.0.0.1, and the system Chromium
 * in a persistent context (a plain launch is incognito, where a PWA is never installable).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { chromium, expect, type BrowserContext, type Page } from "@playwright/test"

export const repoRoot = new URL("../..", import.meta.url).pathname

export class ManagedProcess {
  readonly lines: string[] = []
  private waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = []

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const onLine = (line: string) => {
      this.lines.push(line)
      if (process.env.E2E_VERBOSE) console.log(`[${name}] ${line}`)
      for (const w of [...this.waiters]) {
        const m = w.re.exec(line)
        if (m) {
          this.waiters = this.waiters.filter((x) => x !== w)
          w.resolve(m)
        }
      }
    }
    createInterface({ input: child.stdout! }).on("line", onLine)
    createInterface({ input: child.stderr! }).on("line", onLine)
  }

  /** Resolves with the first line (already seen or future) that matches. */
  waitForLine(re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    for (const line of this.lines) {
      const m = re.exec(line)
      if (m) return Promise.resolve(m)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: no line matching ${re} within ${timeoutMs} ms. Output:\n${this.lines.slice(-30).join("\n")}`,
            ),
          ),
        timeoutMs,
      )
      this.waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer)
          resolve(m)
        },
      })
    })
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((r) => this.child.once("exit", r))
    this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000)
    await exited
    clearTimeout(timer)
  }
}

function startTs(name: string, args: string[], env: Record<string, string> = {}): ManagedProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  return new ManagedProcess(name, child)
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vigil-e2e-${prefix}-`))
}

/** Starts a TypeScript entry point as a managed process (here, or inside a network namespace). */
export type StartTs = (name: string, args: string[]) => ManagedProcess

/**
 * Signal on 127.0.0.1 with a fresh port, serving the built PWA. `start` runs it elsewhere (a network
 * namespace's `startTs`); `extraArgs` adds flags (`--config FILE`).
 */
export async function startSignal(
  dataDir: string,
  opts: { start?: StartTs; extraArgs?: string[] } = {},
): Promise<{ proc: ManagedProcess; url: string; port: string }> {
  const args = ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir]
  const proc = (opts.start ?? startTs)("signal", [
    "signal/src/server.ts",
    ...args,
    "--web-root",
    join(repoRoot, "web/dist"),
    ...(opts.extraArgs ?? []),
  ])
  const m = await proc.waitForLine(/signal listening on (http:\/\/127\.0\.0\.1:(\d+))/)
  return { proc, url: m[1]!, port: m[2]! }
}

export async function startHub(opts: {
  signalUrl: string
  dataDir: string
  cycleSeconds?: number
  /** A hub config file (cameras and their settings); the flags below override its other fields. */
  configPath?: string
}): Promise<ManagedProcess> {
  return startTs("hub", [
    "hub/src/cli.ts",
    "start",
    "--signal",
    opts.signalUrl,
    "--data-dir",
    opts.dataDir,
    "--name",
    "Test home",
    "--synthetic-cycle",
    String(opts.cycleSeconds ?? 10),
    ...(opts.configPath ? ["--config", opts.configPath] : []),
  ])
}

export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
}

/** Launch options for a phone: the system Chromium (or a wrapper), headless, with nothing that phones home. */
export function phoneLaunchOptions(executablePath = chromiumPath()) {
  return {
    executablePath,
    headless: true,
    viewport: { width: 360, height: 740 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  }
}

/** A phone in a persistent context (a plain launch is incognito, where a PWA is never installable). */
export async function launchPhone(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, phoneLaunchOptions())
}

/** Every regular file under a directory, recursively. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(path)))
    else if (entry.isFile() && (await stat(path)).size > 0) out.push(path)
  }
  return out
}

export async function readAll(paths: string[]): Promise<Map<string, Buffer>> {
  return new Map(await Promise.all(paths.map(async (p) => [p, await readFile(p)] as const)))
}

export async function removeDir(dir: string) {
  await rm(dir, { recursive: true, force: true })
}

/**
 * A hub whose terminal the test types into (stdin is a pipe), in pairing mode by discovery (`--pair`):
 * `answer("y")` is the person at the hub confirming the code.
 */
export function startHubWithConsole(opts: {
  signalUrl: string
  dataDir: string
  cycleSeconds?: number
  name?: string
}): ManagedProcess & { answer: (line: string) => void } {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "hub/src/cli.ts",
      "start",
      "--signal",
      opts.signalUrl,
      "--data-dir",
      opts.dataDir,
      "--name",
      opts.name ?? "Test home",
      "--synthetic-cycle",
      String(opts.cycleSeconds ?? 10),
      "--pair",
    ],
    { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: "info" }, stdio: ["pipe", "pipe", "pipe"] },
  )
  const proc = new ManagedProcess("hub", child)
  return Object.assign(proc, { answer: (line: string) => void child.stdin!.write(`${line}\n`) })
}

/**
 * Pairs the phone the quickest way: opens the pairing link the hub printed (as after scanning its QR code)
 * and waits until the app says it is paired. Returns the link.
 */
export async function pairByLink(hub: ManagedProcess, page: Page): Promise<string> {
  const link = (await hub.waitForLine(/Pairing link: (\S+)/, 60_000))[1]!
  await page.goto(link)
  await expect(page.getByTestId("paired-with")).toBeVisible({ timeout: 45_000 })
  return link
}
