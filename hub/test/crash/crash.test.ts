/**
 * Crash safety: the hub process is killed (SIGKILL) at random points while it commits epochs and delivers
 * clips. Afterwards the phone must hold every clip the hub had accepted, decrypt each to the exact bytes,
 * and keep decrypting new ones — the hub's state and outbox never diverge from what phones saw.
 */
import "fake-indexeddb/auto"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { pino } from "pino"
import { afterAll, beforeAll, expect, it } from "vitest"
import { decodeInvite, randomBytes, type CameraId } from "@vigil/protocol"
import { startTestRelay } from "@vigil/signal"
import { LocalStore, PhoneSpace } from "@vigil/web"
import { HubSpace } from "../../src/space/hubSpace.ts"

const targetClips = 50
const worker = new URL("./crashWorker.ts", import.meta.url).pathname
const logger = pino({ level: "silent" })

let relay: Awaited<ReturnType<typeof startTestRelay>>
let dataDir: string

beforeAll(async () => {
  relay = await startTestRelay()
  dataDir = await mkdtemp(join(tmpdir(), "vigil-crash-"))
})
afterAll(async () => {
  await relay.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** Runs the worker until `killAfterMs` (SIGKILL) or until it exits; returns the clips it accepted. */
function runWorker(killAfterMs: number | undefined, mode?: "drain") {
  return new Promise<{ accepted: Map<string, string>; lines: string[] }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", worker, relay.url, dataDir, ...(mode ? [mode] : [])],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    )
    const accepted = new Map<string, string>()
    const lines: string[] = []
    let timer: NodeJS.Timeout | undefined
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line)
      const m = /^accepted (\w+) (\w+)$/.exec(line)
      if (m) accepted.set(m[1]!, m[2]!)
      if (line === "ready" && killAfterMs !== undefined)
        timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs)
    })
    createInterface({ input: child.stderr }).on("line", (line) => lines.push(`stderr: ${line}`))
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      if (signal !== "SIGKILL" && code !== 0)
        reject(new Error(`worker failed (${code}):\n${lines.join("\n")}`))
      else resolve({ accepted, lines })
    })
  })
}

it(`a hub killed at random points during ${targetClips} clip-plus-commit cycles loses no clip`, async () => {
  // Arrange: a hub space with one paired phone.
  const hub = await HubSpace.open({ dataDir, signalUrl: relay.url, hubName: "Crash", logger })
  const store = await LocalStore.open("crash-phone")
  let invite = ""
  const paired = new Promise<void>(
    (resolve) => void hub.createInvite(() => resolve()).then((i) => (invite = i.code)),
  )
  while (!invite) await new Promise((r) => setTimeout(r, 10))
  const phone = await PhoneSpace.pair(store, decodeInvite(invite), () => {})
  void phone.run()
  await paired
  await hub.drained()
  await hub.close()

  // Act: kill the delivering hub over and over.
  const accepted = new Map<string, string>()
  let kills = 0
  while (accepted.size < targetClips) {
    const run = await runWorker(50 + Math.floor(Math.random() * 600))
    for (const [k, v] of run.accepted) accepted.set(k, v)
    kills++
  }
  await runWorker(undefined, "drain")

  // Assert: every accepted clip reached the phone and decrypts to the exact bytes.
  const deadline = Date.now() + 60_000
  let events = await store.listEvents(1000)
  while ([...accepted.keys()].some((id) => !events.some((e) => e.clipId === id)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
    events = await store.listEvents(1000)
  }
  const missing = [...accepted.keys()].filter((id) => !events.some((e) => e.clipId === id))
  expect(missing, `clips accepted by the hub but never received (after ${kills} kills)`).toEqual([])
  for (const [clipId, sha] of accepted) {
    const clip = await phone.loadClip(events.find((e) => e.clipId === clipId)!)
    expect(createHash("sha256").update(clip).digest("hex"), `clip ${clipId}`).toBe(sha)
  }
  expect(kills).toBeGreaterThan(5)

  // Assert: after all that, a new clip still goes through.
  const hub2 = await HubSpace.open({ dataDir, signalUrl: relay.url, hubName: "Crash", logger })
  const fresh = randomBytes(30_000)
  const last = await hub2.deliverClip({
    mp4: fresh,
    cameraId: "crash" as CameraId,
    cameraName: "Crash cam",
    label: "motion",
    startedAt: Date.now() - 1000,
    endedAt: Date.now(),
  })
  await hub2.drained()
  let lastEvent = undefined
  while (!lastEvent && Date.now() < deadline + 20_000) {
    lastEvent = (await store.listEvents(1000)).find((e) => e.clipId === last!.clipId)
    if (!lastEvent) await new Promise((r) => setTimeout(r, 100))
  }
  expect(await phone.loadClip(lastEvent!)).toEqual(fresh)
  phone.stop()
  await hub2.close()
  store.close()
}, 240_000)
