import { describe, expect, it } from "vitest"
import { randomBytes, toBase64Url, toHex, utf8 } from "./bytes.ts"
import { CodecError, CryptoError } from "./errors.ts"
import type { DeviceId, SpaceId } from "./ids.ts"
import {
  isPairingNoticeBytes,
  openPairingApproval,
  openPairingNotice,
  signPairingApproval,
  signPairingNotice,
} from "./pairingApproval.ts"
import {
  decodeDiscoveryAnnouncement,
  decodeDiscoveryRoomMessage,
  encodeDiscoveryAnnouncement,
  encodeDiscoveryRoomMessage,
  newDiscoveryRoomId,
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
    const refused = (code: string) => ({ code })
    await expect(openPairingApproval(signed, { ...opts, code: "654321" })).rejects.toMatchObject(
      refused("PAIRING_INVALID"),
    )
    await expect(openPairingApproval(signed, { ...opts, target: id() })).rejects.toMatchObject(
      refused("PAIRING_INVALID"),
    )
    // The checks every phone-signed message gets (signedEnvelope.ts, openPhoneSigned).
    await expect(openPairingApproval(signed, { ...opts, from: id() })).rejects.toMatchObject(
      refused("UNTRUSTED_CREDENTIAL"),
    )
    await expect(openPairingApproval(signed, { ...opts, pinnedKey: () => undefined })).rejects.toMatchObject(
      refused("NOT_A_MEMBER"),
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
