/**
 * Writes the vectors of the signed and sealed messages (signed envelope, hub messages, live requests,
 * device requests and roster, rejoin request, pairing invite and join request, push payload) from fixed
 * inputs: `npx tsx protocol/test/vectors/generateEnvelopes.ts`. Run it only when a wire format changes on
 * purpose (and change docs/03-wire-format.md with it); envelopeVectorSuite.ts checks that today's code
 * still produces and accepts exactly these bytes. Kept apart from generate.ts so that regenerating these
 * leaves the media and pairing-notice vectors alone.
 *
 * Ed25519 signatures are deterministic (RFC 8032), and the key pairs are derived from fixed seeds here, so
 * every file comes out the same on every run, except push-payload.json (AES-GCM under a random nonce).
 */
import { writeFileSync } from "node:fs"
import { fromBase64Url, fromHex, toBase64Url, toHex } from "../../src/bytes.ts"
import { bucketLength } from "../../src/lengthBuckets.ts"
import { signDeviceRequest, signDeviceRoster, type DeviceRequest, type DeviceRoster } from "../../src/deviceRoster.ts"
import { signHubMessage, type HubMessage } from "../../src/hubMessages.ts"
import type { BlobId, CameraId, ClipId, DeviceId, SpaceId } from "../../src/ids.ts"
import { signLiveRequest, type LiveRequest } from "../../src/liveRequest.ts"
import { createJoinRequest, encodeInvite, pairingRoomId, type Invite } from "../../src/pairing.ts"
import { encodePushText, sealPushPayload, type PushNotice } from "../../src/pushPayload.ts"
import { createRejoinRequest } from "../../src/rejoin.ts"
import { signEnvelope } from "../../src/signedEnvelope.ts"
import { loadSuite } from "../../src/suite.ts"

/** Deterministic filler: byte i = (i * 31 + seed) mod 251 (as in generate.ts). */
const filler = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251)
const hex = (n: number, seed: number) => toHex(filler(n, seed))

/** An Ed25519 key pair from a fixed seed: the PKCS#8 private key ts-mls signs with, and the raw public key. */
async function keyPair(seed: number): Promise<{ publicKey: string; signKey: string }> {
  const pkcs8 = new Uint8Array([...fromHex("302e020100300506032b657004220420"), ...filler(32, seed)])
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"])
  const jwk = await crypto.subtle.exportKey("jwk", key)
  return { publicKey: toHex(fromBase64Url(jwk.x!)), signKey: toHex(pkcs8) }
}

const { signature } = await loadSuite()
const hub = await keyPair(40)
const phone = await keyPair(41)
const groupId = filler(16, 42)
const spaceId = toHex(groupId) as SpaceId
const phoneId = hex(16, 43) as DeviceId
const otherPhoneId = hex(16, 44) as DeviceId
const issuedAt = 1_763_000_000_000
const dir = new URL("./", import.meta.url)
const write = (file: string, value: unknown) =>
  writeFileSync(new URL(file, dir), JSON.stringify({ version: 1, ...(value as object) }, null, 2) + "\n")
const keys = { groupId: toHex(groupId), hubPublicKey: hub.publicKey, hubSignKey: hub.signKey }
const phoneKeys = { phoneId, phonePublicKey: phone.publicKey, phoneSignKey: phone.signKey }

// signedEnvelope.ts: the layout itself, with and without the padding push notices use.
{
  const cases = []
  for (const c of [
    { name: "unpadded", label: "vigil hub message v1", value: { kind: "example", n: 1 }, padTo: undefined },
    { name: "padded to 512", label: "vigil push v1", value: { kind: "example", text: "é✓" }, padTo: 512 },
  ]) {
    const pad = c.padTo === undefined ? undefined : (n: number) => bucketLength(n, c.padTo!, c.padTo!)
    const envelope = await signEnvelope(c.label, groupId, c.value, fromHex(hub.signKey), signature, pad)
    cases.push({ ...c, envelope: toHex(envelope) })
  }
  write("signed-envelope.json", { ...keys, cases })
}

