/**
 * Renaming a camera from a paired phone (Devices screen), hub side, on the in-memory relay: the rename is
 * saved in the hub's state and outlives a restart, every phone gets a new roster, later clips and sightings
 * carry the new name, and forged, replayed, stale or unknown-camera requests change nothing.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Writable } from "node:stream"
import { pino } from "pino"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import {
  MemoryRelay,
  type CameraId,
  type DeviceId,
  type DeviceRequest,
  type DeviceRoster,
} from "@vigil/protocol"
import { HubSpace, type DiscoveryRequest } from "../src/space/hubSpace.ts"
import { rawPhone as makeRawPhone } from "./support/rawPhone.ts"

const cameras = [
  { id: "front-door", name: "Front door" },
  { id: "garden", name: "Garden" },
]

let relay: MemoryRelay
let dataDir: string
let hub: HubSpace
let logs: string[]

function openHub() {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split("\n").filter(Boolean))
      done()
    },
  })
  return HubSpace.open({
    dataDir,
    signalUrl: "http://relay.invalid",
    relay: (token) => relay.transport({ token }),
    hubName: "Home",
    logger: pino({ level: "info" }, sink),
    cameras,
  })
}

beforeEach(async () => {
  relay = new MemoryRelay()
  dataDir = await mkdtemp(join(tmpdir(), "vigil-rename-"))
  logs = []
  hub = await openHub()
})
afterEach(async () => {
  await hub.close()
  await rm(dataDir, { recursive: true, force: true })
})

const logCount = (msg: string) => logs.filter((l) => l.includes(`"msg":"${msg}"`)).length

/** A phone made of protocol parts only: pairs by discovery, collects rosters and hub messages. */
const rawPhone = (name: string) =>
  makeRawPhone(
    { relay: (token) => relay.transport({ token }), hubDeviceId: () => hub.deviceId, hubName: "Home" },
    name,
  )

/** Phones A and B paired by discovery, both up to date. */
async function twoPhones() {
  const asked: DiscoveryRequest[] = []
  let yes: (v: boolean) => void = () => {}
  const discovery = hub.startDiscovery({
    confirm: (request) =>
      new Promise<boolean>((resolve) => {
        asked.push(request)
        yes = resolve
      }),
  })
  const a = await rawPhone("A")
  await a.pair(
    () => asked.length,
    () => yes(true),
  )
  const b = await rawPhone("B")
  await b.pair(
    () => asked.length,
    () => yes(true),
  )
  discovery.stop()
  await a.follow()
  return { a, b }
}

/** Waits until `phone` holds a roster that satisfies `check`; returns it. */
async function rosterWhere(
  phone: Awaited<ReturnType<typeof rawPhone>>,
  check: (r: DeviceRoster) => boolean,
  since = 0,
) {
  let found: DeviceRoster | undefined
  await vi.waitFor(
    async () => {
      await phone.follow()
      found = phone.rosters.slice(since).findLast(check)
      if (!found) throw new Error("no such roster yet")
    },
    { timeout: 15_000, interval: 100 },
  )
  return found!
}

const rename = (from: DeviceId, cameraId: string, name: string, issuedAt: number): DeviceRequest => ({
  kind: "rename-camera",
  deviceId: from,
  cameraId: cameraId as CameraId,
  name,
  issuedAt,
})

