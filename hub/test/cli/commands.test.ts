/**
 * The hub's command line as a person uses it: `hub cameras add|list|remove` on a config file, and
 * `hub status` / `hub pair` against a running `hub start` (real processes, a test relay on 127.0.0.1).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestRelay } from "@vigil/signal"
import { runCamerasCommand } from "../../src/commands/cameras.ts"
import { findTools, waitUntil } from "../support/mediaTools.ts"

const cli = new URL("../../src/cli.ts", import.meta.url).pathname

function runCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    child.on("error", reject)
    child.on("exit", (code) => resolve({ code, out, err }))
  })
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-cli-"))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe("hub cameras", () => {
  const cameras = async (args: string[]) => {
    const r = await runCamerasCommand(args)
    return { code: r.code, out: r.out.join("\n"), err: r.err.join("\n") }
  }

  it("adds, lists and removes cameras in the config file, and names a bad field", async () => {
    const config = join(dir, "cameras.json")
    await writeFile(config, JSON.stringify({ name: "Test home" }))

    // Through the real command line once; the rest calls the command directly (each tsx start costs ~1 s).
    const added = await runCli([
      "cameras",
      "add",
      "porch",
      "--config",
      config,
      "--name",
      "Porch",
      "--rtsp",
      "rtsp://admin:secret@127.0.0.1:8554/cam",
    ])
    expect(added.code, added.err).toBe(0)
    expect(added.out).toContain("Added: porch")
    expect(await cameras(["add", "desk", "--config", config, "--v4l2", "/dev/video0"])).toMatchObject({
      code: 0,
    })
    const listed = await cameras(["list", "--config", config])
    expect(listed.out).toMatch(/porch\s+rtsp\s+rtsp:\/\/\*\*\*@127\.0\.0\.1:8554\/cam \(tcp\)\s+"Porch"/)
    expect(listed.out).toMatch(/desk\s+v4l2\s+\/dev\/video0/)
    expect(listed.out).not.toContain("secret")
    expect(JSON.parse(await readFile(config, "utf8"))).toMatchObject({
      name: "Test home",
      cameras: [{ id: "porch" }, { id: "desk" }],
    })

    await expect(cameras(["add", "gate", "--config", config, "--rtsp", "http://nope"])).rejects.toThrow(
      'field "cameras.2.url"',
    )
    expect((await cameras(["add", "porch", "--config", config, "--synthetic"])).err).toContain(
      "already exists",
    )
    expect((await cameras(["add", "x", "--config", config, "--synthetic", "--file", "a.mp4"])).code).toBe(2)

    expect((await cameras(["remove", "porch", "--config", config])).code).toBe(0)
    expect((await cameras(["list", "--config", config])).out).not.toContain("porch")
    expect((await cameras(["remove", "porch", "--config", config])).code).toBe(1)
    expect((await cameras(["remove", "desk", "--config", config])).out).toContain("built-in test camera")
  })

  it("names the bad field on the command line", async () => {
    const config = join(dir, "bad.json")
    await writeFile(config, JSON.stringify({ cameras: [{ id: "Bad Id", name: "X", kind: "synthetic" }] }))
    const listed = await runCli(["cameras", "list", "--config", config])
    expect(listed.code).toBe(2)
    expect(listed.err).toContain('field "cameras.0.id"')
  })
})

describe.skipIf(!findTools())("hub status and hub pair against a running hub", () => {
  let relay: Awaited<ReturnType<typeof startTestRelay>>
  let hub: ChildProcess | undefined
  const lines: string[] = []

  beforeAll(async () => {
    relay = await startTestRelay()
  })
  afterAll(async () => {
    if (hub && hub.exitCode === null) {
      const exited = new Promise((r) => hub?.once("exit", r))
      hub.kill("SIGTERM")
      await exited
    }
    await relay?.close()
  })

  it("reports the cameras and phones, and shows a pairing QR code made by the running hub; issue 14 findings 6 and 16: lists the phones, keeps the secret off stdout and the files private", async () => {
    const dataDir = join(dir, "hub-data")
    const config = join(dir, "hub.json")
    await writeFile(
      config,
      JSON.stringify({
        name: "CLI home",
        signalUrl: relay.url,
        dataDir,
        detection: { enabled: false },
        cameras: [{ id: "yard", name: "Yard", kind: "synthetic", cycleSeconds: 60, motionSeconds: 2 }],
      }),
    )
    hub = spawn(process.execPath, ["--import", "tsx", cli, "start", "--config", config], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LOG_LEVEL: "warn" },
    })
    createInterface({ input: hub.stdout! }).on("line", (l) => lines.push(l))
    createInterface({ input: hub.stderr! }).on("line", (l) => lines.push(l))
    await waitUntil(() => lines.some((l) => l.includes('run "hub pair"')), 30_000, "the hub to start").catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${lines.join("\n")}`)
      },
    )
    // Issue 14 finding 16: not on a terminal (a service's journal), the one-time pairing secret is not printed;
    // what the hub keeps is its user's alone, the control socket included.
    expect(lines.some((l) => l.includes("#pair="))).toBe(false)
    const mode = async (path: string) => (await stat(path)).mode & 0o777
    expect(await mode(dataDir)).toBe(0o700)
    expect(await mode(join(dataDir, "work"))).toBe(0o700)
    expect(await mode(join(dataDir, "state.json"))).toBe(0o600)
    expect(await mode(join(dataDir, "hub.sock"))).toBe(0o600)

    let status = await runCli(["status", "--config", config])
    for (let i = 0; i < 50 && !/yard\s+running/.test(status.out); i++) {
      await new Promise((r) => setTimeout(r, 200))
      status = await runCli(["status", "--config", config])
    }
    expect(status.code, status.err).toBe(0)
    expect(status.out).toContain('Hub "CLI home": running since')
    expect(status.out).toContain("0 phone(s) paired")
    expect(status.out).toContain("Object detection: off")
    expect(status.out).toMatch(/yard\s+running; video \d+ s ago; 0 clip\(s\)/)

    const pair = await runCli(["pair", "--config", config, "--no-wait"])
    expect(pair.code, pair.err).toBe(0)
    expect(pair.out).toMatch(new RegExp(`Pairing link: ${relay.url.replace(/[.]/g, "\\.")}/#pair=\\S+`))
    // The QR code: rows of half blocks, as many rows as about half its width.
    const qrRows = pair.out.split("\n").filter((l) => /^[█▀▄ ]{20,}$/.test(l))
    expect(qrRows.length).toBeGreaterThan(10)

    // Issue 14 finding 6: the person at the hub lists (and removes, see hub/test/issue14) the phones.
    const phones = await runCli(["phones", "list", "--config", config])
    expect(phones.code, phones.err).toBe(0)
    expect(phones.out).toContain("No phone is paired.")

    // No hub with that data directory: status says so and fails.
    const none = await runCli(["status", "--data-dir", join(dir, "elsewhere")])
    expect(none.code).toBe(1)
    expect(none.err).toContain("no hub is running")
  })
})
