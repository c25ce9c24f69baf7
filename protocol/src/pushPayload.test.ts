import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import type { DeviceIdentity, TrustPolicy } from "./credentials.ts"
import { VigilError } from "./errors.ts"
import type { CameraId, ClipId, DeviceId, SpaceId } from "./ids.ts"
import {
  decodePushText,
  encodePushText,
  exportPushSecret,
  maxPushPayloadBytes,
  openPushPayload,
  pushPayloadEpoch,
  sealPushPayload,
  type PushNotice,
} from "./pushPayload.ts"
import { createPendingJoin, decodeKeyPackage, pendingSignatureKeys, SpaceSession } from "./spaceSession.ts"

const noPersist = async () => {}

/** A hub and one phone in a real MLS group (suite 1). */
async function setup() {
  const hubIdentity: DeviceIdentity = { role: "hub", deviceId: toHex(randomBytes(16)) as DeviceId }
  const phoneKeys = new Set<string>()
  const hub = await SpaceSession.create({
    groupId: randomBytes(16),
    self: hubIdentity,
    trust: (identity, key) => identity.role === "hub" || phoneKeys.has(toHex(key)),
    persist: noPersist,
  })
  const hubKey = hub.members()[0]!.signaturePublicKey
  const trust: TrustPolicy = (identity, key) => identity.role === "phone" || toHex(key) === toHex(hubKey)
  const pending = await createPendingJoin({ role: "phone", deviceId: toHex(randomBytes(16)) as DeviceId })
  phoneKeys.add(toHex(decodeKeyPackage(pending.keyPackage).leafNode.signaturePublicKey))
  const { welcome } = await hub.addMember(pending.keyPackage)
  const phone = await SpaceSession.join({ welcome, pending, trust, persist: noPersist })
  return { hub, phone, hubKey, phoneSignKey: pendingSignatureKeys(pending).signKey }
}

const notice = (spaceId: string): PushNotice => ({
  kind: "clip",
  spaceId: spaceId as SpaceId,
  clipId: "c".repeat(32) as ClipId,
  cameraId: "front" as CameraId,
  cameraName: "Front door",
  label: "person",
  startedAt: 1_700_000_000_000,
  thumbnail: { clipId: "d".repeat(32) as ClipId, blobId: "e".repeat(64), size: 1234 },
})

async function sealByHub(s: Awaited<ReturnType<typeof setup>>) {
  const { secret, epoch } = await exportPushSecret(s.hub)
  const payload = await sealPushPayload({
    notice: notice(toHex(s.hub.groupId)),
    epoch,
    secret,
    groupId: s.hub.groupId,
    signKey: s.hub.signaturePrivateKey,
    signature: s.hub.signature,
  })
  return { payload, epoch }
}

describe("push payload", () => {
  it("round-trips: the phone in the same epoch derives the key and reads the hub's notice", async () => {
    const s = await setup()
    const { payload, epoch } = await sealByHub(s)
    expect(pushPayloadEpoch(payload)).toBe(epoch)
    const text = encodePushText(payload)
    expect(text.length).toBeLessThanOrEqual(maxPushPayloadBytes)
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
    const { secret } = await exportPushSecret(s.phone)
    const opened = await openPushPayload(decodePushText(text), {
      secret,
      groupId: s.phone.groupId,
      hubKey: s.hubKey,
      signature: s.phone.signature,
    })
    expect(opened).toEqual(notice(toHex(s.hub.groupId)))
  })

  it("refuses every flipped byte: header, nonce, ciphertext and tag", async () => {
    const s = await setup()
    const { payload } = await sealByHub(s)
    const { secret } = await exportPushSecret(s.phone)
    for (let i = 0; i < payload.length; i += 7) {
      const bad = payload.slice()
      bad[i]! ^= 0x01
      await expect(
        openPushPayload(bad, {
          secret,
          groupId: s.phone.groupId,
          hubKey: s.hubKey,
          signature: s.phone.signature,
        }),
      ).rejects.toBeInstanceOf(VigilError)
    }
  })

  it("refuses a payload from another epoch's key (the phone never shows a wrong notice)", async () => {
    const s = await setup()
    const { payload } = await sealByHub(s)
    const { commit } = await s.hub.rotate()
    await s.phone.open(commit, 0)
    const { secret } = await exportPushSecret(s.phone)
    await expect(
      openPushPayload(payload, {
        secret,
        groupId: s.phone.groupId,
        hubKey: s.hubKey,
        signature: s.phone.signature,
      }),
    ).rejects.toMatchObject({ code: "PUSH_TAMPERED" })
  })

  it("refuses a notice a phone signed: members hold the push key, only the hub may notify", async () => {
    const s = await setup()
    const { secret, epoch } = await exportPushSecret(s.phone)
    const forged = await sealPushPayload({
      notice: notice(toHex(s.phone.groupId)),
      epoch,
      secret,
      groupId: s.phone.groupId,
      signKey: s.phoneSignKey,
      signature: s.phone.signature,
    })
    await expect(
      openPushPayload(forged, {
        secret,
        groupId: s.phone.groupId,
        hubKey: s.hubKey,
        signature: s.phone.signature,
      }),
    ).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
  })

  it("rejects malformed push text and payloads with typed errors", async () => {
    expect(() => decodePushText("not base64url!")).toThrow(VigilError)
    expect(pushPayloadEpoch(new Uint8Array(10))).toBeUndefined()
    const s = await setup()
    const { secret } = await exportPushSecret(s.phone)
    await expect(
      openPushPayload(new Uint8Array(40), {
        secret,
        groupId: s.phone.groupId,
        hubKey: s.hubKey,
        signature: s.phone.signature,
      }),
    ).rejects.toMatchObject({ code: "CODEC_INVALID" })
  })
})
