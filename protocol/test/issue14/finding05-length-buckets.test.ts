import { describe, expect, it } from "vitest"
import { randomBytes, toBase64Url, toHex } from "../../src/bytes.ts"
import type { DeviceId, SpaceId } from "../../src/ids.ts"
import {
  openSignedHubMessage,
  signHubMessage,
  type ClipAnnouncement,
  type EventLabel,
  type HubMessage,
} from "../../src/hubMessages.ts"
import { bucketLength } from "../../src/lengthBuckets.ts"
import { encodePushText, exportPushSecret, openPushPayload, sealPushPayload } from "../../src/pushPayload.ts"
import { createPendingJoin, SpaceSession } from "../../src/spaceSession.ts"

const noPersist = async () => {}
const hex = (n: number) => toHex(randomBytes(n / 2))
const labels: EventLabel[] = ["motion", "person", "pet", "vehicle"]
const classOf = { person: "person", pet: "dog", vehicle: "car" } as const

async function space() {
  const hub = await SpaceSession.create({
    groupId: randomBytes(16),
    self: { role: "hub", deviceId: hex(32) as DeviceId },
    trust: () => true,
    persist: noPersist,
  })
  const pending = await createPendingJoin({ role: "phone", deviceId: hex(32) as DeviceId })
  const { welcome } = await hub.addMember(pending.keyPackage)
  const phone = await SpaceSession.join({ welcome, pending, trust: () => true, persist: noPersist })
  return { hub, phone, hubKey: hub.members()[0]!.signaturePublicKey }
}

/** A clip announcement as the hub makes one; detections only where a detector named something. */
function announcement(spaceId: string, label: EventLabel, epoch: bigint): ClipAnnouncement {
  const now = Date.now()
  return {
    kind: "clip",
    clipId: hex(32) as ClipAnnouncement["clipId"],
    spaceId: spaceId as SpaceId,
    blobId: hex(64) as ClipAnnouncement["blobId"],
    size: 1_234_567,
    epoch: epoch.toString(),
    cameraId: "front-door" as ClipAnnouncement["cameraId"],
    cameraName: "Front door",
    label,
    startedAt: now - 12_000,
    endedAt: now,
    mimeType: 'video/mp4; codecs="avc1.42C01E"',
    motionStartedAt: now - 12_500,
    seq: 41,
    thumbnail: { clipId: hex(32), blobId: hex(64), size: 18_432 },
    ...(label === "motion"
      ? {}
      : {
          detections: [
            {
              label,
              className: classOf[label],
              score: 0.8734,
              box: { x: 0.1234, y: 0.2345, width: 0.3456, height: 0.4567 },
              at: now - 11_000,
            },
          ],
        }),
    recordHashes: toBase64Url(randomBytes(32 * 20)),
  }
}

describe("issue 14 finding 5: lengths do not tell the label", () => {
  it("bucketLength: powers of two from 1 KiB to 4 KiB, then multiples of 4 KiB", () => {
    expect([0, 1024, 1025, 2048, 2049, 4096, 4097, 9000].map((n) => bucketLength(n))).toEqual([
      1024, 1024, 2048, 2048, 4096, 4096, 8192, 12288,
    ])
    expect(bucketLength(100, 512, 512)).toBe(512)
    expect(bucketLength(513, 512, 512)).toBe(1024)
  })

  it("sealed clip announcements and sightings of every label have the same length, and still open", async () => {
    const { hub, phone, hubKey } = await space()
    const spaceId = toHex(hub.groupId)
    const sizes: Record<string, number> = {}
    const seal = async (name: string, message: HubMessage) => {
      const sealed = await hub.seal(
        await signHubMessage(message, hub.groupId, hub.signaturePrivateKey, hub.signature),
      )
      sizes[name] = sealed.length
      const opened = await phone.open(sealed, 0)
      if (opened.kind !== "application") throw new Error("expected application data")
      expect(await openSignedHubMessage(opened.data, phone.groupId, hubKey, phone.signature)).toEqual(message)
    }
    for (const label of labels) await seal(`clip ${label}`, announcement(spaceId, label, hub.epoch))
    for (const label of labels.filter((l) => l !== "motion")) {
      await seal(`sighting ${label}`, {
        kind: "sighting",
        spaceId: spaceId as SpaceId,
        epoch: hub.epoch.toString(),
        cameraId: "front-door" as ClipAnnouncement["cameraId"],
        cameraName: "Front door",
        label,
        score: 0.8734,
        at: Date.now(),
        motionStartedAt: Date.now() - 600,
        seq: 42,
        thumbnail: { clipId: hex(32), blobId: hex(64), size: 18_432 },
      })
    }
    const clipSizes = labels.map((l) => sizes[`clip ${l}`])
    const sightingSizes = Object.entries(sizes)
      .filter(([k]) => k.startsWith("sighting"))
      .map(([, v]) => v)
    expect(new Set(clipSizes).size, JSON.stringify(sizes)).toBe(1)

    expect(new Set(sightingSizes).size, JSON.stringify(sizes)).toBe(1)
  })

  it("push payloads of every label, with or without a picture, have the same length", async () => {
    const { hub, phone, hubKey } = await space()
    const { secret, epoch } = await exportPushSecret(hub)
    const lengths: number[] = []
    for (const label of labels) {
      for (const withPicture of [true, false]) {
        const payload = await sealPushPayload({
          notice: {
            kind: "clip",
            spaceId: toHex(hub.groupId) as SpaceId,
            clipId: hex(32) as ClipAnnouncement["clipId"],
            cameraId: "front-door" as ClipAnnouncement["cameraId"],
            cameraName: label === "vehicle" ? "Driveway" : "Front door",
            label,
            startedAt: Date.now(),
            ...(withPicture ? { thumbnail: { clipId: hex(32), blobId: hex(64), size: 18_432 } } : {}),
          },
          epoch,
          secret,
          groupId: hub.groupId,
          signKey: hub.signaturePrivateKey,
          signature: hub.signature,
        })
        lengths.push(encodePushText(payload).length)
        const phoneSecret = await exportPushSecret(phone)
        const opened = await openPushPayload(payload, {
          secret: phoneSecret.secret,
          groupId: phone.groupId,
          hubKey,
          signature: phone.signature,
        })
        expect(opened.kind === "clip" && opened.label).toBe(label)
      }
    }
    expect(new Set(lengths).size, JSON.stringify(lengths)).toBe(1)
  })
})
