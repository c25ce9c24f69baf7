import { describe, expect, it } from "vitest"
import { randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { confirmationCode } from "./confirmationCode.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  checkPairingConfirmation,
  decodeDiscoveryAnnouncement,
  decodeDiscoveryRoomMessage,
  encodeDiscoveryAnnouncement,
  encodeDiscoveryRoomMessage,
  encodePairingConfirmation,
  isPairingNoticeBytes,
  openPairingApproval,
  openPairingNotice,
  signPairingApproval,
  signPairingNotice,
  newDiscoveryRoomId,
  openPairingResult,
  signPairingResult,
  decodeJoinLink,
  encodeJoinLink,
  type DiscoveryRoomMessage,
  type JoinLink,
} from "./pairingDiscovery.ts"
import { createPendingJoin, pendingSignatureKeys, SpaceSession } from "./spaceSession.ts"

const id = () => toHex(randomBytes(16)) as DeviceId

describe("discovery announcement", () => {
  it("round-trips name and suite and refuses junk", () => {
    const a = { name: "Front door", suite: "MLS_256_XWING_AES256GCM_SHA512_Ed25519" } as const
    expect(decodeDiscoveryAnnouncement(encodeDiscoveryAnnouncement(a))).toEqual(a)
    const d = decodeDiscoveryAnnouncement(
      encodeDiscoveryAnnouncement({ name: "Home", suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" }),
    )
    expect(d.suite).toBe("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")
    expect(encodeDiscoveryAnnouncement({ ...a, name: "x".repeat(200) }).length).toBeLessThanOrEqual(256)
    for (const bad of [
      "",
      "{",
      '{"v":2,"name":"a"}',
      '{"v":1,"name":"a\\u0007"}',
      '{"v":1,"name":"a\\u202eb"}',
      '{"v":1,"name":"\\u001b[2Jx"}',
      '{"v":1,"name":""}',
    ]) {
      expect(() => decodeDiscoveryAnnouncement(utf8(bad))).toThrow(CodecError)
    }
    expect(newDiscoveryRoomId()).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe("discovery room messages", () => {
  it("round-trip and must name the device signal says sent them", () => {
    const deviceId = id()
    const messages: DiscoveryRoomMessage[] = [
      {
        kind: "join",
        deviceId,
        deviceName: "Anna's phone",
        keyPackage: randomBytes(300),
        commitment: randomBytes(32),
      },
      { kind: "reveal", deviceId, nonce: randomBytes(32) },
      { kind: "confirm", deviceId, sealed: randomBytes(200) },
      { kind: "cancel", deviceId },
    ]
    for (const m of messages) {
      const bytes = encodeDiscoveryRoomMessage(m)
      expect(decodeDiscoveryRoomMessage(bytes, deviceId)).toEqual(m)
      expect(() => decodeDiscoveryRoomMessage(bytes, id())).toThrow(CryptoError)
    }
    for (const bad of ["nope", '{"v":1,"kind":"join"}', '{"v":1,"kind":"other","device":"00"}']) {
      expect(() => decodeDiscoveryRoomMessage(utf8(bad), deviceId)).toThrow(CodecError)
    }
  })
})

describe("pairing by discovery", () => {
  async function pendingPairing() {
    const hubId = id()
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: hubId },
      trust: () => true,
      persist: async () => {},
    })
    const phoneId = id()
    const pending = await createPendingJoin({ role: "phone", deviceId: phoneId })
    const { welcome } = await hub.addMember(pending.keyPackage)
    const phone = await SpaceSession.join({ welcome, pending, trust: () => true, persist: async () => {} })
    return { hub, phone, phoneId }
  }

  it("the phone's sealed confirmation opens at the hub for the same code only", async () => {
    const { hub, phone, phoneId } = await pendingPairing()
    const nonce = randomBytes(32)
    const code = await confirmationCode(phone.epochAuthenticator, nonce)
    expect(code).toBe(await confirmationCode(hub.epochAuthenticator, nonce))
    const sealed = await phone.seal(encodePairingConfirmation(phoneId, code))
    const opened = await hub.open(sealed, hub.ownLeafIndex)
    if (opened.kind !== "application") throw new Error("expected an application message")
    expect(() => checkPairingConfirmation(opened.data, phoneId, code)).not.toThrow()
    expect(() => checkPairingConfirmation(opened.data, id(), code)).toThrow(CryptoError)
    expect(() =>
      checkPairingConfirmation(opened.data, phoneId, "000000" === code ? "000001" : "000000"),
    ).toThrow(CryptoError)
    // A replay of the same MLS message is refused by the MLS layer.
    await expect(hub.open(sealed, hub.ownLeafIndex)).rejects.toThrow()
  })

  it("the hub's result verifies under the hub key from the Welcome and under no other", async () => {
    const { hub, phone, phoneId } = await pendingPairing()
    const result = {
      kind: "pairing-result" as const,
      spaceId: toHex(hub.groupId) as SpaceId,
      to: phoneId,
      accepted: true,
      epoch: hub.epoch.toString(),
    }
    const signed = await signPairingResult(result, hub.groupId, hub.signaturePrivateKey, hub.signature)
    const hubKey = phone.members().find((m) => m.identity.role === "hub")!.signaturePublicKey
    expect(await openPairingResult(signed, phone.groupId, hubKey, phone.signature)).toEqual(result)
    const phoneKey = phone.members().find((m) => m.identity.role === "phone")!.signaturePublicKey
    await expect(openPairingResult(signed, phone.groupId, phoneKey, phone.signature)).rejects.toThrow(
      CryptoError,
    )
    await expect(openPairingResult(signed, randomBytes(16), hubKey, phone.signature)).rejects.toThrow(
      CryptoError,
    )
    // A phone (which also holds a signature key in the group) cannot forge the hub's answer.
    const forged = await signPairingResult(result, phone.groupId, phone.signaturePrivateKey, phone.signature)
    await expect(openPairingResult(forged, phone.groupId, hubKey, phone.signature)).rejects.toThrow(
      CryptoError,
    )
  })
})

describe("approval by a paired phone", () => {
  it("the hub's notice and a paired phone's approval verify only under the right keys and request", async () => {
    const hub = await SpaceSession.create({
      groupId: randomBytes(16),
      self: { role: "hub", deviceId: id() },
      trust: () => true,
      persist: async () => {},
    })
    const approverId = id()
    const approver = pendingSignatureKeys(await createPendingJoin({ role: "phone", deviceId: approverId }))
    const target = id()
    const hubKey = hub.members()[0]!.signaturePublicKey
    const notice = {
      kind: "pairing-pending" as const,
      spaceId: toHex(hub.groupId) as SpaceId,
      roomId: newDiscoveryRoomId(),
      deviceId: target,
      deviceName: "New phone",
      code: "123456",
      expiresAt: 1,
    }
    const signedNotice = await signPairingNotice(notice, hub.groupId, hub.signaturePrivateKey, hub.signature)
    expect(isPairingNoticeBytes(signedNotice)).toBe(true)
    expect(isPairingNoticeBytes(randomBytes(40))).toBe(false)
    expect(await openPairingNotice(signedNotice, hub.groupId, hubKey, hub.signature)).toEqual(notice)
    await expect(
      openPairingNotice(signedNotice, hub.groupId, approver.publicKey, hub.signature),
    ).rejects.toThrow(CryptoError)

    const approval = {
      kind: "pairing-approve" as const,
      deviceId: approverId,
      target,
      code: "123456",
      approve: true,
    }
    const signed = await signPairingApproval(approval, hub.groupId, approver.signKey, hub.signature)
    const opts = {
      groupId: hub.groupId,
      from: approverId,
      pinnedKey: (d: DeviceId) => (d === approverId ? approver.publicKey : undefined),
      signature: hub.signature,
      target,
      code: "123456",
    }
    expect(await openPairingApproval(signed, opts)).toEqual(approval)
    await expect(openPairingApproval(signed, { ...opts, code: "654321" })).rejects.toThrow(CryptoError)
    await expect(openPairingApproval(signed, { ...opts, target: id() })).rejects.toThrow(CryptoError)
    await expect(openPairingApproval(signed, { ...opts, from: id() })).rejects.toThrow(CryptoError)
    await expect(openPairingApproval(signed, { ...opts, pinnedKey: () => undefined })).rejects.toThrow(
      CryptoError,
    )
    const forged = await signPairingApproval(approval, hub.groupId, hub.signaturePrivateKey, hub.signature)
    await expect(openPairingApproval(forged, opts)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
  })
})

describe("join links", () => {
  const link: JoinLink = {
    roomId: "ab".repeat(32),
    name: "Cabin",
    hubDeviceId: "cd".repeat(16),
    suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
    expiresAt: 1_800_000_000_000,
  }

  it("round-trip, and carry nothing secret", () => {
    const text = encodeJoinLink(link)
    expect(text.startsWith("j1.")).toBe(true)
    expect(decodeJoinLink(text)).toEqual(link)
    expect(
      decodeJoinLink(encodeJoinLink({ ...link, suite: "MLS_256_XWING_AES256GCM_SHA512_Ed25519" })).suite,
    ).toBe("MLS_256_XWING_AES256GCM_SHA512_Ed25519")
  })

  it("refuse anything else with a CodecError", () => {
    const body = (o: unknown) => `j1.${toBase64Url(utf8(JSON.stringify(o)))}`
    const good = { v: 1, room: link.roomId, name: "Cabin", hub: link.hubDeviceId, exp: 1 }
    for (const bad of [
      "",
      "v1.abc",
      "j1.%%%",
      "j1." + "A".repeat(2000),
      body({ ...good, room: "xyz" }),
      body({ ...good, name: "Bad\u202ename" }),
      body({ ...good, hub: "not-hex" }),
      body({ ...good, extra: true }),
      body({ ...good, v: 2 }),
    ]) {
      expect(() => decodeJoinLink(bad), bad.slice(0, 40)).toThrow(CodecError)
    }
  })
})