describe("renaming a camera from a phone", () => {
  it("applies it for every phone, keeps it across a restart, and uses it in later clips and sightings", async () => {
    const { a, b } = await twoPhones()
    // The roster B got at pairing already lists the cameras under their config names.
    expect((await rosterWhere(b, (r) => r.cameras.length === 2)).cameras).toEqual(cameras)

    const now = Date.now()
    await a.sendDeviceRequest(rename(a.deviceId, "front-door", "Porch", now))
    const porch = [
      { id: "front-door", name: "Porch" },
      { id: "garden", name: "Garden" },
    ]
    for (const phone of [a, b]) {
      expect((await rosterWhere(phone, (r) => r.cameras[0]?.name === "Porch")).cameras).toEqual(porch)
    }
    expect(hub.cameras).toEqual(porch)
    await hub.drained()
    const saved = JSON.parse(await readFile(join(dataDir, "state.json"), "utf8")) as unknown
    expect(JSON.stringify(saved)).toContain('"cameraNames":{"front-door":"Porch"}')

    // Restart: the override is read back from the saved state.
    await hub.close()
    hub = await openHub()
    expect(hub.cameras).toEqual(porch)
    expect(hub.cameraName("front-door", "Front door")).toBe("Porch")
    expect(hub.cameraName("garden", "Garden")).toBe("Garden")

    // The next clip and sighting, handed over under the config's name, go out under the new one.
    await hub.deliverSighting({
      cameraId: "front-door" as CameraId,
      cameraName: "Front door",
      label: "person",
      score: 0.9,
      at: now,
      motionStartedAt: now,
    })
    await hub.deliverClip({
      mp4: new Uint8Array([0, 0, 0, 8, 102, 116, 121, 112]),
      cameraId: "front-door" as CameraId,
      cameraName: "Front door",
      label: "motion",
      startedAt: now,
      endedAt: now + 1000,
    })
    await hub.drained()
    for (const phone of [a, b]) {
      await vi.waitFor(
        async () => {
          await phone.follow()
          expect(phone.messages.map((m) => m.kind)).toEqual(expect.arrayContaining(["sighting", "clip"]))
        },
        { timeout: 15_000, interval: 100 },
      )
      for (const m of phone.messages) {
        if (m.kind === "clip" || m.kind === "sighting") expect(m.cameraName).toBe("Porch")
      }
    }

    // Renaming back to the config's name leaves no override.
    const seen = b.rosters.length
    await a.sendDeviceRequest(rename(a.deviceId, "front-door", "Front door", now + 1))
    await rosterWhere(b, (r) => r.cameras[0]?.name === "Front door", seen)
    expect(hub.cameras).toEqual(cameras)
  })

  it("refuses forged, replayed, stale, malformed and unknown-camera renames", async () => {
    const { a, b } = await twoPhones()
    await a.follow()
    const rostersBefore = a.rosters.length
    const refusedBefore = logCount("refused a message in the hub mailbox")
    const now = Date.now()
    // Forged (B's key, A's name), foreign sender (B naming A), stale, unknown camera, bad name.
    await a.sendDeviceRequest(rename(a.deviceId, "front-door", "Forged", now), b.signKey)
    await b.sendDeviceRequest(rename(a.deviceId, "front-door", "Foreign", now))
    await a.sendDeviceRequest(rename(a.deviceId, "front-door", "Stale", now - 120_000))
    await a.sendDeviceRequest(rename(a.deviceId, "attic", "Attic", now))
    await a.sendDeviceRequest(rename(a.deviceId, "front-door", "Bad\u202ename", now + 1))
    await vi.waitFor(() => expect(logCount("refused a message in the hub mailbox")).toBe(refusedBefore + 5), {
      timeout: 15_000,
    })
    expect(logs.filter((l) => l.includes("no camera attic on this hub"))).toHaveLength(1)
    expect(hub.cameras).toEqual(cameras)

    // The genuine request goes through once; its replay is refused and changes nothing.
    const request = rename(a.deviceId, "garden", "Back garden", now + 2)
    await a.sendDeviceRequest(request)
    await rosterWhere(a, (r) => r.cameras[1]?.name === "Back garden")
    await b.sendDeviceRequest(rename(b.deviceId, "garden", "Yard", now + 3))
    await rosterWhere(a, (r) => r.cameras[1]?.name === "Yard")
    await a.sendDeviceRequest(request)
    await vi.waitFor(() => expect(logCount("refused a message in the hub mailbox")).toBe(refusedBefore + 6), {
      timeout: 15_000,
    })
    expect(logs.filter((l) => l.includes("device request replayed"))).toHaveLength(1)
    expect(hub.cameraName("garden", "Garden")).toBe("Yard")
    await a.follow()
    // Two renames, two rosters: nothing refused produced one.
    expect(a.rosters.length - rostersBefore).toBe(2)
  })
})
