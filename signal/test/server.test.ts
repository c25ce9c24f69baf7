import { spawn } from "node:child_process"
import { rm } from "node:fs/promises"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { makeTempDir } from "./harness.ts"

const serverPath = fileURLToPath(new URL("../src/server.ts", import.meta.url))
// Run tsx's CLI with node directly: no npx, and the signal reaches the server process itself.
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli")

function startServer(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [tsxCli, serverPath, ...args], {
    env: { ...process.env, SIGNAL_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  // Resolves with the URL, or with undefined if the process exits before printing it.
  const listening = new Promise<string | undefined>((resolve) => {
    child.stdout.on("data", () => {
      const match = /^signal listening on (http:\/\/\S+)$/m.exec(stdout)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    void exited.then(() => resolve(undefined))
  })
  return { child, listening, exited, output: () => ({ stdout, stderr }) }
}

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

describe("server.ts", () => {
  it("listens on the real port for --port 0, prints one line, and stops cleanly on SIGTERM", async () => {
    const dataDir = await makeTempDir()
    dirs.push(dataDir)
    const server = startServer(["--port", "0", "--data-dir", join(dataDir, "signal")])
    const url = await server.listening
    expect(url, server.output().stderr).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/)
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true })

    server.child.kill("SIGTERM")
    expect(await server.exited).toBe(0)
    expect(server.output().stdout).toBe(`signal listening on ${url}\n`)
  })

  it("lets an in-flight long poll finish (empty) on SIGTERM, then exits 0", async () => {
    const dataDir = await makeTempDir()
    dirs.push(dataDir)
    const server = startServer(["--port", "0", "--data-dir", dataDir])
    const url = await server.listening
    expect(url, server.output().stderr).toBeDefined()
    const registered = await fetch(`${url}/v1/devices`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "phone" }),
    })
    const { token } = (await registered.json()) as { token: string }
    const started = Date.now()
    const polling = fetch(`${url}/v1/mailbox?wait=20000`, { headers: { authorization: `Bearer ${token}` } })
    await new Promise((r) => setTimeout(r, 200))

    server.child.kill("SIGTERM")
    const answer = await polling
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ messages: [] })
    expect(await server.exited).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it("exits 2 with a one-line error naming a bad setting", async () => {
    const bad = startServer(["--port", "99999"])
    expect(await bad.exited).toBe(2)
    expect(bad.output().stderr.trim()).toMatch(/^signal: --port: .*99999/)

    const badEnv = startServer([], { SIGNAL_PORT: "http" })
    expect(await badEnv.exited).toBe(2)
    expect(badEnv.output().stderr).toContain("SIGNAL_PORT")
  })
})
