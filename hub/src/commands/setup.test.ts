import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { explainProbeFailure, parseRelayUrl, runSetup, type ProbeResult } from "./setup.ts"

describe("parseRelayUrl", () => {
  it("takes an https origin, with or without the scheme typed", () => {
    expect(parseRelayUrl("https://relay.example.org")).toEqual({ url: "https://relay.example.org" })
    expect(parseRelayUrl("relay.example.org/")).toEqual({ url: "https://relay.example.org" })
  })
  it("refuses plain http except on this machine, and paths", () => {
    expect(parseRelayUrl("http://relay.example.org")).toHaveProperty("reason")
    expect(parseRelayUrl("http://192.168.1.5:8080")).toHaveProperty("reason")
    expect(parseRelayUrl("http://127.0.0.1:8080")).toEqual({ url: "http://127.0.0.1:8080" })
    expect(parseRelayUrl("https://relay.example.org/app")).toHaveProperty("reason")
    expect(parseRelayUrl("not a url at all")).toHaveProperty("reason")
  })
})

describe("explainProbeFailure", () => {
  const url = "rtsp://admin:secret@192.168.1.20:554/stream1"
  it("says what a person can act on, and never the password", () => {
    const cases: [string, RegExp][] = [
      ["[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized", /wrong user name or password/],
      ["Connection to tcp://192.168.1.20:554 failed: Connection refused", /nothing answers for RTSP/],
      ["Connection to tcp://192.168.1.20:554 failed: No route to host", /no route to the camera/],
      ["method DESCRIBE failed: 404 Not Found", /no stream at that path/],
      [`${url}: Invalid data found when processing input`, /did not open/],
    ]
    for (const [stderr, expected] of cases) {
      const reason = explainProbeFailure(stderr, url)
      expect(reason).toMatch(expected)
      expect(reason).not.toContain("secret")
    }
  })
})

describe("runSetup", () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-setup-"))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const scripted = (answers: string[]) => {
    const asked: string[] = []
    return {
      asked,
      ask: (q: string) => {
        asked.push(q)
        return Promise.resolve(answers.shift())
      },
    }
  }

  it("asks again until the relay answers and the camera opens, then saves all of it", async () => {
    const configPath = join(dir, "hub.json")
    const printed: string[] = []
    const relays: string[] = []
    const { ask } = scripted([
      "http://relay.example.org",
      "down.example.org",
      "relay.example.org",
      "",
      "rtsp://u:wrong@cam/stream",
      "rtsp://u:right@cam/stream",
      "Porch",
    ])
    const code = await runSetup({
      configPath,
      ask,
      print: (l) => printed.push(l),
      checkRelay: (url) => {
        relays.push(url)
        return Promise.resolve(url.includes("down") ? "no route to down.example.org" : undefined)
      },
      probeCamera: (url): Promise<ProbeResult> =>
        Promise.resolve(
          url.includes("wrong")
            ? { ok: false, reason: "wrong user name or password for the camera" }
            : { ok: true, summary: "H.264 1280×720 at 15 fps" },
        ),
    })
    expect(code).toBe(0)
    expect(relays).toEqual(["https://down.example.org", "https://relay.example.org"])
    expect(printed.join("\n")).toMatch(/over https[\s\S]*no route[\s\S]*wrong user name[\s\S]*Found H\.264/)
    const saved = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>
    expect(saved).toMatchObject({
      name: "My home",
      signalUrl: "https://relay.example.org",
      cameras: [{ kind: "rtsp", url: "rtsp://u:right@cam/stream", name: "Porch" }],
    })
    // It may hold a camera password.
    expect((await stat(configPath)).mode & 0o077).toBe(0)
  })

  it("saves nothing when the answers stop before the end", async () => {
    const configPath = join(dir, "hub.json")
    await writeFile(configPath, '{ "name": "Cabin" }\n')
    const { ask, asked } = scripted(["https://relay.example.org", "Cabin 2"])
    const code = await runSetup({
      configPath,
      ask,
      print: () => {},
      checkRelay: () => Promise.resolve(undefined),
      probeCamera: () => Promise.reject(new Error("no camera is asked for")),
    })
    expect(code).toBe(1)
    expect(asked.some((q) => q.includes("[Cabin]"))).toBe(true)
    expect(await readFile(configPath, "utf8")).toBe('{ "name": "Cabin" }\n')
  })
})
