/**
 * Renaming a camera from a paired phone (Devices screen), hub side, on the in-memory relay: the rename is
 * saved in the hub's state and outlives a restart, every phone gets a new roster, later clips and sightings
 * carry the new name, and forged, replayed, stale or unknown-camera requests change nothing.
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import type { CameraId, DeviceId, DeviceRequest } from "@vigil/protocol"
import type { HubSpace } from "../src/space/hubSpace.ts"
import { memoryHousehold, rosterWhere, type MemoryHousehold } from "./support/memoryHousehold.ts"

const cameras = [
  { id: "front-door", name: "Front door" },
  { id: "garden", name: "Garden" },
]

let home: MemoryHousehold
let hub: HubSpace
let dataDir: string
let logs: string[]

beforeEach(async () => {
  home = await memoryHousehold(cameras)
  ;({ hub, dataDir, logs } = home)
})
afterEach(() => home.close())

const logCount = (msg: string) => home.logCount(msg)

/** Phones A (the owner) and B (a member) paired by discovery, both up to date. */
async function twoPhones() {
  const [a, b] = await home.pairPhones(["A", "B"])
  return { a: a!, b: b! }
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
    hub = await home.reopen()
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
    await a.sendDeviceRequest(rename(a.deviceId, "garden", "Yard", now + 3))
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
