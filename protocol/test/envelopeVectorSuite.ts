/**
 * The checked-in vectors of the signed and sealed messages (vectors/generateEnvelopes.ts): today's code must
 * produce exactly these bytes from the recorded inputs, open them back to those inputs, and refuse them once
 * tampered. Only the push payload is encrypted, with the AES-GCM provider given; the web's (WebCrypto)
 * runs the suite in Node and Chromium, the hub's (node:crypto) in hub/test.
 */
import { describe, expect, it } from "vitest"
import deviceRosterVectors from "./vectors/device-roster.json"
import hubMessageVectors from "./vectors/hub-messages.json"
import liveRequestVectors from "./vectors/live-request.json"
import pairingVectors from "./vectors/pairing.json"
import pushVector from "./vectors/push-payload.json"
import rejoinVector from "./vectors/rejoin.json"
import envelopeVectors from "./vectors/signed-envelope.json"
import type { AeadProvider } from "../src/aead.ts"
import { fromHex, fromUtf8, toHex } from "../src/bytes.ts"
import {
  openDeviceRequest,
  openDeviceRoster,
  peekEnvelopeKind,
  signDeviceRequest,
  signDeviceRoster,
  type DeviceRequest,
  type DeviceRoster,
} from "../src/deviceRoster.ts"
import { VigilError } from "../src/errors.ts"
import { openHubMessage, openSignedHubMessage, signHubMessage, type HubMessage } from "../src/hubMessages.ts"
import type { DeviceId, SpaceId } from "../src/ids.ts"
import { bucketLength } from "../src/lengthBuckets.ts"
import { openLiveRequest, signLiveRequest, type LiveRequest } from "../src/liveRequest.ts"
import {
  createJoinRequest,
  decodeInvite,
  encodeInvite,
  pairingRoomId,
  verifyJoinRequest,
  type Invite,
} from "../src/pairing.ts"
import {
  decodePushText,
  encodePushText,
  openPushPayload,
  pushPayloadEpoch,
  sealPushPayload,
  type PushNotice,
} from "../src/pushPayload.ts"
import { createRejoinRequest, openRejoinRequest } from "../src/rejoin.ts"
import { signEnvelope, splitEnvelope, verifyEnvelope } from "../src/signedEnvelope.ts"
import { loadSuite } from "../src/suite.ts"

const signature = async () => (await loadSuite()).signature

/** The bytes with one bit of the byte at `at` (negative: from the end) flipped. */
function flipped(hex: string, at = -1): Uint8Array {
  const bytes = fromHex(hex)
  bytes[(at + bytes.length) % bytes.length]! ^= 1
  return bytes
}

