import { spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { readFile, rm, writeFile } from "node:fs/promises"
import { request } from "node:http"
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

  it("finishes an in-flight upload after SIGTERM, and keeps blobs and pending messages across a restart", async () => {
    const dataDir = await makeTempDir()
    dirs.push(dataDir)
    // The operator turns push on by naming the push services (a fictitious one here).
    const config = join(dataDir, "config.json")
    await writeFile(config, JSON.stringify({ pushHosts: ["push.example"] }))
    const first = startServer(["--port", "0", "--data-dir", dataDir, "--config", config])
    const url = await first.listening
    expect(url, first.output().stderr).toBeDefined()
    const api = async (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, init)
    const register = async (kind: string) =>
      (await (
        await api("/v1/devices", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ kind }),
        })
      ).json()) as { deviceId: string; token: string }
    const hub = await register("hub")
    const phone = await register("phone")
    const auth = (d: { token: string }) => ({ authorization: `Bearer ${d.token}` })
    const { spaceId } = (await (await api("/v1/spaces", { method: "POST", headers: auth(hub) })).json()) as {
      spaceId: string
    }
    const room = "a1".repeat(32)
    await api(`/v1/rooms/${room}/owner`, { method: "PUT", headers: auth(hub) })
    await api(`/v1/rooms/${room}/messages`, {
      method: "POST",
      headers: { ...auth(phone), "content-type": "application/octet-stream" },
      body: new Uint8Array([1]),
    })
    await api(`/v1/spaces/${spaceId}/members/${phone.deviceId}`, { method: "PUT", headers: auth(hub) })
    const sent = await api(`/v1/devices/${phone.deviceId}/mailbox`, {
      method: "POST",
      headers: { ...auth(hub), "content-type": "application/octet-stream" },
      body: new Uint8Array([7]),
    })
    expect(sent.status).toBe(201)

    // A slow upload: half now, SIGTERM, the rest later. The relay must take it to the end.
    const bytes = randomBytes(200_000)
    const blobId = createHash("sha256").update(bytes).digest("hex")
    const uploaded = new Promise<number>((resolve, reject) => {
      const req = request(
        `${url}/v1/spaces/${spaceId}/blobs/${blobId}`,
        { method: "PUT", headers: { ...auth(hub), "content-type": "application/octet-stream" } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on("error", reject)
      req.write(bytes.subarray(0, 100_000), () => {
        first.child.kill("SIGTERM")
        setTimeout(() => req.end(bytes.subarray(100_000)), 300)
      })
    })
    expect(await uploaded).toBe(201)
    expect(await first.exited).toBe(0)

    const second = startServer(["--port", "0", "--data-dir", dataDir, "--config", config])
    const url2 = await second.listening
    expect(url2, second.output().stderr).toBeDefined()
    const inbox = await fetch(`${url2}/v1/mailbox`, { headers: auth(phone) })
    expect(((await inbox.json()) as { messages: { body: string }[] }).messages.map((m) => m.body)).toEqual([
      "Bw==",
    ])
    const blob = await fetch(`${url2}/v1/spaces/${spaceId}/blobs/${blobId}`, {
      headers: { ...auth(phone), range: "bytes=-10" },
    })
    expect(blob.status).toBe(206)
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true)
    // The VAPID key pair was made on first start and kept.
    const vapid = JSON.parse(await readFile(join(dataDir, "vapid.json"), "utf8")) as { publicKey: string }
    expect(await (await fetch(`${url2}/v1/push/vapid-public-key`)).json()).toEqual({
      publicKey: vapid.publicKey,
    })
    second.child.kill("SIGTERM")
    expect(await second.exited).toBe(0)
  })

  it("reads limits from a --config file and refuses a bad one naming the field", async () => {
    const dir = await makeTempDir()
    dirs.push(dir)
    await writeFile(join(dir, "bad.json"), JSON.stringify({ spaceQuotaBytes: "lots" }))
    const bad = startServer(["--config", join(dir, "bad.json"), "--data-dir", dir])
    expect(await bad.exited).toBe(2)
    expect(bad.output().stderr.trim()).toMatch(/^signal: --config: spaceQuotaBytes: /)
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