// hubMessages.ts: each kind of hub message.
{
  const clipId = hex(16, 50) as ClipId
  const messages: { name: string; message: HubMessage }[] = [
    {
      name: "clip announcement, every field",
      message: {
        kind: "clip",
        clipId,
        spaceId,
        blobId: hex(32, 51) as BlobId,
        size: 123_456,
        epoch: "17",
        cameraId: "front-door" as CameraId,
        cameraName: "Front door",
        label: "person",
        startedAt: issuedAt,
        endedAt: issuedAt + 12_000,
        mimeType: 'video/mp4; codecs="avc1.42E01E"',
        motionStartedAt: issuedAt - 500,
        thumbnail: { clipId: hex(16, 52), blobId: hex(32, 53), size: 4096 },
        detections: [
          { label: "person", className: "person", score: 0.875, box: { x: 0.25, y: 0.125, width: 0.5, height: 0.75 }, at: issuedAt + 1000 },
        ],
        seq: 7,
        recordHashes: toBase64Url(filler(64, 54)),
      },
    },
    {
      name: "clip announcement, required fields only",
      message: {
        kind: "clip",
        clipId,
        spaceId,
        blobId: hex(32, 55) as BlobId,
        size: 0,
        epoch: "0",
        cameraId: "cam" as CameraId,
        cameraName: "Garage",
        label: "motion",
        startedAt: 0,
        endedAt: 0,
        mimeType: "",
      },
    },
    {
      name: "sighting",
      message: {
        kind: "sighting",
        spaceId,
        epoch: "18",
        cameraId: "front-door" as CameraId,
        cameraName: "Front door",
        label: "pet",
        score: 0.5,
        at: issuedAt + 2000,
        motionStartedAt: issuedAt,
        thumbnail: { clipId: hex(16, 56), blobId: hex(32, 57), size: 2048 },
        seq: 8,
      },
    },
    {
      name: "live answer",
      message: {
        kind: "live-answer",
        spaceId,
        to: phoneId,
        sessionId: hex(16, 58),
        streamId: 0xfffffffe,
        epoch: "19",
        cameraId: "front-door" as CameraId,
        cameraName: "Front door",
        sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n",
      },
    },
    {
      name: "live refused",
      message: { kind: "live-refused", spaceId, to: phoneId, sessionId: hex(16, 59), reason: "too many viewers" },
    },
  ]
  const cases = []
  for (const m of messages) {
    cases.push({ ...m, bytes: toHex(await signHubMessage(m.message, groupId, fromHex(hub.signKey), signature)) })
  }
  write("hub-messages.json", { ...keys, cases })
}

// liveRequest.ts: a phone's live offer (with and without a camera) and close.
{
  const requests: { name: string; request: LiveRequest }[] = [
    {
      name: "offer for a camera",
      request: {
        kind: "live-offer",
        sessionId: hex(16, 60),
        deviceId: phoneId,
        cameraId: "front-door" as CameraId,
        sdp: "v=0\r\no=- 3 4 IN IP4 0.0.0.0\r\ns=-\r\n",
        issuedAt,
      },
    },
    {
      name: "offer for the first camera",
      request: { kind: "live-offer", sessionId: hex(16, 61), deviceId: phoneId, sdp: "v=0\r\n", issuedAt },
    },
    { name: "close", request: { kind: "live-close", sessionId: hex(16, 60), deviceId: phoneId } },
  ]
  const cases = []
  for (const r of requests) {
    cases.push({ ...r, bytes: toHex(await signLiveRequest(r.request, groupId, fromHex(phone.signKey), signature)) })
  }
  write("live-request.json", { groupId: keys.groupId, ...phoneKeys, cases })
}