export function describeEnvelopeVectors(aead: AeadProvider) {
  describe("signed envelope vectors", () => {
    const v = envelopeVectors
    for (const c of v.cases) {
      it(`${c.name}: signs to the vector, and the vector splits and verifies`, async () => {
        const padTo = "padTo" in c ? c.padTo : undefined
        const pad = padTo === undefined ? undefined : (n: number) => bucketLength(n, padTo, padTo)
        const sig = await signature()
        const groupId = fromHex(v.groupId)
        const bytes = await signEnvelope(c.label, groupId, c.value, fromHex(v.hubSignKey), sig, pad)
        expect(toHex(bytes)).toBe(c.envelope)
        const envelope = splitEnvelope(fromHex(c.envelope), "vector")
        expect(JSON.parse(fromUtf8(envelope.body))).toEqual(c.value)
        if (padTo !== undefined) expect(envelope.body.length).toBe(padTo)
        const key = fromHex(v.hubPublicKey)
        expect(await verifyEnvelope(c.label, groupId, envelope, key, sig)).toBe(true)
        expect(await verifyEnvelope(`${c.label}x`, groupId, envelope, key, sig)).toBe(false)
        const tampered = splitEnvelope(flipped(c.envelope), "vector")
        expect(await verifyEnvelope(c.label, groupId, tampered, key, sig)).toBe(false)
      })
    }
  })

  describe("hub message vectors", () => {
    const v = hubMessageVectors
    const groupId = fromHex(v.groupId)
    for (const c of v.cases) {
      const message = c.message as HubMessage
      it(`${c.name}: signs to the vector and opens back`, async () => {
        const sig = await signature()
        expect(toHex(await signHubMessage(message, groupId, fromHex(v.hubSignKey), sig))).toBe(c.bytes)
        expect(await openSignedHubMessage(fromHex(c.bytes), groupId, fromHex(v.hubPublicKey), sig)).toEqual(
          message,
        )
      })

      it(`${c.name}: refuses the vector tampered, or under another key`, async () => {
        const sig = await signature()
        await expect(
          openSignedHubMessage(flipped(c.bytes), groupId, fromHex(v.hubPublicKey), sig),
        ).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
        await expect(
          openSignedHubMessage(fromHex(c.bytes), groupId, flipped(v.hubPublicKey), sig),
        ).rejects.toBeInstanceOf(VigilError)
      })
    }

    it("opens only clip announcements as clips", async () => {
      const sig = await signature()
      const key = fromHex(v.hubPublicKey)
      for (const c of v.cases) {
        const opening = openHubMessage(fromHex(c.bytes), groupId, key, sig)
        if (c.message.kind === "clip") expect(await opening).toEqual(c.message)
        else await expect(opening).rejects.toMatchObject({ code: "CODEC_INVALID" })
      }
    })
  })

  describe("live request vectors", () => {
    const v = liveRequestVectors
    const groupId = fromHex(v.groupId)
    const open = async (bytes: Uint8Array, from = v.phoneId) =>
      openLiveRequest(bytes, {
        groupId,
        from: from as DeviceId,
        pinnedKey: (id) => (id === v.phoneId ? fromHex(v.phonePublicKey) : undefined),
        signature: await signature(),
        now: 1_763_000_000_000,
      })
    for (const c of v.cases) {
      const request = c.request as LiveRequest
      it(`${c.name}: signs to the vector and opens back`, async () => {
        const sig = await signature()
        expect(toHex(await signLiveRequest(request, groupId, fromHex(v.phoneSignKey), sig))).toBe(c.bytes)
        expect(await open(fromHex(c.bytes))).toEqual(request)
      })

      it(`${c.name}: refuses the vector tampered, or from another sender`, async () => {
        await expect(open(flipped(c.bytes, 5))).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
        await expect(open(fromHex(c.bytes), "0".repeat(32))).rejects.toMatchObject({
          code: "UNTRUSTED_CREDENTIAL",
        })
      })
    }
  })

  describe("device request and roster vectors", () => {
    const v = deviceRosterVectors
    const groupId = fromHex(v.groupId)
    const open = async (bytes: Uint8Array) =>
      openDeviceRequest(bytes, {
        groupId,
        from: v.phoneId as DeviceId,
        pinnedKey: (id) => (id === v.phoneId ? fromHex(v.phonePublicKey) : undefined),
        signature: await signature(),
        now: 1_763_000_000_000,
      })
    for (const c of v.requests) {
      const request = c.request as DeviceRequest
      it(`${c.name}: signs to the vector and opens back`, async () => {
        const sig = await signature()
        expect(toHex(await signDeviceRequest(request, groupId, fromHex(v.phoneSignKey), sig))).toBe(c.bytes)
        expect(await open(fromHex(c.bytes))).toEqual(request)
        expect(peekEnvelopeKind(fromHex(c.bytes))).toBe(request.kind)
      })

      it(`${c.name}: refuses the vector tampered`, async () => {
        await expect(open(flipped(c.bytes, 5))).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
      })
    }

    it("signs the roster to the vector, opens it back, refuses it tampered", async () => {
      const sig = await signature()
      const roster = v.roster.value as DeviceRoster
      expect(toHex(await signDeviceRoster(roster, groupId, fromHex(v.hubSignKey), sig))).toBe(v.roster.bytes)
      const key = fromHex(v.hubPublicKey)
      expect(await openDeviceRoster(fromHex(v.roster.bytes), groupId, key, sig)).toEqual(roster)
      await expect(openDeviceRoster(flipped(v.roster.bytes), groupId, key, sig)).rejects.toMatchObject({
        code: "SIGNATURE_INVALID",
      })
    })
  })

  describe("rejoin request vector", () => {
    const v = rejoinVector
    const request = {
      deviceId: v.request.deviceId as DeviceId,
      spaceId: v.request.spaceId as SpaceId,
      keyPackage: fromHex(v.request.keyPackage),
      issuedAt: v.request.issuedAt,
    }
    const open = async (bytes: Uint8Array) =>
      openRejoinRequest(
        bytes,
        (id) => (id === v.phoneId ? fromHex(v.phonePublicKey) : undefined),
        await signature(),
        { now: v.request.issuedAt },
      )

    it("signs to the vector and opens back", async () => {
      const bytes = await createRejoinRequest(request, fromHex(v.phoneSignKey), await signature())
      expect(toHex(bytes)).toBe(v.bytes)
      expect(await open(fromHex(v.bytes))).toEqual(request)
    })

    it("refuses the vector with its key package changed", async () => {
      const json = JSON.parse(fromUtf8(fromHex(v.bytes))) as { kp: string }
      const kp = json.kp
      json.kp = (kp[0] === "A" ? "B" : "A") + kp.slice(1)
      const tampered = new TextEncoder().encode(JSON.stringify(json))
      await expect(open(tampered)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" })
    })
  })

  describe("pairing vectors", () => {
    const v = pairingVectors
    for (const c of v.invites) {
      const invite: Invite = {
        ...c.invite,
        spaceId: c.invite.spaceId as SpaceId,
        hubDeviceId: c.invite.hubDeviceId as DeviceId,
        hubKey: fromHex(c.invite.hubKey),
        secret: fromHex(c.invite.secret),
        suite: c.invite.suite as Invite["suite"],
      }
      it(`invite, ${c.name}: encodes to the vector text and decodes back`, () => {
        expect(encodeInvite(invite)).toBe(c.text)
        expect(decodeInvite(c.text, invite.expiresAt)).toEqual(invite)
        expect(() => decodeInvite(c.text, invite.expiresAt + 1)).toThrow(
          expect.objectContaining({ code: "PAIRING_EXPIRED" }),
        )
      })
    }

    it("derives the vector room from the secret", async () => {
      expect(await pairingRoomId(fromHex(v.secret))).toBe(v.roomId)
    })

    it("makes the vector join request, which only the invite's secret verifies", async () => {
      const request = { deviceId: v.join.deviceId as DeviceId, keyPackage: fromHex(v.join.keyPackage) }
      expect(toHex(await createJoinRequest(fromHex(v.secret), request))).toBe(v.join.bytes)
      expect(await verifyJoinRequest(fromHex(v.secret), fromHex(v.join.bytes))).toEqual(request)
      await expect(verifyJoinRequest(flipped(v.secret), fromHex(v.join.bytes))).rejects.toMatchObject({
        code: "PAIRING_INVALID",
      })
    })
  })

  describe(`push payload vector (${aead.name})`, () => {
    const v = pushVector
    const open = async (payload: Uint8Array, secret = v.exporter.secret) =>
      openPushPayload(payload, {
        secret: fromHex(secret),
        groupId: fromHex(v.groupId),
        hubKey: fromHex(v.hubPublicKey),
        signature: await signature(),
        aead,
      })

    it("reads the vector text as the payload, names its epoch, opens it to its notice", async () => {
      expect(toHex(decodePushText(v.text))).toBe(v.payload)
      expect(encodePushText(fromHex(v.payload))).toBe(v.text)
      expect(pushPayloadEpoch(fromHex(v.payload))).toBe(BigInt(v.exporter.epoch))
      expect(await open(fromHex(v.payload))).toEqual(v.notice)
    })

    it("refuses the vector with a flipped byte, or under another epoch's key", async () => {
      await expect(open(flipped(v.payload))).rejects.toMatchObject({ code: "PUSH_TAMPERED" })
      await expect(open(fromHex(v.payload), toHex(flipped(v.exporter.secret)))).rejects.toMatchObject({
        code: "PUSH_TAMPERED",
      })
    })

    it("seals a notice of the vector's length that opens", async () => {
      const sealed = await sealPushPayload({
        notice: v.notice as PushNotice,
        epoch: BigInt(v.exporter.epoch),
        secret: fromHex(v.exporter.secret),
        groupId: fromHex(v.groupId),
        signKey: fromHex(v.hubSignKey),
        signature: await signature(),
        aead,
      })
      expect(sealed.length).toBe(fromHex(v.payload).length)
      expect(await open(sealed)).toEqual(v.notice)
    })
  })
}
