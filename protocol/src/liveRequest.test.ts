import { describe, expect, it } from "vitest"
import { randomBytes, toHex } from "./bytes.ts"
import { VigilError } from "./errors.ts"
import { openSignedHubMessage, signHubMessage, type LiveAnswer } from "./hubMessages.ts"
import type { CameraId, DeviceId, SpaceId } from "./ids.ts"
import { openLiveRequest, signLiveRequest, type LiveOffer } from "./liveRequest.ts"
import { loadSuite } from "./suite.ts"

const id = () => toHex(randomBytes(16))

async function keys() {
  const cs = await loadSuite()
  const pair = await cs.signature.keygen()
  return { cs, ...pair }
}

describe("live requests (phone → hub)", () => {
  it("round-trip: the hub verifies the phone's pinned key and the sender signal named", async () => {
    const { cs, publicKey, signKey } = await keys()
    const groupId = randomBytes(16)
    const phone = id() as DeviceId
    const offer: LiveOffer = {
      kind: "live-offer",
      sessionId: id(),
      deviceId: phone,
      sdp: "v=0\r\n",
      issuedAt: Date.now(),
    }
    const bytes = await signLiveRequest(offer, groupId, signKey, cs.signature)
    const opts = {
      groupId,
      from: phone,
      pinnedKey: () => publicKey,
      signature: cs.signature,
      now: Date.now(),
    }
    expect(await openLiveRequest(bytes, opts)).toEqual(offer)

    // Another sender, another key, another group, a flipped bit, a stale offer: all refused, typed.
    await expect(openLiveRequest(bytes, { ...opts, from: id() as DeviceId })).rejects.toThrow(VigilError)
    const other = await keys()
    await expect(openLiveRequest(bytes, { ...opts, pinnedKey: () => other.publicKey })).rejects.toThrow(
      /not signed by the paired device/,
    )
    await expect(openLiveRequest(bytes, { ...opts, pinnedKey: () => undefined })).rejects.toThrow(VigilError)
    await expect(openLiveRequest(bytes, { ...opts, groupId: randomBytes(16) })).rejects.toThrow(VigilError)
    const flipped = bytes.slice()
    flipped[flipped.length - 3]! ^= 1
    await expect(openLiveRequest(flipped, opts)).rejects.toThrow(VigilError)
    await expect(openLiveRequest(bytes, { ...opts, now: Date.now() + 120_000 })).rejects.toMatchObject({
      code: "REQUEST_STALE",
    })
    await expect(openLiveRequest(new Uint8Array([1, 0]), opts)).rejects.toThrow(VigilError)
  })
})

describe("live answers (hub → phone)", () => {
  it("round-trip as a signed hub message", async () => {
    const { cs, publicKey, signKey } = await keys()
    const groupId = randomBytes(16)
    const answer: LiveAnswer = {
      kind: "live-answer",
      spaceId: id() as SpaceId,
      to: id() as DeviceId,
      sessionId: id(),
      streamId: 0xfffffffe,
      epoch: "42",
      cameraId: "cam1" as CameraId,
      cameraName: "Front door",
      sdp: "v=0\r\n",
    }
    const bytes = await signHubMessage(answer, groupId, signKey, cs.signature)
    expect(await openSignedHubMessage(bytes, groupId, publicKey, cs.signature)).toEqual(answer)
    await expect(
      openSignedHubMessage(bytes, groupId, (await keys()).publicKey, cs.signature),
    ).rejects.toThrow(VigilError)
  })
})