// deviceRoster.ts: each device request a phone signs, and the roster the hub signs.
{
  const requests: { name: string; request: DeviceRequest }[] = [
    { name: "remove", request: { kind: "device-remove", deviceId: phoneId, target: otherPhoneId, issuedAt } },
    { name: "roster request", request: { kind: "device-roster-request", deviceId: phoneId, issuedAt } },
    {
      name: "rename camera",
      request: { kind: "rename-camera", deviceId: phoneId, cameraId: "front-door" as CameraId, name: "Porte d'entrée", issuedAt },
    },
    { name: "pairing open", request: { kind: "pairing-open", deviceId: phoneId, roomId: hex(32, 62), issuedAt } },
  ]
  const requestCases = []
  for (const r of requests) {
    requestCases.push({ ...r, bytes: toHex(await signDeviceRequest(r.request, groupId, fromHex(phone.signKey), signature)) })
  }
  const roster: DeviceRoster = {
    kind: "device-roster",
    spaceId,
    epoch: "20",
    devices: [
      { deviceId: phoneId, name: "Anna's phone", pairedAt: issuedAt - 86_400_000 },
      { deviceId: otherPhoneId, pairedAt: issuedAt },
    ],
    cameras: [
      { id: "front-door" as CameraId, name: "Front door" },
      { id: "garage" as CameraId, name: "Garage" },
    ],
  }
  write("device-roster.json", {
    ...keys,
    ...phoneKeys,
    requests: requestCases,
    roster: { value: roster, bytes: toHex(await signDeviceRoster(roster, groupId, fromHex(hub.signKey), signature)) },
  })
}

// rejoin.ts: a phone's signed request to be added again (its KeyPackage is opaque here).
{
  const request = { deviceId: phoneId, spaceId, keyPackage: filler(300, 63), issuedAt }
  const bytes = await createRejoinRequest(request, fromHex(phone.signKey), signature)
  write("rejoin.json", {
    ...phoneKeys,
    request: { ...request, keyPackage: toHex(request.keyPackage) },
    bytes: toHex(bytes),
  })
}

// pairing.ts: invites (default suite, X-Wing suite), the room and the join request they lead to.
{
  const secret = filler(32, 64)
  const base = {
    signal: "https://relay.example",
    spaceId,
    hubDeviceId: hex(16, 65) as DeviceId,
    hubName: "Maison",
    hubKey: fromHex(hub.publicKey),
    secret,
    expiresAt: issuedAt + 600_000,
  }
  const invites: { name: string; invite: Invite }[] = [
    { name: "default suite", invite: { ...base, suite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" } },
    { name: "X-Wing suite", invite: { ...base, hubName: "Chalet ✓", suite: "MLS_256_XWING_AES256GCM_SHA512_Ed25519" } },
  ]
  const keyPackage = filler(200, 66)
  write("pairing.json", {
    invites: invites.map(({ name, invite }) => ({
      name,
      invite: { ...invite, hubKey: toHex(invite.hubKey), secret: toHex(invite.secret) },
      text: encodeInvite(invite),
    })),
    secret: toHex(secret),
    roomId: await pairingRoomId(secret),
    join: {
      deviceId: phoneId,
      keyPackage: toHex(keyPackage),
      bytes: toHex(await createJoinRequest(secret, { deviceId: phoneId, keyPackage })),
    },
  })
}

// pushPayload.ts: a sealed push payload. Its nonce is random, so this vector checks opening (and refusing)
// exact bytes and the text form; sealing is checked by round trip.
{
  const notice: PushNotice = {
    kind: "clip",
    spaceId,
    clipId: hex(16, 67) as ClipId,
    cameraId: "front-door" as CameraId,
    cameraName: "Front door",
    label: "vehicle",
    startedAt: issuedAt,
    thumbnail: { clipId: hex(16, 68), blobId: hex(32, 69), size: 3000 },
  }
  const exporter = { epoch: "21", secret: hex(16, 70) }
  const payload = await sealPushPayload({
    notice,
    epoch: BigInt(exporter.epoch),
    secret: fromHex(exporter.secret),
    groupId,
    signKey: fromHex(hub.signKey),
    signature,
  })
  write("push-payload.json", { ...keys, exporter, notice, payload: toHex(payload), text: encodePushText(payload) })
}
