import { describe, expect, it } from "vitest"
import { randomBytes, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { CameraId, DeviceId, SpaceId } from "./ids.ts"
import {
  isDeviceRequestKind,
  isValidCameraName,
  openDeviceRequest,
  openDeviceRoster,
  peekEnvelopeKind,
  signDeviceRequest,
  signDeviceRoster,
  type DeviceRequest,
} from "./deviceRoster.ts"
import { signLiveRequest } from "./liveRequest.ts"
import { createPendingJoin, pendingSignatureKeys } from "./spaceSession.ts"
import { loadSuite } from "./suite.ts"

const id = () => toHex(randomBytes(16)) as DeviceId

async function keys() {
  const pending = await createPendingJoin({ role: "phone", deviceId: id() })
  return pendingSignatureKeys(pending)
}

describe("device requests", async () => {
  const { signature } = await loadSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")
  const groupId = randomBytes(16)
  const phone = id()
  const phoneKeys = await keys()
  const now = 1_800_000_000_000
  const pinned = (d: DeviceId) => (d === phone ? phoneKeys.publicKey : undefined)
  const remove: DeviceRequest = { kind: "device-remove", deviceId: phone, target: id(), issuedAt: now }
  const open = (bytes: Uint8Array, extra: { from?: DeviceId; now?: number; notBefore?: number } = {}) =>
    openDeviceRequest(bytes, { groupId, from: phone, pinnedKey: pinned, signature, now, ...extra })

  it("round-trips, and is told apart from a live request without verifying", async () => {
    const signed = await signDeviceRequest(remove, groupId, phoneKeys.signKey, signature)
    expect(await open(signed)).toEqual(remove)
    expect(isDeviceRequestKind(peekEnvelopeKind(signed))).toBe(true)
    const live = await signLiveRequest(
      { kind: "live-close", sessionId: toHex(randomBytes(16)), deviceId: phone },
      groupId,
      phoneKeys.signKey,
      signature,
    )
    expect(isDeviceRequestKind(peekEnvelopeKind(live))).toBe(false)
    expect(peekEnvelopeKind(utf8("junk"))).toBeUndefined()
  })

  it("carries a join link's room (pairing-open), and only a well-formed one", async () => {
    const openRoom: DeviceRequest = {
      kind: "pairing-open",
      deviceId: phone,
      roomId: "ef".repeat(32),
      issuedAt: now,
    }
    const signed = await signDeviceRequest(openRoom, groupId, phoneKeys.signKey, signature)
    expect(isDeviceRequestKind(peekEnvelopeKind(signed))).toBe(true)
    expect(await open(signed)).toEqual(openRoom)
    const bad = await signDeviceRequest(
      { ...openRoom, roomId: "short" },
      groupId,
      phoneKeys.signKey,
      signature,
    )
    await expect(open(bad)).rejects.toBeInstanceOf(CodecError)
  })

  it("is refused from a non-member, for another sender, with a forged signature, stale, or replayed", async () => {
    const signed = await signDeviceRequest(remove, groupId, phoneKeys.signKey, signature)
    const stranger = id()
    const strangerKeys = await keys()
    const fromStranger = await signDeviceRequest(
      { ...remove, deviceId: stranger },
      groupId,
      strangerKeys.signKey,
      signature,
    )
    await expect(open(fromStranger, { from: stranger })).rejects.toMatchObject({ code: "NOT_A_MEMBER" })
    await expect(open(signed, { from: stranger })).rejects.toThrow(CryptoError)
    const forged = await signDeviceRequest(remove, groupId, strangerKeys.signKey, signature)
    await expect(open(forged)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
    const otherGroup = await signDeviceRequest(remove, randomBytes(16), phoneKeys.signKey, signature)
    await expect(open(otherGroup)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
    await expect(open(signed, { now: now + 61_000 })).rejects.toMatchObject({ code: "REQUEST_STALE" })
    await expect(open(signed, { notBefore: now })).rejects.toMatchObject({ code: "REQUEST_REPLAYED" })
    await expect(open(utf8("x"))).rejects.toThrow(CodecError)
  })

  it("the roster verifies under the hub key only", async () => {
    const hubKeys = await keys()
    const roster = {
      kind: "device-roster" as const,
      spaceId: toHex(groupId) as SpaceId,
      epoch: "7",
      devices: [{ deviceId: phone, name: "Anna's phone", pairedAt: now }],
      cameras: [{ id: "front-door" as CameraId, name: "Porch" }],
    }
    const signed = await signDeviceRoster(roster, groupId, hubKeys.signKey, signature)
    expect(await openDeviceRoster(signed, groupId, hubKeys.publicKey, signature)).toEqual(roster)
    await expect(openDeviceRoster(signed, groupId, phoneKeys.publicKey, signature)).rejects.toThrow(
      CryptoError,
    )
    expect(peekEnvelopeKind(signed)).toBe("device-roster")
  })

  it("reads a roster without cameras (from an older hub) as one with none", async () => {
    const hubKeys = await keys()
    const old = { kind: "device-roster", spaceId: toHex(groupId), epoch: "3", devices: [] }
    // Signed as an older hub did: no `cameras` field at all.
    const signed = await signDeviceRoster(old as never, groupId, hubKeys.signKey, signature)
    expect(await openDeviceRoster(signed, groupId, hubKeys.publicKey, signature)).toEqual({
      ...old,
      cameras: [],
    })
  })

  it("refuses a roster whose camera is malformed", async () => {
    const hubKeys = await keys()
    const roster = {
      kind: "device-roster" as const,
      spaceId: toHex(groupId) as SpaceId,
      epoch: "7",
      devices: [],
      cameras: [{ id: "Front Door" as CameraId, name: "Porch" }],
    }
    const signed = await signDeviceRoster(roster, groupId, hubKeys.signKey, signature)
    await expect(openDeviceRoster(signed, groupId, hubKeys.publicKey, signature)).rejects.toThrow(CodecError)
  })
})

describe("camera rename requests", async () => {
  const { signature } = await loadSuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")
  const groupId = randomBytes(16)
  const phone = id()
  const phoneKeys = await keys()
  const now = 1_800_000_000_000
  const pinned = (d: DeviceId) => (d === phone ? phoneKeys.publicKey : undefined)
  const rename: DeviceRequest = {
    kind: "rename-camera",
    deviceId: phone,
    cameraId: "front-door" as CameraId,
    name: "Porch",
    issuedAt: now,
  }
  const open = (bytes: Uint8Array, extra: { from?: DeviceId; now?: number; notBefore?: number } = {}) =>
    openDeviceRequest(bytes, { groupId, from: phone, pinnedKey: pinned, signature, now, ...extra })
  const sign = (request: DeviceRequest, key = phoneKeys.signKey) =>
    signDeviceRequest(request, groupId, key, signature)

  it("round-trips signed by the phone, and is a device request", async () => {
    const signed = await sign(rename)
    expect(await open(signed)).toEqual(rename)
    expect(peekEnvelopeKind(signed)).toBe("rename-camera")
    expect(isDeviceRequestKind(peekEnvelopeKind(signed))).toBe(true)
    const unicode = { ...rename, name: "Garten – Süd 🌳" }
    expect(await open(await sign(unicode))).toEqual(unicode)
    expect(await open(await sign({ ...rename, name: "x".repeat(64) }))).toMatchObject({
      name: "x".repeat(64),
    })
  })

  it("refuses a forged signature, a stale one, and a replay", async () => {
    const signed = await sign(rename)
    const stranger = await keys()
    await expect(open(await sign(rename, stranger.signKey))).rejects.toMatchObject({
      code: "SIGNATURE_INVALID",
    })
    await expect(open(signed, { from: id() })).rejects.toThrow(CryptoError)
    await expect(open(signed, { now: now - 61_000 })).rejects.toMatchObject({ code: "REQUEST_STALE" })
    await expect(open(signed, { notBefore: now })).rejects.toMatchObject({ code: "REQUEST_REPLAYED" })
    await expect(open(signed, { notBefore: now - 1 })).resolves.toEqual(rename)
  })

  it.each([
    ["empty", ""],
    ["65 characters", "x".repeat(65)],
    ["a newline", "Front\ndoor"],
    ["an escape", "Porch\u001b[31m"],
    ["a bidi override", "Porch\u202e"],
    ["a zero-width joiner", "Por\u200dch"],
  ])("refuses a name with %s", async (_what, name) => {
    expect(isValidCameraName(name)).toBe(false)
    await expect(open(await sign({ ...rename, name }))).rejects.toThrow(CodecError)
  })

  it("refuses a malformed camera id or extra fields", async () => {
    await expect(open(await sign({ ...rename, cameraId: "../etc" as CameraId }))).rejects.toThrow(CodecError)
    await expect(open(await sign({ ...rename, extra: 1 } as DeviceRequest))).rejects.toThrow(CodecError)
    expect(isValidCameraName("Porch")).toBe(true)
  })
})
