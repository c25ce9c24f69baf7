import { describe, expect, it } from "vitest"
import { randomBytes, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError, ProtocolStateError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  isDeviceRequestKind,
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
    await expect(open(signed, { now: now + 61_000 })).rejects.toThrow(ProtocolStateError)
    await expect(open(signed, { notBefore: now })).rejects.toThrow(/replayed/)
    await expect(open(utf8("x"))).rejects.toThrow(CodecError)
  })

  it("the roster verifies under the hub key only", async () => {
    const hubKeys = await keys()
    const roster = {
      kind: "device-roster" as const,
      spaceId: toHex(groupId) as SpaceId,
      epoch: "7",
      devices: [{ deviceId: phone, name: "Anna's phone", pairedAt: now }],
    }
    const signed = await signDeviceRoster(roster, groupId, hubKeys.signKey, signature)
    expect(await openDeviceRoster(signed, groupId, hubKeys.publicKey, signature)).toEqual(roster)
    await expect(openDeviceRoster(signed, groupId, phoneKeys.publicKey, signature)).rejects.toThrow(
      CryptoError,
    )
    expect(peekEnvelopeKind(signed)).toBe("device-roster")
  })
})
